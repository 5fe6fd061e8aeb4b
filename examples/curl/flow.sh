#!/usr/bin/env bash
# The PSU app-token flows with curl and jq: sign in, grant, call a custom endpoint through the gateway,
# revoke, migrate. Run against a server (and the nginx gateway of docker-compose.yml or deploy/nginx):
#
#   BASE_URL=http://localhost:5000 GATEWAY_URL=http://localhost:8080 ADMIN_PASSWORD='...' ./flow.sh
#
# Set SIGNING_KEY to the server's JWT_SIGNING_KEY to also mint a token the way PSU does and migrate it
# (on the embedded default, the generated key is in ./data/signing-key: SIGNING_KEY="$(cat data/signing-key)").
set -euo pipefail

BASE_URL=${BASE_URL:-http://localhost:5000}
GATEWAY_URL=${GATEWAY_URL:-http://localhost:8080}
ADMIN_USERNAME=${ADMIN_USERNAME:-admin}
: "${ADMIN_PASSWORD:?set ADMIN_PASSWORD to the administrator password}"

jar=$(mktemp)
trap 'rm -f "$jar"' EXIT
api() { curl -fsS -b "$jar" -H 'content-type: application/json' "$@"; }
# Creates something, or leaves it be when it already exists (409).
ensure() {
  local status
  status=$(curl -sS -o /dev/null -w '%{http_code}' -b "$jar" -H 'content-type: application/json' "$@")
  [[ $status == 201 || $status == 409 ]] || { echo "unexpected $status from $*" >&2; exit 1; }
}
step() { printf '\n== %s\n' "$*"; }

step "1. Sign in (the session cookie goes in a cookie jar, like -SessionVariable)"
curl -fsS -c "$jar" -H 'content-type: application/json' \
  -d "$(jq -n --arg u "$ADMIN_USERNAME" --arg p "$ADMIN_PASSWORD" '{UserName: $u, Password: $p}')" \
  "$BASE_URL/api/v1/signin" | jq '{name, role}'

step "2. Grant yourself a token (GET /api/v1/apptoken/grant)"
mine=$(api "$BASE_URL/api/v1/apptoken/grant?lifespanDays=1&description=curl%20example")
jq '{id, role, expiration}' <<<"$mine"

step "3. A custom role, a service identity holding it, and an endpoint rule for the gateway"
ensure -d '{"name":"Payroll","description":"Calls the payroll API"}' "$BASE_URL/api/v1/role"
ensure -d '{"name":"payroll-bot","source":"service","roles":["Payroll"]}' "$BASE_URL/api/v1/identity"
bot_id=$(api "$BASE_URL/api/v1/identity?search=payroll-bot" | jq -r '.[] | select(.name == "payroll-bot") | .id')
ensure -d '{"url":"/payroll/*","method":["GET"],"authentication":true,"role":["Payroll"]}' "$BASE_URL/api/v1/endpoint"
api "$BASE_URL/api/v1/endpoint" | jq -c '.[]'

step "4. Grant the identity a token (GET /api/v1/apptoken/grant/$bot_id)"
granted=$(api "$BASE_URL/api/v1/apptoken/grant/$bot_id?description=curl%20example")
token=$(jq -r .token <<<"$granted")
token_id=$(jq -r .id <<<"$granted")
jq '{id, identity: .identity.name, role}' <<<"$granted"

step "5. Call the protected service through the gateway"
curl -fsS -H "Authorization: Bearer $token" "$GATEWAY_URL/payroll/2026/11" | jq .
echo "without a token: $(curl -s -o /dev/null -w '%{http_code}' "$GATEWAY_URL/payroll/2026/11")"

step "6. Revoke it; the gateway refuses it on the next request"
api -X POST "$BASE_URL/api/v1/apptoken/$token_id/revoke" | jq '{id, revoked, revokedDate}'
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$GATEWAY_URL/payroll/2026/11")
echo "after revoking: $status"
[[ $status == 401 ]] || { echo "expected 401 after revocation" >&2; exit 1; }

step "7. Migrate a token minted elsewhere (PSU or another instance with the same key)"
if [[ -n ${SIGNING_KEY:-} ]]; then
  b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
  now=$(date +%s)
  header=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)
  payload=$(jq -cn --arg hash "$(cat /proc/sys/kernel/random/uuid)" --argjson nbf "$now" --argjson exp $((now + 86400)) '{
      "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": "payroll-bot",
      "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/hash": $hash,
      "sub": "PowerShellUniversal",
      "http://schemas.microsoft.com/ws/2008/06/identity/claims/role": "Payroll",
      "nbf": $nbf, "exp": $exp, "iss": "IronmanSoftware", "aud": "PowerShellUniversal"}' | tr -d '\n' | b64url)
  signature=$(printf '%s' "$header.$payload" | openssl dgst -sha256 -hmac "$SIGNING_KEY" -binary | b64url)
  psu_token="$header.$payload.$signature"
  api -d "$(jq -n --arg t "$psu_token" '{Token: $t, Identity: {Name: "payroll-bot"}, Role: "Payroll"}')" \
    "$BASE_URL/api/v1/apptoken" | jq '{id, identity: .identity.name, role, expiration}'
  curl -fsS -H "Authorization: Bearer $psu_token" "$GATEWAY_URL/payroll/2026/11" | jq -c .identity
else
  echo "(set SIGNING_KEY to mint a PSU-format token and migrate it)"
fi

step "8. Sign out"
api -X POST "$BASE_URL/api/v1/signout" -o /dev/null -w 'signed out: %{http_code}\n'
