#!/usr/bin/env node
// The `apptoken` command: runs the compiled CLI (dist/cli/main.js). In a checkout: npm ci && npm run build, then npx apptoken.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(`apptoken: ${fileURLToPath(main)} is missing: run "npm run build" first (in ${fileURLToPath(new URL('..', import.meta.url))})\n`);
  process.exit(1);
}
// `apptoken token list | head`: the reader went away; stop quietly rather than with a stack trace.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
