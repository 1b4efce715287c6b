import type { LedgerEntry } from '../contract/ledger.js';
import type { Usd } from '../model/decimal.js';
import { add, neg, sub, toPrice, toQty, toUsd, zero } from '../model/decimal.js';
import type { WalEvent } from './events.js';
import { applyFillToPosition, bookedTradeKey, exchangeFillKey } from './events.js';
import type { Dict } from './dict.js';
import { fewKeysDictWith, fewKeysEmptyDict } from './dict.js';
import type { DurableState, Mode, Position, Session } from './state.js';

// The fill ledger's entries, derived from WAL events by a pure function: the engine commits them with the events
// that carry them, so the ledger can never disagree with the log. Our own fills realize PnL against the position's
// entry price, which the event does not carry: the derivation follows the positions the events move, mirroring
// the fold (applyEvent) for exactly the events that touch them, starting from the state before the events.

/** A session's id in the ledger: its user and when it started (a user has one open session at a time). */
export function sessionIdOf(session: Pick<Session, 'userId' | 'startedAtMs'>): string {
  return `${session.userId}:${session.startedAtMs}`;
}

/** The part of a session the derivation follows. */
interface Book {
  sessionId: string;
  venue: Mode;
  positions: Dict<Position>;
  exchangeFillKeys: readonly string[];
}

export interface LedgerItem {
  /** Index of the WAL event (in the list given) that carries this entry. */
  walIndex: number;
  entry: LedgerEntry;
}

/** The trade fields of an entry that is no trade (a commission, a funding payment). */
const noTrade = { exchangeOrderId: null, side: null, qty: null, price: null, cause: null } as const;

function money(realizedPnlUsd: Usd, feeUsd: Usd, fundingUsd: Usd): Pick<LedgerEntry, 'realizedPnlUsd' | 'feeUsd' | 'fundingUsd' | 'netUsd'> {
  return { realizedPnlUsd, feeUsd, fundingUsd, netUsd: add(sub(realizedPnlUsd, feeUsd), fundingUsd) };
}

/**
 * The ledger entries of `events`, applied in order to `before`. Work is proportional to the events; an event for
 * a session `before` does not know (which the fold would refuse) yields nothing.
 */
export function ledgerEntriesOf(before: DurableState, events: readonly WalEvent[]): LedgerItem[] {
  const books = new Map<string, Book>();
  const items: LedgerItem[] = [];
  for (let walIndex = 0; walIndex < events.length; walIndex += 1) ledgerOfEvent(events[walIndex] as WalEvent, walIndex, books, before, items);
  return items;
}

/**
 * A user's book as this commit's earlier events left it (`books`), else as `before` holds it. A function of its own,
 * not a closure made per commit (see ledgerOfEvent: under tsx each one made costs a defineProperty, ~1 % of a backtest).
 */
function bookOf(books: Map<string, Book>, before: DurableState, userId: string): Book | undefined {
  const known = books.get(userId);
  if (known) return known;
  const session = before.sessions.get(userId);
  if (!session) return undefined;
  const book = { sessionId: sessionIdOf(session), venue: session.mode, positions: session.positions, exchangeFillKeys: session.exchangeFillKeys };
  books.set(userId, book);
  return book;
}

/**
 * `entry` is a literal made for this call: it is completed in place (its fields first, then the session's, the order
 * the serialized entry has always had) instead of spread into a copy of its 17 fields, once per booked trade.
 */
function pushEntry(items: LedgerItem[], walIndex: number, book: Book, entry: Omit<LedgerEntry, 'sessionId' | 'venue'>): void {
  const complete = entry as LedgerEntry;
  complete.sessionId = book.sessionId;
  complete.venue = book.venue;
  items.push({ walIndex, entry: complete });
}

/**
 * The ledger entries of one event, appended to `items`. A function of its own, not a closure made per event: under
 * tsx (`npm start`) each function made at run time is also named (esbuild's __name, a defineProperty), which cost the
 * engine ~0.7 µs per WAL event here (bench/command-cost.ts profile).
 */
function ledgerOfEvent(event: WalEvent, walIndex: number, books: Map<string, Book>, before: DurableState, items: LedgerItem[]): void {
  switch (event.type) {
    case 'session.started':
      books.set(event.userId, {
        sessionId: sessionIdOf({ userId: event.userId, startedAtMs: event.atMs }),
        venue: event.mode,
        positions: fewKeysEmptyDict(),
        exchangeFillKeys: [],
      });
      return;
    case 'session.closed': {
      const book = bookOf(books, before, event.userId);
      if (book) books.set(event.userId, { ...book, positions: fewKeysEmptyDict() });
      return;
    }
    case 'position.adopted': {
      const book = bookOf(books, before, event.userId);
      if (book)
        books.set(event.userId, {
          ...book,
          positions: fewKeysDictWith(book.positions, event.symbol, { qty: toQty(event.qty), entryPrice: toPrice(event.entryPrice) }),
        });
      return;
    }
    case 'fill': {
      const book = bookOf(books, before, event.userId);
      if (!book) return;
      const qty = toQty(event.qty);
      const price = toPrice(event.price);
      const result = applyFillToPosition(book.positions[event.symbol], event.side === 'BUY' ? qty : neg(qty), price);
      books.set(event.userId, { ...book, positions: fewKeysDictWith(book.positions, event.symbol, { qty: result.qty, entryPrice: result.entryPrice }) });
      pushEntry(items, walIndex, book, {
        kind: 'fill',
        userId: event.userId,
        symbol: event.symbol,
        clientOrderId: event.clientOrderId,
        exchangeOrderId: null,
        side: event.side,
        qty,
        price,
        ...money(result.realizedPnlUsd, zero, zero),
        tradeId: null,
        cause: null,
        timeMs: event.atMs,
      });
      return;
    }
    case 'fee': {
      const book = bookOf(books, before, event.userId);
      if (!book) return;
      pushEntry(items, walIndex, book, {
        kind: 'fee',
        userId: event.userId,
        symbol: event.symbol,
        clientOrderId: event.clientOrderId,
        ...noTrade,
        ...money(zero, toUsd(event.feeUsd), zero),
        // The exchange's trade id when known; else the order's filled quantity after the trade: which trade it was.
        tradeId: event.tradeId ?? `${event.clientOrderId}:${event.cumQty}`,
        timeMs: event.atMs,
      });
      return;
    }
    case 'funding': {
      const book = bookOf(books, before, event.userId);
      if (!book) return;
      pushEntry(items, walIndex, book, {
        kind: 'funding',
        userId: event.userId,
        symbol: event.symbol,
        clientOrderId: null,
        ...noTrade,
        ...money(zero, zero, toUsd(event.amountUsd)),
        tradeId: event.exchangeId,
        timeMs: event.atMs,
      });
      return;
    }
    case 'exchange_fill': {
      const book = bookOf(books, before, event.userId);
      const key = exchangeFillKey(event.exchangeOrderId, event.cumQty);
      // The fold books a repeat once only; so does the ledger.
      if (!book || book.exchangeFillKeys.includes(key)) return;
      const result = applyFillToPosition(book.positions[event.symbol], event.side === 'BUY' ? event.qty : neg(event.qty), event.price);
      books.set(event.userId, {
        ...book,
        positions: fewKeysDictWith(book.positions, event.symbol, { qty: result.qty, entryPrice: result.entryPrice }),
        exchangeFillKeys: [...book.exchangeFillKeys, key],
      });
      pushEntry(items, walIndex, book, {
        kind: 'exchange_fill',
        userId: event.userId,
        symbol: event.symbol,
        clientOrderId: event.clientOrderId,
        exchangeOrderId: event.exchangeOrderId,
        side: event.side,
        qty: event.qty,
        price: event.price,
        ...money(event.realizedPnlUsd, event.feeUsd, zero),
        tradeId: key,
        cause: event.cause,
        timeMs: event.atMs,
      });
      return;
    }
    case 'exchange_trade': {
      const book = bookOf(books, before, event.userId);
      if (!book) return;
      // The money of a trade whose push never came; the position it moved is reconcile's (no position here).
      pushEntry(items, walIndex, book, {
        kind: 'exchange_fill',
        userId: event.userId,
        symbol: event.symbol,
        clientOrderId: null,
        exchangeOrderId: event.exchangeOrderId,
        side: event.side,
        qty: event.qty,
        price: event.price,
        ...money(event.realizedPnlUsd, event.feeUsd, zero),
        tradeId: bookedTradeKey(event.symbol, event.tradeId),
        cause: null,
        timeMs: event.atMs,
      });
      return;
    }
    default:
      return;
  }
}
