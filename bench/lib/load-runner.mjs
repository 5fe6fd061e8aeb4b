// The load generator in a process of its own (forked by bench/lib/load.mjs), so autocannon's work never shares
// an event loop or a CPU account with what is measured. Takes jobs over IPC, one at a time, answers each with
// autocannon's figures (or an error).
//
// A job with `tokens: { file, offset }` presents each token of that file (one a line) at most once, from
// `offset` on, as `Authorization: Bearer`: every request a token the server has not seen. It stops the load
// before the list runs out and reports how many tokens it took.
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';

const tokenFiles = new Map();

function tokensOf(file) {
  if (!tokenFiles.has(file)) tokenFiles.set(file, readFileSync(file, 'utf8').split('\n').filter(Boolean));
  return tokenFiles.get(file);
}

function run(job) {
  return new Promise((resolve, reject) => {
    const options = {
      url: job.url,
      connections: job.connections,
      method: job.method ?? 'GET',
      headers: job.headers ?? {},
      body: job.body,
      timeout: 10,
    };
    if (job.amount) options.amount = job.amount;
    else options.duration = job.seconds;
    let next = 0;
    let stopped = false;
    let tokens;
    let instance;
    if (job.tokens) {
      tokens = tokensOf(job.tokens.file);
      next = job.tokens.offset;
      const reserve = job.connections * 4;
      const last = Math.min(tokens.length, job.tokens.offset + (job.tokens.limit ?? Infinity));
      if (last - next <= reserve) return reject(new Error(`only ${last - next} unused tokens left`));
      options.requests = [
        {
          setupRequest: (request) => {
            if (next >= last) throw new Error('token list exhausted');
            if (!stopped && last - next <= reserve) {
              stopped = true;
              setTimeout(() => instance?.stop(), 0);
            }
            const token = tokens[next++];
            return { ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } };
          },
        },
      ];
    }
    const started = performance.now();
    instance = autocannon(options, (error, result) => {
      if (error) return reject(error);
      resolve({
        seconds: (performance.now() - started) / 1000,
        '2xx': result['2xx'],
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        statusCodeStats: result.statusCodeStats,
        latency: { p50: result.latency.p50, p99: result.latency.p99 },
        sent: result.requests.sent,
        tokensUsed: job.tokens ? next - job.tokens.offset : undefined,
        stoppedEarly: stopped,
      });
    });
  });
}

process.on('message', async (job) => {
  try {
    process.send({ id: job.id, result: await run(job) });
  } catch (error) {
    process.send({ id: job.id, error: error instanceof Error ? error.message : String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
