# The PSU app-token flows from PowerShell 7 (or Windows PowerShell 5.1): sign in, grant, call a custom
# endpoint through the gateway, revoke, migrate. The same commands work against PowerShell Universal.
#
#   ./flow.ps1 -BaseUrl http://localhost:5000 -GatewayUrl http://localhost:8080 -Credential (Get-Credential admin)
param(
    [string] $BaseUrl = 'http://localhost:5000',
    [string] $GatewayUrl = 'http://localhost:8080',
    [Parameter(Mandatory)] [pscredential] $Credential,
    # A token minted by PSU (or another instance) with this server's signing key, to migrate.
    [string] $TokenToMigrate
)
$ErrorActionPreference = 'Stop'

# Creates something unless it exists already (409), so the script can be run again.
function Invoke-Create([string] $Uri, [hashtable] $Body) {
    try {
        Invoke-RestMethod $Uri -Method POST -WebSession $Session -ContentType 'application/json' -Body ($Body | ConvertTo-Json)
    } catch {
        if ($_.Exception.Response.StatusCode.value__ -ne 409) { throw }
    }
}

# 1. Sign in; the session rides in $Session, as on PSU's page.
Invoke-RestMethod "$BaseUrl/api/v1/signin" -Method POST -ContentType 'application/json' -SessionVariable Session -Body (@{
        UserName = $Credential.UserName
        Password = $Credential.GetNetworkCredential().Password
    } | ConvertTo-Json)

# 2. Grant yourself a token (all your roles, one year) ...
$mine = Invoke-RestMethod "$BaseUrl/api/v1/apptoken/grant" -WebSession $Session
$mine | Format-List id, role, expiration

# ... or a subset, with a lifetime and a description.
Invoke-RestMethod "$BaseUrl/api/v1/apptoken/grant?role=Reader&lifespanDays=30&description=reports" -WebSession $Session

# 3. A custom role, a service identity holding it, and an endpoint rule (as New-PSUEndpoint names it).
Invoke-Create "$BaseUrl/api/v1/role" @{ Name = 'Payroll'; Description = 'Calls the payroll API' }
Invoke-Create "$BaseUrl/api/v1/identity" @{ Name = 'payroll-bot'; Source = 'service'; Role = 'Payroll' }
Invoke-Create "$BaseUrl/api/v1/endpoint" @{ Url = '/payroll/*'; Method = 'GET'; Authentication = $true; Role = 'Payroll' }
$bot = Invoke-RestMethod "$BaseUrl/api/v1/identity?search=payroll-bot" -WebSession $Session | Where-Object name -eq 'payroll-bot'

# 4. Grant the identity a token, as an Administrator (PSU: .../apptoken/grant/2).
$granted = Invoke-RestMethod "$BaseUrl/api/v1/apptoken/grant/$($bot.id)" -WebSession $Session

# 5. Call the protected service through the gateway with it.
Invoke-RestMethod "$GatewayUrl/payroll/2026/11" -Headers @{ Authorization = "Bearer $($granted.token)" }

# 6. Revoke it: the next call through the gateway is refused (401).
Invoke-RestMethod "$BaseUrl/api/v1/apptoken/$($granted.id)/revoke" -Method POST -WebSession $Session
try { Invoke-RestMethod "$GatewayUrl/payroll/2026/11" -Headers @{ Authorization = "Bearer $($granted.token)" } }
catch { "after revoking: $($_.Exception.Response.StatusCode.value__)" }

# 7. Migrate a token, exactly as PSU's page shows (an Administrator token in the Authorization header).
if ($TokenToMigrate) {
    Invoke-RestMethod "$BaseUrl/api/v1/apptoken" -Method POST -Body (@{
            Token      = $TokenToMigrate
            Identity   = @{ Name = 'payroll-bot' }
            Role       = 'Payroll'
            Expiration = (Get-Date).AddMonths(6)
        } | ConvertTo-Json) -Headers @{
        'Content-Type'  = 'application/json'
        'Authorization' = "Bearer $($mine.token)"
    }
}

# 8. Sign out.
Invoke-RestMethod "$BaseUrl/api/v1/signout" -Method POST -WebSession $Session
