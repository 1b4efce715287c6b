import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildService {
  child: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `quant-engine execution` as a real child process and resolves once it reports ready. */
export async function spawnExecution(args: {
  redisUrl: string;
  prefix: string;
  restBaseUrl: string;
  wsBaseUrl: string;
  extra?: string[];
  env?: Record<string, string>;
}): Promise<ChildService> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/main.ts',
      'execution',
      '--redis-url',
      args.redisUrl,
      '--redis-prefix',
      args.prefix,
      '--exchange-url',
      args.restBaseUrl,
      '--exchange-ws-url',
      args.wsBaseUrl,
      '--reclaim-idle-ms',
      '500',
      '--watchdog-period-ms',
      '200',
      ...(args.extra ?? []),
    ],
    { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn', ...args.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`execution did not become ready:\n${out}`)), 60_000);
    const check = (): void => {
      if (out.includes('"ready":true')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`execution exited with ${code} before ready:\n${out}`));
    });
  });
  return {
    child,
    output: () => out,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}
