// A stand-in for your own service behind the gateway: it answers with what it was told about the caller.
// It reads the path as given (node:http does not normalise it), as many upstreams do.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 3000);

const server = createServer((request, response) => {
  const body = JSON.stringify({
    method: request.method,
    url: request.url,
    identity: {
      name: request.headers['x-identity-name'] ? decodeURIComponent(request.headers['x-identity-name']) : null,
      id: request.headers['x-identity-id'] ?? null,
      roles: request.headers['x-identity-roles'] ? decodeURIComponent(request.headers['x-identity-roles']).split(', ') : [],
    },
    authorization: request.headers.authorization ?? null,
    methodOverride: request.headers['x-http-method-override'] ?? request.headers['x-http-method'] ?? request.headers['x-method-override'] ?? null,
    // Headers by which some frameworks take the path from the client: the gateway must not pass them on.
    rewriteHeaders: ['x-original-url', 'x-rewrite-url', 'x-original-uri', 'x-forwarded-uri', 'x-forwarded-prefix'].filter((name) => name in request.headers),
  });
  response.writeHead(200, { 'content-type': 'application/json' }).end(body);
});
server.listen(port, () => process.stdout.write(`example upstream on port ${server.address().port}\n`));
