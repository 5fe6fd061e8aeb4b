// Floor: bare node:http answering {"ok":true}, the least Node does for a request here.
import http from 'node:http';

const body = '{"ok":true}';
http
  .createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  })
  .listen(0, '127.0.0.1', function () {
    process.stdout.write(`port ${this.address().port}\n`);
  });
