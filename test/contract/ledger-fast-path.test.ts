import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ledgerEntryBySchema, ledgerSchemaVersion, parseLedgerRecord, plainLedgerEntry } from '../../src/contract/ledger.js';

// Ledger records are read back by a hand check (plainLedgerEntry) before the schema is asked: the hand check must
// accept only what the schema accepts, give exactly the schema's output (fields, their order, unknown keys left out,
// decimals canonical), and not turn away a plain valid entry (that would only cost time, so nothing else would notice).

const fill = {
  kind: 'fill',
  userId: 'u1',
  sessionId: 'u1:1700000000000',
  venue: 'paper',
  symbol: 'BTCUSDT',
  clientOrderId: 'q1-7',
  exchangeOrderId: '42',
  side: 'BUY',
  qty: '0.034',
  price: '86937.4',
  feeUsd: '0',
  realizedPnlUsd: '-1.25',
  fundingUsd: '0',
  netUsd: '-1.25',
  tradeId: null,
  cause: null,
  timeMs: 1_700_000_000_000,
  schemaVersion: ledgerSchemaVersion,
};
const funding = { ...fill, kind: 'funding', symbol: null, clientOrderId: null, exchangeOrderId: null, side: null, qty: null, price: null, tradeId: 'inc-9' };

/** The hand check agrees with the schema: nothing the schema refuses, and the schema's output, byte for byte. */
function agrees(json: unknown): void {
  const plain = plainLedgerEntry(json);
  const bySchema = ledgerEntryBySchema(json);
  if (plain === null) return;
  expect(bySchema.ok).toBe(true);
  if (bySchema.ok) expect(JSON.stringify(plain)).toBe(JSON.stringify(bySchema.entry));
}

const validValues: Record<string, fc.Arbitrary<unknown>> = {
  kind: fc.constantFrom('fill', 'fee', 'exchange_fill', 'funding'),
  userId: fc.string(),
  sessionId: fc.string(),
  venue: fc.constantFrom('paper', 'live'),
  symbol: fc.option(fc.string()),
  clientOrderId: fc.option(fc.string()),
  exchangeOrderId: fc.option(fc.string()),
  side: fc.constantFrom('BUY', 'SELL', null),
  qty: fc.option(fc.constantFrom('0.034', '1.50', '-0.010', '0', '1e-3', '00.5')),
  price: fc.option(fc.constantFrom('86937.4', '86937.40', '2000', '.5')),
  feeUsd: fc.constantFrom('0', '0.0123', '-0.5', '1E2'),
  realizedPnlUsd: fc.constantFrom('0', '-1.25', '3.000'),
  fundingUsd: fc.constantFrom('0', '0.5', '-0.0001'),
  netUsd: fc.constantFrom('0', '-1.25', '12'),
  tradeId: fc.option(fc.string()),
  cause: fc.option(fc.string()),
  timeMs: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
  schemaVersion: fc.constant(ledgerSchemaVersion),
};
const oddValues = fc.constantFrom<unknown>(undefined, null, '', 'abc', '1.2.3', 'NaN', 5, -0, true, [], {}, 'fill', 'BUY', 'paper', 2, '0x10');

/** An entry with each field valid, or (now and then) replaced by an odd value or left out, plus extra keys. */
const entries = fc
  .record(
    Object.fromEntries(
      Object.entries(validValues).map(([key, valid]) => [key, fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: oddValues })]),
    ),
  )
  .chain((entry) =>
    fc
      .record({ drop: fc.subarray(Object.keys(entry), { maxLength: 2 }), extra: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 2 }) })
      .map(({ drop, extra }) => {
        const out: Record<string, unknown> = { ...extra, ...entry };
        for (const key of drop) delete out[key];
        return out;
      }),
  );

describe('plainLedgerEntry', () => {
  it('reads the engine’s own entries (fills, funding) as the schema does', () => {
    for (const entry of [fill, funding, { ...fill, kind: 'fee', realizedPnlUsd: '0', feeUsd: '0.0174', netUsd: '-0.0174' }]) {
      expect(plainLedgerEntry(entry)).not.toBeNull();
      agrees(entry);
    }
    const bySchema = ledgerEntryBySchema(fill);
    if (!bySchema.ok) throw new Error(bySchema.reason);
    const record = parseLedgerRecord('7', '5', JSON.stringify({ extra: 1, ...fill, qty: '0.0340' }));
    expect(record).toEqual({ ok: true, entry: { seq: '7', walId: '5', ...bySchema.entry, qty: '0.034' } });
  });

  it('agrees with the schema on anything, and leaves what it does not read plainly to it', () => {
    fc.assert(
      fc.property(entries, (entry) => agrees(JSON.parse(JSON.stringify(entry)) as unknown)),
      { numRuns: 3_000 },
    );
    for (const odd of [null, [], 'x', 5, { ...fill, schemaVersion: 2 }, { ...fill, timeMs: '1' }, { ...fill, qty: 0.5 }, { ...fill, side: 'buy' }]) {
      expect(plainLedgerEntry(odd)).toBeNull();
    }
    expect(parseLedgerRecord('3', '1', JSON.stringify({ ...fill, netUsd: 'abc' }))).toEqual({
      ok: false,
      reason: 'ledger entry 3: netUsd: not a decimal number: abc',
    });
  });
});
