import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteLog } from '../../src/log/sqlite-log.js';
import { contractLimits, logContract } from './contract.js';

logContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qe-log-'));
  const open = () => Promise.resolve(openSqliteLog({ path: join(dir, 'log.db'), limits: contractLimits }));
  return { log: await open(), reopen: open, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});
