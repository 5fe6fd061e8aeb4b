import { CliError, EXIT } from './errors.js';

let piped: Promise<string[]> | undefined;

/** All of stdin (not a terminal), split into lines, read once and shared by every question. */
function pipedLines(): Promise<string[]> {
  piped ??= new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8').split(/\r?\n/)));
    process.stdin.on('error', reject);
  });
  return piped;
}

let pipedIndex = 0;

/** The next line of piped stdin; a missing line is a usage error (exit 2). */
async function nextPipedLine(what: string): Promise<string> {
  const lines = await pipedLines();
  const line = lines[pipedIndex++];
  if (line === undefined || (line === '' && pipedIndex >= lines.length)) throw new CliError(`expected ${what} on stdin, found nothing`, undefined, EXIT.usage);
  return line;
}

export function stdinIsTerminal(): boolean {
  return process.stdin.isTTY === true;
}

/**
 * Asks on the terminal (the question on stderr). With `secret` nothing is echoed: the terminal is put in raw
 * mode and the typed characters are never written back. When stdin is not a terminal the answer is the next
 * line of stdin, so scripts and tests can pipe it (`printf '%s\n' "$PASSWORD" | apptoken login --username x`).
 */
export async function ask(question: string, options: { secret?: boolean } = {}): Promise<string> {
  if (!stdinIsTerminal()) return nextPipedLine(options.secret ? 'a password' : 'an answer');
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let answer = '';
    const wasRaw = stdin.isRaw;
    // Echo off before the question shows: typed ahead of it (or typed as soon as it shows), a password was
    // echoed by the terminal in the moment between the two (the pseudo-terminal spec saw it under load).
    stdin.setRawMode(true);
    process.stderr.write(question);
    stdin.resume();
    stdin.setEncoding('utf8');
    const finish = (error?: Error) => {
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (text: string) => {
      for (const char of text) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish();
        if (char === '\u0003') return finish(new CliError('cancelled', undefined, 130));
        if (char === '\u007f' || char === '\b') {
          if (answer.length > 0) {
            answer = answer.slice(0, -1);
            if (!options.secret) process.stderr.write('\b \b');
          }
          continue;
        }
        if (char < ' ') continue;
        answer += char;
        if (!options.secret) process.stderr.write(char);
      }
    };
    stdin.on('data', onData);
  });
}

/** A secret read from stdin (`--password-stdin`): its first line, without the line end. */
export async function readSecretFromStdin(what: string): Promise<string> {
  if (stdinIsTerminal()) return ask(`${what}: `, { secret: true });
  return nextPipedLine(what);
}
