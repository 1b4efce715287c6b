import { describe, expect, it } from 'vitest';
import { ledgerCsvRow, parseLedgerRecord, serializeLedgerEntry } from '../../src/contract/ledger.js';
import type { WalEvent } from '../../src/core/events.js';
import { foldEvents } from '../../src/core/events.js';
import { ledgerEntriesOf } from '../../src/core/ledger.js';
import { emptyDurableState } from '../../src/core/state.js';
import type { Price, Qty, Usd } from '../../src/model/decimal.js';
import { add, sub, sum, zero } from '../../src/model/decimal.js';
import { testConfig } from './fixtures.js';

// The fill ledger's derivation (pure): one entry per money movement, with our fills' realized PnL computed from
// the position the events move, so that per session the ledger sums to realized − fees + funding.

const q = (v: string) => v as Qty;
const p = (v: string) => v as Price;
const usd = (v: string) => v as Usd;

const start = (atMs: number): WalEvent => ({
  type: 'session.started',
  userId: 'al',
  mode: 'paper',
  capitalUsd: usd('1000'),
  stopLossPct: null,
  horizonDeadlineMs: null,
  atMs,
});
const fill = (side: 'BUY' | 'SELL', qty: string, price: string, clientOrderId: string): WalEvent => ({
  type: 'fill',
  clientOrderId,
  userId: 'al',
  symbol: 'BTCUSDT',
  side,
  qty: q(qty),
  price: p(price),
  atMs: 5,
});
const exchangeFill: WalEvent = {
  type: 'exchange_fill',
  userId: 'al',
  symbol: 'BTCUSDT',
  side: 'SELL',
  qty: q('0.1'),
  price: p('99'),
  realizedPnlUsd: usd('-0.1'),
  feeUsd: usd('0.004'),
  exchangeOrderId: '77',
  clientOrderId: 'algo-1',
  cumQty: q('0.1'),
  cause: 'protective_stop',
  atMs: 7,
};

const events: WalEvent[] = [
  start(1),
  fill('BUY', '0.3', '100', 'o1'),
  { type: 'fee', userId: 'al', clientOrderId: 'o1', symbol: 'BTCUSDT', feeUsd: usd('0.012'), cumQty: q('0.3'), exchangeRealizedPnlUsd: zero, atMs: 6 },
  { type: 'funding', userId: 'al', symbol: 'BTCUSDT', amountUsd: usd('-0.0075'), exchangeId: 'f1', exchangeTimeMs: 6, atMs: 6 },
  exchangeFill,
  exchangeFill, // a repeat: the fold books it once, the ledger too
  fill('SELL', '0.2', '100.5', 'o2'),
];

describe('ledgerEntriesOf', () => {
  it('books every fill, fee, exchange fill and funding payment, and sums to what the fold booked', () => {
    const items = ledgerEntriesOf(emptyDurableState(), events);
    expect(items.map((i) => [i.walIndex, i.entry.kind, i.entry.realizedPnlUsd, i.entry.feeUsd, i.entry.fundingUsd, i.entry.netUsd])).toEqual([
      [1, 'fill', '0', '0', '0', '0'],
      [2, 'fee', '0', '0.012', '0', '-0.012'],
      [3, 'funding', '0', '0', '-0.0075', '-0.0075'],
      [4, 'exchange_fill', '-0.1', '0.004', '0', '-0.104'],
      [6, 'fill', '0.1', '0', '0', '0.1'], // 0.2 closed at 100.5 against an entry at 100
    ]);
    expect(new Set(items.map((i) => i.entry.sessionId))).toEqual(new Set(['al:1']));
    const session = foldEvents(emptyDurableState(), events, testConfig).sessions.get('al');
    if (!session) throw new Error('no session');
    expect(sum(items.map((i) => i.entry.netUsd))).toBe(add(sub(session.realizedPnlUsd, session.feesUsd), session.fundingUsd));
  });

  it('continues from the state before the events, and gives a restarted session a new id', () => {
    const before = foldEvents(emptyDurableState(), events.slice(0, 2), testConfig);
    const later = ledgerEntriesOf(before, [fill('SELL', '0.3', '101', 'o3')]);
    expect(later.map((i) => [i.entry.sessionId, i.entry.realizedPnlUsd])).toEqual([['al:1', '0.3']]);
    const flat = foldEvents(before, [fill('SELL', '0.3', '101', 'o3'), { type: 'session.closed', userId: 'al', atMs: 8 }], testConfig);
    const again = ledgerEntriesOf(flat, [start(9), fill('BUY', '1', '50', 'o4')]);
    expect(again.map((i) => [i.walIndex, i.entry.sessionId])).toEqual([[1, 'al:9']]);
  });

  it('yields nothing for events that move no money', () => {
    expect(ledgerEntriesOf(emptyDurableState(), [start(1), { type: 'halt.set', halted: true, reason: null }])).toEqual([]);
  });
});

describe('ledger records', () => {
  const entry = ledgerEntriesOf(emptyDurableState(), events)[1]?.entry;
  if (!entry) throw new Error('no entry');

  it('round-trip exactly, and a malformed record is reported with its id, never thrown', () => {
    const parsed = parseLedgerRecord('7', '3', serializeLedgerEntry(entry));
    expect(parsed).toEqual({ ok: true, entry: { seq: '7', walId: '3', ...entry } });
    expect(parseLedgerRecord('8', '3', 'not json')).toEqual({ ok: false, reason: 'ledger entry 8: not JSON' });
    const badAmount = JSON.stringify({ ...JSON.parse(serializeLedgerEntry(entry)), feeUsd: '0.0.1' });
    expect(parseLedgerRecord('9', '3', badAmount)).toMatchObject({ ok: false, reason: expect.stringMatching(/^ledger entry 9: feeUsd: not a decimal/) });
    expect(parseLedgerRecord('10', '3', JSON.stringify({ ...JSON.parse(serializeLedgerEntry(entry)), feeUsd: 0.012 }))).toMatchObject({ ok: false });
    // The text written is the entry's JSON with the schema version last, as it always was.
    expect(serializeLedgerEntry(entry)).toBe(JSON.stringify({ ...entry, schemaVersion: 1 }));
  });

  it('export as CSV with exact decimals, quoting what needs quoting', () => {
    const row = ledgerCsvRow({ seq: '7', walId: '3', ...entry, clientOrderId: 'a,"b"' });
    expect(row).toBe('7,3,6,1970-01-01T00:00:00.006Z,al,al:1,paper,fee,BTCUSDT,,,,0.012,0,0,-0.012,"a,""b""",,o1:0.3,');
  });
});
