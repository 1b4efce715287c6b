import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnAll } from '../support/spawn-all.js';

// `npm ci && npm start` on a fresh checkout: the database's directory (data/ by default) does not exist yet.

const dir = mkdtempSync(join(tmpdir(), 'qe-all-fresh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm start on a fresh checkout', () => {
  it('creates the directory of its database and runs', { timeout: 120_000 }, async () => {
    const run = spawnAll(join(dir, 'data', 'quant-engine.db'));
    try {
      await run.waitForOutput('the running line', /running; Ctrl-C to stop/);
      await run.waitForOutput('the demo session started', /\[done\] session\.start/);
      expect(await run.stop()).toBe(0);
    } finally {
      await run.stop();
    }
  });
});
