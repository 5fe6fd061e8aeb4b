// A sign-in flood in its own process (so it takes no time from the server's or the prober's event loop):
// autocannon POSTs wrong passwords for many user names, each from one of `addresses` client addresses
// (X-Forwarded-For, which the server believes from loopback only when TRUST_PROXY says so).
// At most `rate` requests a second: this client shares the machine's cores with the server and PostgreSQL,
// where a real attacker's client would not; unbounded, the flood measures its own CPU use more than the server.
// Usage: node signin-flood.mjs '{"url":"http://127.0.0.1:1234","seconds":5,"connections":20,"rate":500,"users":5000,"addresses":4}'
// Prints one JSON line: the request count and the count per status code.
import autocannon from 'autocannon';

const { url, seconds, connections, rate, users, addresses } = JSON.parse(process.argv[2]);
let n = 0;
const result = await autocannon({
  url: `${url}/api/v1/signin`,
  connections,
  overallRate: rate,
  duration: seconds,
  requests: [
    {
      method: 'POST',
      setupRequest: (request) => {
        n++;
        return {
          ...request,
          headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${n % addresses}` },
          body: JSON.stringify({ username: `flood-user-${n % users}`, password: `wrong-password-${n}` }),
        };
      },
    },
  ],
});
process.stdout.write(
  `${JSON.stringify({ requests: result.requests.total, statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])), errors: result.errors, timeouts: result.timeouts, latencyP99: result.latency.p99 })}\n`,
);
