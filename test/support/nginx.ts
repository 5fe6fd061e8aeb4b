import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';

export const haveNginx = spawnSync('sh', ['-c', 'command -v nginx']).status === 0;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A shipped template from deploy/nginx/templates, with the variables the nginx Docker image would substitute. */
export async function renderTemplate(file: string, variables: Record<string, string>): Promise<string> {
  const template = await readFile(path.join('deploy/nginx/templates', file), 'utf8');
  return template.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => variables[name] ?? whole);
}

export interface RunningNginx {
  child: ChildProcess;
  output(): string;
  stop(): void;
}

/**
 * Debian's nginx in the foreground, with its files under `dir`: `includes` are the rendered server and
 * upstream blocks (the Docker image includes them in its http block the same way); `http` adds directives.
 */
export async function startNginx(dir: string, includes: Record<string, string>, listenPorts: number[], http: string[] = []): Promise<RunningNginx> {
  for (const [name, text] of Object.entries(includes)) await writeFile(path.join(dir, name), text);
  await writeFile(
    path.join(dir, 'nginx.conf'),
    [
      process.getuid?.() === 0 ? 'user root;' : '',
      'daemon off;',
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 256; }',
      'http {',
      ...http.map((line) => `  ${line}`),
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${dir}/${kind};`),
      ...Object.keys(includes).map((name) => `  include ${dir}/${name};`),
      '}',
    ].join('\n'),
  );
  let output = '';
  const child = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  for (const port of listenPorts) {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${output}`);
      if (i === 100) throw new Error(`nginx does not listen on ${port}: ${output}`);
      try {
        await fetch(`http://127.0.0.1:${port}/_nothing_here`);
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
  return { child, output: () => output, stop: () => child.kill('SIGQUIT') };
}

/** Starts deploy/example-upstream on a free port; resolves with its port. */
export async function startExampleUpstream(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['deploy/example-upstream/server.mjs'], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /port (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`example upstream exited ${code}`)));
  });
  return { child, port };
}
