import type { EngineLog, LedgerQuery, LedgerRecord } from './port.js';

/** Records asked for per page when a reader walks the whole fill ledger (an export, a check). */
export const ledgerWalkPageEntries = 1_000;

/** Every fill-ledger record of the query, page by page in ledger order: memory holds one page at a time. */
export async function* ledgerRecords(log: EngineLog, filter: Pick<LedgerQuery, 'userId' | 'sessionId'>): AsyncGenerator<LedgerRecord> {
  for (let afterId: string | null = null; ;) {
    const page = await log.readLedger({ ...filter, afterId, maxEntries: ledgerWalkPageEntries });
    yield* page.records;
    if (page.nextAfterId === null) return;
    afterId = page.nextAfterId;
  }
}
