// Floor for sign-ins: bare node:http verifying POSTed passwords against ARGON2_HASH (the admin's stored hash,
// so the same argon2id parameters) with @node-rs/argon2, at most as many at once as the app hashes
// (HASHING_CONCURRENCY, from the built app), answering 200 on a match.
import { verify } from '@node-rs/argon2';
import http from 'node:http';
import { ConcurrencyLimit } from '../../dist/common/concurrency-limit.js';
import { HASHING_CONCURRENCY, HASHING_QUEUE } from '../../dist/auth/password.service.js';

const hash = process.env.ARGON2_HASH;
if (!hash) throw new Error('ARGON2_HASH is required');
const limit = new ConcurrencyLimit(HASHING_CONCURRENCY, HASHING_QUEUE);

http
  .createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', async () => {
      try {
        const { password } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const ok = await limit.run(() => verify(hash, password));
        const body = JSON.stringify({ ok });
        response.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      } catch (error) {
        response.writeHead(500).end(String(error));
      }
    });
  })
  .listen(0, '127.0.0.1', function () {
    process.stdout.write(`port ${this.address().port} (hashing concurrency ${HASHING_CONCURRENCY})\n`);
  });
