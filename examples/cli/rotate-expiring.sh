#!/usr/bin/env bash
# Rotates every app token that expires within DAYS days (default 14), with the apptoken CLI and jq.
# Each new token is written to OUT_DIR/<new id>.token (mode 0600) for whoever hands it to its consumer; the old
# one keeps working GRACE seconds (default 3600) so the consumer can switch without a failed call.
#
#   export APPTOKEN_URL=http://localhost:5000
#   apptoken login -u admin            # or: export APPTOKEN_TOKEN=<an Administrator's app token>
#   DAYS=14 ./rotate-expiring.sh       # DRY_RUN=1 only lists what it would rotate; IDENTITY=name only its tokens
#
# In a checkout, APPTOKEN="node bin/apptoken.mjs" runs the CLI without installing it (after npm run build).
set -euo pipefail

DAYS=${DAYS:-14}
GRACE=${GRACE:-3600}
OUT_DIR=${OUT_DIR:-./rotated-tokens}
read -r -a apptoken <<<"${APPTOKEN:-apptoken}"

# Expiring soon and not revoked, every page, as JSON. A token already rotated with a grace period has its
# revokedDate set (in the future) and is left alone: its successor exists.
filter=(--expiring "$DAYS" --no-revoked)
[[ -n ${IDENTITY:-} ]] && filter+=(--identity "$IDENTITY")
expiring=$("${apptoken[@]}" token list "${filter[@]}" --json | jq 'map(select(.revokedDate == null))')
count=$(jq 'length' <<<"$expiring")
echo "$count token(s) expire within $DAYS days${IDENTITY:+ (identity $IDENTITY)}" >&2
[[ $count == 0 ]] && exit 0
jq -r '.[] | "  \(.id)\t\(.identity.name)\t\(.expiration)\t\(.description)"' <<<"$expiring" >&2
[[ ${DRY_RUN:-0} == 1 ]] && exit 0

mkdir -p "$OUT_DIR"
chmod 700 "$OUT_DIR"
failed=0
for id in $(jq -r '.[].id' <<<"$expiring"); do
  if rotated=$("${apptoken[@]}" token rotate "$id" --grace "$GRACE" --json); then
    new_id=$(jq -r '.id' <<<"$rotated")
    (umask 077 && jq -r '.token' <<<"$rotated" >"$OUT_DIR/$new_id.token")
    # The values stay in the files: stdout gets only which token replaced which.
    printf '%s\t%s\t%s\n' "$id" "$new_id" "$(jq -r '.identity.name' <<<"$rotated")"
  else
    failed=$((failed + 1))
  fi
done
[[ $failed == 0 ]] || { echo "$failed rotation(s) failed (see above)" >&2; exit 1; }
