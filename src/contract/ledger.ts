import { z } from 'zod';
import type { Decimal, Price, Qty, Usd } from '../model/decimal.js';
import { isDecimal, toDecimal, toPrice, toQty, toUsd } from '../model/decimal.js';

// The fill ledger: one entry per money movement of a session (a fill of our order, the commission of a trade,
// a trade the exchange made on the account, a funding payment), derived from the WAL events that carry it
// (src/core/ledger.ts) and written in the same atomic log write, to a table / stream that snapshots never trim.
// It is the durable answer to "where did every dollar go": per session, the sum of `netUsd` is the session's
// realized PnL − fees + funding. Amounts are exact decimal strings. Readers (the CLI, the dashboard) parse each
// record with parseLedgerRecord, which names the record and the reason instead of throwing.

export const ledgerSchemaVersion = 1;

/**
 * What moved the money. Commission is its own kind: the WAL books it apart from the fill (REST answers can report
 * a fill before the user stream's trade brings its commission), and the ledger mirrors the WAL one to one.
 */
export type LedgerKind = 'fill' | 'fee' | 'exchange_fill' | 'funding';

export interface LedgerEntry {
  kind: LedgerKind;
  userId: string;
  /** The user's session the money belongs to: `${userId}:${startedAtMs}` (one open session per user at a time). */
  sessionId: string;
  /** Which venue the session trades on (paper exchange or live Binance). */
  venue: 'paper' | 'live';
  /** Null only for a funding payment the exchange did not attribute to a symbol. */
  symbol: string | null;
  clientOrderId: string | null;
  exchangeOrderId: string | null;
  side: 'BUY' | 'SELL' | null;
  qty: Qty | null;
  price: Price | null;
  /** Commission charged (positive = paid). */
  feeUsd: Usd;
  /** PnL realized by the trade (ours: computed from the position's entry; the exchange's: its `rp`). */
  realizedPnlUsd: Usd;
  /** Funding received (positive) or paid (negative). */
  fundingUsd: Usd;
  /** realizedPnlUsd − feeUsd + fundingUsd: what this entry did to the session's equity. */
  netUsd: Usd;
  /** The exchange's id of the movement when there is one: funding's income id, an exchange trade's order:cumQty. */
  tradeId: string | null;
  /** Why the exchange traded without an order from the engine (exchange_fill only). */
  cause: string | null;
  /** When the engine booked it (ms since epoch). */
  timeMs: number;
}

/** A ledger entry as read back: its position in the ledger and the WAL record that carries it. */
export interface LedgerView extends LedgerEntry {
  seq: string;
  walId: string;
}

function exact<T extends Decimal>(parse: (value: string) => T) {
  return z.string().transform((value, ctx): T => {
    if (!isDecimal(value)) {
      ctx.addIssue({ code: 'custom', message: `not a decimal number: ${value.slice(0, 40)}` });
      return z.NEVER;
    }
    return parse(value);
  });
}

const ledgerEntrySchema = z.object({
  schemaVersion: z.literal(ledgerSchemaVersion),
  kind: z.enum(['fill', 'fee', 'exchange_fill', 'funding']),
  userId: z.string(),
  sessionId: z.string(),
  venue: z.enum(['paper', 'live']),
  symbol: z.string().nullable(),
  clientOrderId: z.string().nullable(),
  exchangeOrderId: z.string().nullable(),
  side: z.enum(['BUY', 'SELL']).nullable(),
  qty: exact(toQty).nullable(),
  price: exact(toPrice).nullable(),
  feeUsd: exact(toUsd),
  realizedPnlUsd: exact(toUsd),
  fundingUsd: exact(toUsd),
  netUsd: exact(toUsd),
  tradeId: z.string().nullable(),
  cause: z.string().nullable(),
  timeMs: z.number().finite(),
});

export function serializeLedgerEntry(entry: LedgerEntry): string {
  // The same text as stringifying {...entry, schemaVersion} (the version last), without copying the entry first (a
  // spread of a dozen keys plus one: V8's slow copy, at every fill and fee booked). An entry is never empty.
  const json = JSON.stringify(entry);
  return `${json.slice(0, -1)},"schemaVersion":${ledgerSchemaVersion}}`;
}

/** One ledger record read back, or the reason it cannot be read (never throws: a bad record is reported, not fatal). */
export function parseLedgerRecord(seq: string, walId: string, data: string): { ok: true; entry: LedgerView } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, reason: `ledger entry ${seq}: not JSON` };
  }
  const plain = plainLedgerEntry(json);
  if (plain !== null) return { ok: true, entry: { seq, walId, ...plain } };
  const parsed = ledgerEntryBySchema(json);
  if (!parsed.ok) return { ok: false, reason: `ledger entry ${seq}: ${parsed.reason}` };
  return { ok: true, entry: { seq, walId, ...parsed.entry } };
}

/** A ledger entry read by the schema (less its version), or the first issue the schema finds. */
export function ledgerEntryBySchema(json: unknown): { ok: true; entry: LedgerEntry } | { ok: false; reason: string } {
  const parsed = ledgerEntrySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid' };
  }
  const { schemaVersion: _version, ...entry } = parsed.data;
  return { ok: true, entry };
}

const ledgerKinds: ReadonlySet<unknown> = new Set<LedgerKind>(['fill', 'fee', 'exchange_fill', 'funding']);
const isStringOrNull = (value: unknown): value is string | null => value === null || typeof value === 'string';
/** The canonical decimal of a decimal string; undefined for anything else (as `exact` refuses it). */
const decimalOrUndefined = (value: unknown): Decimal | undefined => (typeof value === 'string' && isDecimal(value) ? toDecimal(value) : undefined);

/**
 * A ledger entry as ledgerEntryBySchema reads it, checked by hand: the schema's zod pass was most of reading a
 * backtest's ledger back at the end of a run (every fill, fee and funding payment). Null whenever the value is not
 * plainly such an entry (a field missing or of another type, a decimal that is not one, another version): the caller
 * then asks the schema, which gives the answer and the reason. So this accepts only what the schema accepts and gives
 * its output: the fields in the schema's order, unknown keys left out, decimals canonical (test/contract/
 * ledger-fast-path.test.ts compares the two).
 */
export function plainLedgerEntry(json: unknown): LedgerEntry | null {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
  const v = json as Record<string, unknown>;
  const { kind, userId, sessionId, venue, symbol, clientOrderId, exchangeOrderId, side, qty, price, tradeId, cause, timeMs } = v;
  if (v.schemaVersion !== ledgerSchemaVersion || !ledgerKinds.has(kind) || typeof userId !== 'string' || typeof sessionId !== 'string') return null;
  if ((venue !== 'paper' && venue !== 'live') || (side !== null && side !== 'BUY' && side !== 'SELL')) return null;
  if (!isStringOrNull(symbol) || !isStringOrNull(clientOrderId) || !isStringOrNull(exchangeOrderId) || !isStringOrNull(tradeId) || !isStringOrNull(cause)) {
    return null;
  }
  if (typeof timeMs !== 'number' || !Number.isFinite(timeMs)) return null;
  const qtyRead = qty === null ? null : decimalOrUndefined(qty);
  const priceRead = price === null ? null : decimalOrUndefined(price);
  const feeUsd = decimalOrUndefined(v.feeUsd);
  const realizedPnlUsd = decimalOrUndefined(v.realizedPnlUsd);
  const fundingUsd = decimalOrUndefined(v.fundingUsd);
  const netUsd = decimalOrUndefined(v.netUsd);
  if (
    qtyRead === undefined ||
    priceRead === undefined ||
    feeUsd === undefined ||
    realizedPnlUsd === undefined ||
    fundingUsd === undefined ||
    netUsd === undefined
  ) {
    return null;
  }
  return {
    kind: kind as LedgerKind,
    userId,
    sessionId,
    venue,
    symbol,
    clientOrderId,
    exchangeOrderId,
    side,
    qty: qtyRead as Qty | null,
    price: priceRead as Price | null,
    feeUsd: feeUsd as Usd,
    realizedPnlUsd: realizedPnlUsd as Usd,
    fundingUsd: fundingUsd as Usd,
    netUsd: netUsd as Usd,
    tradeId,
    cause,
    timeMs,
  };
}

/** The CSV columns, in order (exact decimals as written; empty for null). */
export const ledgerCsvColumns = [
  'seq',
  'walId',
  'timeMs',
  'time',
  'userId',
  'sessionId',
  'venue',
  'kind',
  'symbol',
  'side',
  'qty',
  'price',
  'feeUsd',
  'realizedPnlUsd',
  'fundingUsd',
  'netUsd',
  'clientOrderId',
  'exchangeOrderId',
  'tradeId',
  'cause',
] as const;

/** RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled. */
function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function ledgerCsvRow(entry: LedgerView): string {
  const date = new Date(entry.timeMs);
  const time = Number.isNaN(date.getTime()) ? null : date.toISOString();
  const row: Record<(typeof ledgerCsvColumns)[number], string | number | null> = { ...entry, time };
  return ledgerCsvColumns.map((c) => csvField(row[c])).join(',');
}
