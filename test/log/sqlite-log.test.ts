import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maxDeadLetterPayloadBytes } from '../../src/log/dead-letter.js';
import { openSqliteLog } from '../../src/log/sqlite-log.js';
import { contractLimits, logContract } from './contract.js';

logContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qe-log-'));
  const open = () => Promise.resolve(openSqliteLog({ path: join(dir, 'log.db'), limits: contractLimits }));
  return { log: await open(), reopen: open, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

describe('SQLite log: a file written by an earlier version', () => {
  // The schema before dead letters carried their payload's size and hash, and before acked commands were deleted.
  const oldSchema = `
CREATE TABLE commands (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL, delivery_count INTEGER NOT NULL DEFAULT 0,
  consumer TEXT, delivered_at_ms INTEGER, acked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX commands_pending ON commands (acked, delivery_count);
CREATE TABLE dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, entry_id TEXT NOT NULL, data TEXT NOT NULL, reason TEXT NOT NULL);
`;

  it('opens, reads old dead letters bounded with size and hash, drops acked commands, and takes new dead letters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qe-log-old-'));
    const path = join(dir, 'log.db');
    try {
      const big = 'y'.repeat(1024 * 1024);
      const old = new Database(path);
      old.exec(oldSchema);
      old.prepare('INSERT INTO commands (data, delivery_count, acked) VALUES (?, 1, 1)').run('{"done":1}');
      old.prepare('INSERT INTO commands (data) VALUES (?)').run('{"waiting":1}');
      old.prepare('INSERT INTO dead_letters (entry_id, data, reason) VALUES (?, ?, ?)').run('7', big, 'too big');
      old.prepare('INSERT INTO dead_letters (entry_id, data, reason) VALUES (?, ?, ?)').run('8', 'junk', 'not JSON');
      old.close();

      const log = openSqliteLog({ path, limits: contractLimits });
      await log.init();
      expect(await log.commandEntryCount()).toBe(1);
      expect((await log.readCommands('c', 10, 10)).map((d) => d.raw)).toEqual(['{"waiting":1}']);
      const [first, second] = await log.readDeadLetters(10);
      expect(first).toMatchObject({ entryId: '7', reason: 'too big', raw: big.slice(0, maxDeadLetterPayloadBytes), rawBytes: big.length, rawTruncated: true });
      expect(first?.rawSha256).toBe(createHash('sha256').update(big).digest('hex'));
      expect(second).toMatchObject({ entryId: '8', raw: 'junk', rawBytes: 4, rawTruncated: false });
      await log.commit({ wal: [], outbound: [], ack: [], deadLetters: [{ entryId: '9', raw: 'more junk', reason: 'not JSON' }] });
      expect(await log.deadLetterCount()).toBe(3);
      await log.close();

      const again = openSqliteLog({ path, limits: contractLimits }); // the migration is idempotent
      expect((await again.readDeadLetters(1))[0]).toMatchObject({ entryId: '9', raw: 'more junk', rawBytes: 9, rawTruncated: false });
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
