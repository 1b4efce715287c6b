import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient } from './helpers.js';

// Issue 16: `simulator --state PATH` keeps the key pair it generated at its first start in that file, so a
// restarted simulator prints and accepts the same pair (a client configured once keeps working).

const mainPath = fileURLToPath(new URL('../../src/paper-exchange/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qe-sim-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bound on a CLI's start (tsx compiles on the fly; the machine is shared). */
const cliStartTimeoutMs = 30_000;

interface Started {
  restUrl: string;
  apiKey: string;
  apiSecret: string;
  stop(): Promise<void>;
}

/** Starts the CLI, reads the URL and the printed pair, and stops it with SIGTERM (as an operator would). */
async function startCli(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', mainPath, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  try {
    const printed = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no key pair printed: ${out}`)), cliStartTimeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /REST (http:\/\/\S+)[\s\S]*API key +(\w+)[^\n]*\nAPI secret +(\w+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      });
    });
    return {
      restUrl: printed[1] ?? '',
      apiKey: printed[2] ?? '',
      apiSecret: printed[3] ?? '',
      stop: async () => {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

describe('simulator --state keeps its generated key pair', () => {
  it('a restart on the same state file prints and accepts the pair of the first start; another file gets another pair', async () => {
    const statePath = join(dir, 'paper.sqlite');
    const first = await startCli(['--state', statePath]);
    await first.stop();
    const second = await startCli(['--state', statePath]);
    try {
      expect({ apiKey: second.apiKey, apiSecret: second.apiSecret }).toEqual({ apiKey: first.apiKey, apiSecret: first.apiSecret });
      const accepted = await apiClient(second.restUrl, first.apiKey, first.apiSecret).signed('GET', '/fapi/v3/balance');
      expect(accepted.status).toBe(200);
      const wrongSecret = await apiClient(second.restUrl, first.apiKey, 'not-the-secret').signed('GET', '/fapi/v3/balance');
      expect(wrongSecret.status).toBe(400);
    } finally {
      await second.stop();
    }
    const other = await startCli(['--state', join(dir, 'other.sqlite')]);
    await other.stop();
    expect(other.apiKey).not.toBe(first.apiKey);
  });
});
