import type { LedgerEntry } from '../../src/contract/ledger.js';
import { zero } from '../../src/model/decimal.js';

/** A fill-ledger entry for tests: no trade, no money, unless `fields` say otherwise. */
export function ledgerEntry(fields: Partial<LedgerEntry> & Pick<LedgerEntry, 'kind'>): LedgerEntry {
  return {
    userId: 'al',
    sessionId: 'al:1',
    venue: 'paper',
    symbol: 'BTCUSDT',
    clientOrderId: null,
    exchangeOrderId: null,
    side: null,
    qty: null,
    price: null,
    feeUsd: zero,
    realizedPnlUsd: zero,
    fundingUsd: zero,
    netUsd: zero,
    tradeId: null,
    cause: null,
    timeMs: 0,
    ...fields,
  };
}
