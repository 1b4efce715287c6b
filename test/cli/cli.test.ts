import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { maxDeadLetterPayloadBytes } from '../../src/log/dead-letter.js';
import { ledgerCsvColumns, serializeLedgerEntry } from '../../src/contract/ledger.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { toPrice, toQty, toUsd } from '../../src/model/decimal.js';
import { parseCli, splitArgs } from '../../src/services/cli/parse.js';
import { ledgerTable } from '../../src/services/cli/format.js';
import { runCli, runCliAction } from '../../src/services/cli/run-cli.js';
import { generateMasterKey, masterKeyFrom } from '../../src/secrets/key-box.js';
import { redisKeyStore } from '../../src/secrets/key-store.js';
import { createKeyVault, masterKeysFromEnv } from '../../src/secrets/key-vault.js';
import { useHarness } from '../support/harness.js';
import { ledgerEntry } from '../support/ledger-entry.js';
import { redisUrl } from '../support/redis.js';

describe('cli arguments', () => {
  it('builds documented commands', () => {
    const start = parseCli(splitArgs(['start', 'paper', '1000', '--stoploss', '5', '--user', 'alice']));
    expect(start).toMatchObject({ kind: 'command', command: { type: 'session.start', mode: 'paper', capitalUsd: 1000, stopLossPct: 5, userId: 'alice' } });
    expect(parseCli(splitArgs(['--user', 'al', 'stop']))).toMatchObject({ kind: 'command', waitFor: 'done', command: { type: 'session.stop' } });
    expect(parseCli(splitArgs(['route', 'btcusdt=0.5', 'ETHUSDT=-0.2']))).toMatchObject({
      command: {
        type: 'signals.route',
        userId: 'signals',
        signals: [
          { symbol: 'BTCUSDT', weight: 0.5 },
          { symbol: 'ETHUSDT', weight: -0.2 },
        ],
      },
    });
    expect(parseCli(splitArgs(['replay', '--dry-run']))).toEqual({ kind: 'replay-dry-run' });
    expect(parseCli(splitArgs(['trades', '--csv', '5', '--session', 'al:1']))).toEqual({ kind: 'trades', sessionId: 'al:1', csv: true, last: 5, json: false });
    expect(parseCli(splitArgs(['trades', '--user', 'al']))).toEqual({ kind: 'trades', userId: 'al', csv: false, last: null, json: false });
    expect(() => parseCli(splitArgs(['trades', '0']))).toThrow(/at least 1/);
  });

  it('lists the fill ledger, the newest N, and names an unreadable record on stderr with exit 1', async () => {
    const log = openMemoryLog();
    const entry = (n: number): string =>
      serializeLedgerEntry(ledgerEntry({ kind: 'funding', fundingUsd: toUsd(`-0.00000${n}`), netUsd: toUsd(`-0.00000${n}`), tradeId: `f${n}`, timeMs: n }));
    const ledger = [entry(1), entry(2), '{"kind":"fill"}', entry(3)].map((data) => ({ walIndex: 0, userId: 'al', sessionId: 'al:1', data }));
    await log.commit({ wal: ['{}'], outbound: [], ack: [], deadLetters: [], ledger });
    const run = async (last: number | null) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCliAction(
        { kind: 'trades', userId: 'al', csv: false, last, json: true },
        log,
        { out: (l) => out.push(l), err: (l) => err.push(l) },
        1_000,
      );
      return { code, funding: out.map((l) => JSON.parse(l).fundingUsd), err };
    };
    const all = await run(null);
    expect(all.funding).toEqual(['-0.000001', '-0.000002', '-0.000003']);
    expect(all.code).toBe(1);
    expect(all.err[0]).toMatch(/^skipped: ledger entry \d+: /);
    expect((await run(2)).funding).toEqual(['-0.000002', '-0.000003']);
  });

  it('names a route pair written without "=" as such', () => {
    expect(() => parseCli(splitArgs(['route', 'BTCUSDT', '0.5']))).toThrow(/bad pair "BTCUSDT"; write SYMBOL=WEIGHT/);
    expect(() => parseCli(splitArgs(['route', 'BTCUSDT=']))).toThrow(/weight of BTCUSDT must be a number/);
    expect(parseCli(splitArgs(['route', 'btcusdt=0.5']))).toMatchObject({ command: { type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] } });
  });

  it('refuses a non-numeric stop-loss with a clear message', () => {
    expect(() => parseCli(splitArgs(['--user', 'al', 'set-stoploss', 'abc']))).toThrow(/stop-loss percent must be a number, got "abc"/);
    expect(() => parseCli(splitArgs(['--user', 'al', 'start', 'moon', '5']))).toThrow(/paper or live/);
  });
});

describe('cli round trip against Redis', () => {
  const harness = useHarness({ label: 'cli' });

  async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const h = harness();
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['--redis-url', redisUrl, '--redis-prefix', h.prefix, '--timeout-ms', '20000', '--json', ...argv], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    return { code, out, err };
  }

  it('starts a session, is told when something is rejected, and inspects the log', async () => {
    const started = await cli('--user', 'cli-user', 'start', 'paper', '2500', '--stoploss', '4');
    expect(started.code).toBe(0);
    expect(started.err[0]).toMatch(/received/);
    expect(JSON.parse(started.out[0] ?? '{}')).toMatchObject({ type: 'reply', status: 'done', commandType: 'session.start' });

    const again = await cli('--user', 'cli-user', 'start', 'paper', '2500');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.out[0] ?? '{}').reason).toMatch(/already active/);

    const stopped = await cli('--user', 'cli-user', 'stop');
    expect(stopped.code).toBe(0);
    expect(stopped.out.map((l) => JSON.parse(l).status)).toEqual(['accepted', 'done']);

    const wal = await cli('inspect', 'wal', '--last', '100');
    expect(wal.out.some((l) => l.includes('"session.started"') && l.includes('cli-user'))).toBe(true);
    const replay = await cli('replay', '--dry-run');
    expect(JSON.parse(replay.out.join('\n')).state.sessions['cli-user'].status).toBe('closed');
  });

  it('approves live trading, lists users and trades as an admin', async () => {
    await cli('--user', 'cli-trader', 'start', 'paper', '1000');
    const approved = await cli('--user', 'operator', 'approve-live', 'cli-trader');
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.out[0] ?? '{}').result).toMatchObject({ userId: 'cli-trader', liveApproved: true });
    const users = await cli('--user', 'operator', 'users');
    expect(JSON.parse(users.out[0] ?? '{}').result.liveApproved).toContain('cli-trader');
    const notAdmin = await cli('--user', 'cli-trader', 'users');
    expect(notAdmin.code).toBe(1);
    // `trades` reads the fill ledger from the log (no engine round trip): nothing traded yet.
    const trades = await cli('--user', 'cli-trader', 'trades', '5', '--csv');
    expect(trades).toMatchObject({ code: 0, out: [ledgerCsvColumns.join(',')] });
  });

  it('rotates the stored exchange keys to a new master key', async () => {
    const h = harness();
    const oldKey = generateMasterKey();
    const newKey = generateMasterKey();
    const store = await redisKeyStore(redisUrl, h.prefix);
    try {
      await createKeyVault(store, masterKeysFromEnv({}, masterKeyFrom(oldKey))).connect('cli-trader', 'the-api-key', 'the-api-secret');
      process.env.QE_MASTER_KEY = newKey;
      process.env.QE_MASTER_KEYS_PREVIOUS = oldKey;
      const rotated = await cli('keys', 'rotate');
      expect(rotated.code).toBe(0);
      expect(JSON.parse(rotated.out[0] ?? '{}')).toEqual({ resealed: 1 });
      const onlyNew = createKeyVault(store, masterKeysFromEnv({}, masterKeyFrom(newKey)));
      expect(await onlyNew.credentials('cli-trader')).toEqual({ apiKey: 'the-api-key', apiSecret: 'the-api-secret' });
    } finally {
      delete process.env.QE_MASTER_KEY;
      delete process.env.QE_MASTER_KEYS_PREVIOUS;
      await store.close();
    }
    const noKey = await cli('keys', 'rotate');
    expect(noKey.code).toBe(1);
    expect(noKey.err.join('\n')).toMatch(/no master key configured/);
  });

  it('exits 2 on bad usage without touching the log', async () => {
    const bad = await cli('--user', 'al', 'set-stoploss', 'abc');
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/must be a number/);
  });
});

describe('cli inspect dlq', () => {
  it('prints the newest dead letters with their size and hash, a bounded prefix of each payload', async () => {
    const log = openMemoryLog();
    const big = 'q'.repeat(1024 * 1024);
    await log.commit({
      wal: [],
      outbound: [],
      ack: [],
      deadLetters: [
        { entryId: '1', raw: 'old junk', reason: 'not JSON' },
        { entryId: '2', raw: big, reason: 'too big' },
        { entryId: '3', raw: 'junk', reason: 'not JSON' },
      ],
    });
    const reads = vi.spyOn(log, 'readDeadLetters');
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCliAction({ kind: 'inspect-dlq', last: 2 }, log, { out: (l) => out.push(l), err: (l) => err.push(l) }, 1_000);
    expect(code).toBe(0);
    expect(reads.mock.calls).toEqual([[2]]);
    expect(err).toEqual(['3 dead letters; the newest 2:']);
    // None at all: said so, not "0 dead letters; the newest 0:".
    const empty = openMemoryLog();
    const none: string[] = [];
    expect(await runCliAction({ kind: 'inspect-dlq', last: 2 }, empty, { out: (l) => none.push(l), err: (l) => none.push(l) }, 1_000)).toBe(0);
    expect(none).toEqual(['no dead letters']);
    const all: string[] = [];
    await runCliAction({ kind: 'inspect-dlq', last: 5 }, log, { out: () => undefined, err: (l) => all.push(l) }, 1_000);
    expect(all).toEqual(['3 dead letters:']);
    const shown = out.map((l) => JSON.parse(l) as { entryId: string; raw: string; rawBytes: number; rawSha256: string; rawTruncated: boolean });
    expect(shown.map((d) => d.entryId)).toEqual(['2', '3']);
    expect(shown[0]).toMatchObject({
      raw: big.slice(0, maxDeadLetterPayloadBytes),
      rawBytes: big.length,
      rawSha256: createHash('sha256').update(big).digest('hex'),
      rawTruncated: true,
    });
    expect(shown[1]).toMatchObject({ raw: 'junk', rawBytes: 4, rawTruncated: false });
  });
});

describe('the fill ledger as a table', () => {
  it("leaves empty the amounts an entry's kind does not carry: a fill's fee is the fee row's", () => {
    const view = (fields: Parameters<typeof ledgerEntry>[0]) => ({ ...ledgerEntry(fields), seq: '1', walId: '1-0' });
    const [head, fill, fee, funding, exchangeFill] = ledgerTable([
      view({ kind: 'fill', side: 'BUY', qty: toQty('0.010'), price: toPrice('60000'), realizedPnlUsd: toUsd('1.5'), netUsd: toUsd('1.5') }),
      view({ kind: 'fee', feeUsd: toUsd('0.24'), netUsd: toUsd('-0.24') }),
      view({ kind: 'funding', fundingUsd: toUsd('-0.03'), netUsd: toUsd('-0.03') }),
      view({
        kind: 'exchange_fill',
        side: 'SELL',
        qty: toQty('0.010'),
        price: toPrice('59000'),
        realizedPnlUsd: toUsd('-10'),
        feeUsd: toUsd('0.3'),
        netUsd: toUsd('-10.3'),
      }),
    ]);
    // A cell is the text under its header, up to the next header (columns are padded to their widest cell).
    const header = head as string;
    const cell = (row: string | undefined, name: string, next: string): string =>
      (row ?? '').slice(header.indexOf(` ${name} `) + 1, header.indexOf(` ${next}`) + 1).trim();
    const cells = (row: string | undefined) => ({
      fee: cell(row, 'fee', 'realized'),
      realized: cell(row, 'realized', 'funding'),
      funding: cell(row, 'funding', 'net'),
    });
    expect(cells(fill)).toEqual({ fee: '', realized: '$1.50', funding: '' });
    expect(cells(fee)).toEqual({ fee: '$0.24', realized: '', funding: '' });
    expect(cells(funding)).toEqual({ fee: '', realized: '', funding: '-$0.03' });
    expect(cells(exchangeFill)).toEqual({ fee: '$0.30', realized: '-$10.00', funding: '' });
  });
});
