import type { LedgerEntry } from '../contract/ledger.js';
import { parseLedgerRecord } from '../contract/ledger.js';
import type { RoundTrips } from '../core/round-trips.js';
import { buildRoundTrips } from '../core/round-trips.js';
import { ledgerWalkPageEntries } from '../log/ledger-pages.js';
import type { EngineLog } from '../log/port.js';

// Closed trades (/profit, /daily, /performance, `cli profit|daily|performance|closed`) are computed here, at the
// edge, from the fill ledger, not by the engine. The engine holds no ledger (it is written beside the WAL and never
// read back by it); answering in the engine would mean either a ledger read inside decide (I/O in the core) or a
// running fold of every closed trade per user in the durable state, which grows with history and is carried in
// every snapshot. Here a query costs the reader a bounded walk of one user's ledger pages and the engine nothing,
// whatever the history length: its per-input cost stays what it was.

/** Most fill-ledger entries one query reads (one user's, oldest first); beyond it the answer says it is partial. */
export const maxRoundTripLedgerEntries = 20_000;
/** Most ledger pages one query asks for (a filtered Redis read may scan up to maxLedgerScanEntries per page). */
export const maxRoundTripLedgerPages = 50;

export interface ClosedTradesRead {
  trips: RoundTrips;
  /** Ledger records that could not be read (named in `problems`), left out of the trips. */
  unreadable: number;
  problems: string[];
  /** True when the bound stopped the walk before the end of the user's ledger: trips closed later are missing. */
  partial: boolean;
}

/** Problems named in an answer, at most. */
const maxProblemsNamed = 5;

/** One user's round trips from the fill ledger, reading at most `maxEntries` entries and `maxPages` pages. */
export async function readClosedTrades(
  log: Pick<EngineLog, 'readLedger'>,
  userId: string,
  bounds: { maxEntries: number; maxPages: number } = { maxEntries: maxRoundTripLedgerEntries, maxPages: maxRoundTripLedgerPages },
): Promise<ClosedTradesRead> {
  const entries: LedgerEntry[] = [];
  const problems: string[] = [];
  let unreadable = 0;
  let partial = false;
  let afterId: string | null = null;
  for (let pages = 0; ; pages += 1) {
    if (pages >= bounds.maxPages) {
      partial = true;
      break;
    }
    const left = bounds.maxEntries - entries.length - unreadable;
    const page = await log.readLedger({ userId, afterId, maxEntries: Math.min(ledgerWalkPageEntries, left) });
    for (const record of page.records) {
      const parsed = parseLedgerRecord(record.id, record.walId, record.data);
      if (parsed.ok) entries.push(parsed.entry);
      else {
        unreadable += 1;
        if (problems.length < maxProblemsNamed) problems.push(parsed.reason);
      }
    }
    if (page.nextAfterId === null) break;
    afterId = page.nextAfterId;
    if (entries.length + unreadable >= bounds.maxEntries) {
      partial = true;
      break;
    }
  }
  return { trips: buildRoundTrips(entries), unreadable, problems, partial };
}
