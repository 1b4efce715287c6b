import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('untilSignal', () => {
  it('finishes the clean stop when a second SIGTERM comes during it, instead of dying by the signal', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/until-signal-child.ts'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = once(child, 'exit');
    await waitFor('the waiting line', () => out.includes('waiting'), 30_000);
    child.kill('SIGTERM');
    await waitFor('the stopping line', () => out.includes('stopping (SIGTERM)'), 30_000);
    child.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(out).toContain('SIGTERM again: already stopping');
    expect(out).toContain('stopped');
  });
});
