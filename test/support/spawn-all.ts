import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

// `npm start`'s entry (`quant-engine all`) as a real process on an embedded SQLite file, its stdout and stderr
// collected into one text.

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningAll {
  child: ChildProcess;
  output(): string;
  /** Waits for a line matching the pattern; fails at once if the process exited first. */
  waitForOutput(what: string, pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM and the exit code. */
  stop(): Promise<number | null>;
}

export function spawnAll(sqlitePath: string, env: NodeJS.ProcessEnv = {}): RunningAll {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, QE_SQLITE_PATH: sqlitePath, QE_DASHBOARD_PORT: '0', QE_SIGNAL_PERIOD_MS: '500' };
  delete childEnv.REDIS_URL; // the embedded default, as on a fresh machine
  delete childEnv.TELEGRAM_BOT_TOKEN;
  delete childEnv.QE_SIM_PORT;
  Object.assign(childEnv, env);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'all'], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  return {
    child,
    output: () => out,
    waitForOutput: (what, pattern, timeoutMs = 60_000) =>
      waitFor(
        what,
        () => {
          const match = pattern.exec(out);
          if (match) return match;
          if (child.exitCode !== null || child.signalCode !== null) throw new Error(`quant-engine all exited early (waiting for ${what}):\n${out}`);
          return undefined;
        },
        timeoutMs,
      ),
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}
