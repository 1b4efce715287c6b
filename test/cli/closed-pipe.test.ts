import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// A one-shot command piped into a reader that stops early (`quant-engine cli status | head -2`) got EPIPE on its next
// write and crashed: a stack trace ("Error: write EPIPE ... Unhandled 'error' event") and exit 1, though nothing had
// gone wrong. It now ends quietly. Here the reader closes its end before the command writes a line.

const root = join(import.meta.dirname, '..', '..');

/** Runs `quant-engine ...argv` with its stdout closed by the reader at once; its exit code and stderr. */
function withClosedReader(argv: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'quant-engine.js'), ...argv], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

describe('a one-shot command whose reader stops early', () => {
  it('ends quietly, exit 0: the CLI (its bundle) and the backtest (through tsx)', { timeout: 90_000 }, async () => {
    for (const argv of [
      ['cli', 'help'],
      ['cli', '--help'],
      ['backtest', '--help'],
    ]) {
      const { code, stderr } = await withClosedReader(argv);
      expect(stderr).not.toMatch(/EPIPE|Unhandled/);
      expect({ argv, code }).toEqual({ argv, code: 0 });
    }
  });
});
