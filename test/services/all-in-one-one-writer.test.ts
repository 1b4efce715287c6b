import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnAll } from '../support/spawn-all.js';
import { sigkill } from '../support/sigkill.js';

// `npm start` twice on one SQLite file (two terminals, a supervisor starting a new one before the old has exited):
// both ran, replayed the log, took commands and committed from their own states, each with its own simulator on
// the same paper tables (the same client order ids from both; "database is locked" errors). The second is now
// refused before it starts anything, naming the first, which trades on; a stopped or SIGKILLed one is followed at once.

const dir = mkdtempSync(join(tmpdir(), 'qe-one-writer-'));
const sqlitePath = join(dir, 'engine.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Safety net for a process to start or end; never an assertion about speed. */
const processWaitMs = 60_000;

/** `quant-engine simulator reset --state <the file> --yes`: its exit code and output. */
async function resetPaper(): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'simulator', 'reset', '--state', sqlitePath, '--yes'], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

describe('quant-engine all: one engine per log file', () => {
  it('refuses a second engine on the same file, naming the first; follows a stopped or killed one at once', async () => {
    const first = spawnAll(sqlitePath);
    try {
      await first.waitForOutput('the first engine running', /running; Ctrl-C to stop/, processWaitMs);
      const second = spawnAll(sqlitePath);
      const [code] = (await once(second.child, 'exit')) as [number | null];
      expect(code).toBe(1);
      expect(second.output()).toMatch(new RegExp(`another engine is writing ${sqlitePath}: quant-engine all, pid ${first.child.pid} on `));
      // Refused before anything started: no simulator on the paper tables, no replay.
      expect(second.output()).not.toMatch(/simulator \(paper exchange\) at|WAL events replayed/);
      // The first trades on, undisturbed.
      const fills = (): number => (first.output().match(/\[alert fill\]/g) ?? []).length;
      const before = fills();
      await first.waitForOutput('a fill after the refusal', new RegExp(`(?:[\\s\\S]*?\\[alert fill\\]){${before + 1}}`), processWaitMs);
      expect(first.output()).not.toMatch(/database is locked/);
      // Nor is the paper exchange reset under it (its running simulator wrote its state back over a reset).
      const reset = await resetPaper();
      expect(reset.code).toBe(1);
      expect(reset.output).toMatch(new RegExp(`quant-engine all \\(pid ${first.child.pid} on .*\\) is running on ${sqlitePath}: stop it first`));
    } finally {
      expect(await first.stop()).toBe(0);
    }
    expect((await resetPaper()).code).toBe(0);

    // Stopped cleanly: the next one starts at once, taking over nobody.
    const third = spawnAll(sqlitePath);
    await third.waitForOutput('the third engine running', /running; Ctrl-C to stop/, processWaitMs);
    expect(third.output()).not.toMatch(/took over/);
    // SIGKILLed: its claim stays in the file, but its process is gone, so the next one takes over at once.
    await sigkill(third.child);
    const fourth = spawnAll(sqlitePath);
    try {
      await fourth.waitForOutput('the fourth engine running', /running; Ctrl-C to stop/, processWaitMs);
      expect(fourth.output()).toMatch(new RegExp(`log: took over ${sqlitePath} from quant-engine all, pid ${third.child.pid} \\(its process is gone\\)`));
    } finally {
      await fourth.stop();
    }
  }, 180_000);
});
