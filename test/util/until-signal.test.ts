import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The child (test/support/until-signal-child.ts), its output so far, and its exit. */
function startChild(env: Record<string, string> = {}): { child: ReturnType<typeof spawn>; out: () => string; exited: Promise<unknown[]> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/until-signal-child.ts'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  return { child, out: () => out, exited: once(child, 'exit') };
}

describe('a service stopped by a signal (listenForStop)', () => {
  it('finishes the clean stop when a second SIGTERM comes during it, instead of dying by the signal', { timeout: 60_000 }, async () => {
    const { child, out, exited } = startChild();
    await waitFor('the waiting line', () => out().includes('waiting'), 30_000);
    child.kill('SIGTERM');
    await waitFor('the stopping line', () => out().includes('stopping (SIGTERM)'), 30_000);
    child.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(out()).toContain('SIGTERM again: already stopping');
    expect(out()).toContain('stopped');
  });

  it('stops cleanly once set up when the SIGTERM comes during its setup, instead of dying by the signal', { timeout: 60_000 }, async () => {
    // Listening only once set up, a service died by Node's default on a signal during its setup (a Ctrl-C while it
    // starts), and a test's SIGTERM on its "ready" line could land before the listener too (a pipe's write is
    // synchronous on Linux): a CI run timed out waiting for the stopping line, the child already dead.
    const { child, out, exited } = startChild({ SETUP_MS: '1500' });
    await waitFor('the setting-up line', () => out().includes('setting up'), 30_000);
    child.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(out()).toMatch(/waiting\nstopping \(SIGTERM\)\nstopped\n/);
  });
});
