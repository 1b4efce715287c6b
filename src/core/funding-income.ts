import type { IncomeRead, IncomeRecord } from '../model/income.js';
import { fundingIncomeType } from '../model/income.js';
import type { DecisionContext } from './context.js';
import type { Session } from './state.js';
import { bookFunding } from './fees.js';
import { noteFundingReadAnswered, noteFundingReadAsked } from './trade-reads-owed.js';

// Funding as the exchange records it: every payment is an entry of the account's income history (GET /fapi/v1/income,
// https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Get-Income-History) with an
// id, `tranId`, "unique in the same incomeType for a user". That entry is the record booked, once per tranId. The
// user stream's FUNDING_FEE push (ACCOUNT_UPDATE) carries no such id and dies with the process or a deaf stream, so
// it only triggers a read; so do boot (a push got but not committed, or a read asked for and lost) and a user-stream
// gap (resync). Whichever read sees a payment first books it; the others find its id booked.

/**
 * How far back a read reaches: the session's start, but no more than 7 days (what the income history answers when no
 * range is given, the page cited above). The session remembers the ids of its latest maxFundingIdsKept payments
 * (events.ts): with funding every 8 hours, 7 days are 21 payments a symbol.
 */
export const incomeReadWindowMs = 7 * 24 * 60 * 60 * 1000;

/** The income history's largest page ("Default 100; max 1000", the page cited above). */
export const incomePageSize = 1000;

// A read starts shortly (config.fundingLateRecordMarginMs) before the newest payment already booked
// (Session.fundingBookedThroughMs), in case the exchange writes a payment after a later one. Reading from the
// session's start instead returned again payments whose ids the session no longer remembers (it keeps
// maxFundingIdsKept = 256; a week of 1 h funding on two symbols is 336): they would have been booked twice.

/** What a funding payment read from the income history is booked under (Session.fundingIds). */
export function fundingIncomeId(tranId: string): string {
  return `income:${tranId}`;
}

/**
 * Asks for the funding history of the account of `userId`: from `fromMs` (the next page), else from shortly before
 * the newest payment booked, and never before its session (open or closed) started or the read window.
 */
export function requestFundingRead(ctx: DecisionContext, userId: string, fromMs?: number): void {
  const session = ctx.durable.sessions.get(userId);
  if (!session) return;
  const startTimeMs = fromMs ?? Math.max(session.startedAtMs, ctx.nowMs - incomeReadWindowMs, bookedFloorMs(ctx, session));
  ctx.effect({ kind: 'read_income', userId, lane: 'normal', incomeType: fundingIncomeType, startTimeMs, askedAtMs: ctx.nowMs });
  noteFundingReadAsked(ctx, userId); // asked again until answered (trade-reads-owed.ts)
  ctx.noteFundingReadAt(userId);
}

/**
 * The funding backstop (config.fundingBackstopMs), at a session's periodic check: one holding a position, or seen
 * holding one since its funding history was last asked for (flat since), has it read once the last read (or, never
 * read, its start) is that old, whatever pushes came. A session flat since its last read was paid nothing since.
 */
export function readFundingIfDue(ctx: DecisionContext, session: Session, holding: boolean): void {
  if (!holding && !ctx.market.heldSinceFundingRead.has(session.userId)) return;
  const lastMs = ctx.market.lastFundingReadAtMs.get(session.userId) ?? session.startedAtMs;
  // Over this minute's bound, the read waits for a later check.
  if (ctx.nowMs - lastMs >= ctx.config.fundingBackstopMs && ctx.takeFundingBackstop()) requestFundingRead(ctx, session.userId);
  if (holding) ctx.noteHeldSinceFundingRead(session.userId);
}

/**
 * At boot: for every open session, and every closed one started within the read window (a payment may be booked to
 * its session after it closed: fees.ts), a push the engine got but did not commit is gone, and so is a read it had
 * asked for. One read per such session: work proportional to the sessions, as boot's own scan.
 */
export function requestFundingReadsAtBoot(ctx: DecisionContext): void {
  // Funding is paid on positions only. An open session flat in the log, with no order kept, had none to be paid on
  // unless one was opened behind its back, which reconcile adopts (and reads the funding of then: decide.ts). A read
  // costs 30 weight of the IP's budget: a thousand idle sessions must not spend twelve minutes of it at every boot.
  const withOrders = new Set<string>();
  for (const order of ctx.durable.orders.values()) withOrders.add(order.userId);
  for (const session of ctx.durable.sessions.values()) {
    const mayHaveBeenPaid =
      session.status === 'closed'
        ? session.startedAtMs >= ctx.nowMs - incomeReadWindowMs
        : Object.keys(session.positions).length > 0 || withOrders.has(session.userId);
    if (mayHaveBeenPaid) requestFundingRead(ctx, session.userId);
  }
}

/**
 * Books every funding payment in `read` not booked yet to the session of `userId`, oldest first; a malformed record is
 * alerted, never guessed at. Payments from before the session started belong to an earlier one (bookFunding).
 */
export function onIncomeListed(ctx: DecisionContext, userId: string, incomeType: string, read: IncomeRead, askedAtMs?: number): void {
  const session = ctx.durable.sessions.get(userId);
  if (!session || incomeType !== fundingIncomeType) return;
  noteFundingReadAnswered(ctx, userId, askedAtMs);
  if (read.rejected.length > 0) {
    const reasons = read.rejected.map((r) => `#${r.index}: ${r.reason}`).join('; ');
    ctx.alert(
      userId,
      'funding',
      `${read.rejected.length} funding record(s) of the income history could not be read and are not booked: ${reasons.slice(0, 500)}`,
    );
  }
  const bookedByPush = newestPushBookedMs(session.fundingIds);
  // Older than this, a record's id may be forgotten already: it was booked by an earlier read (requestFundingRead).
  const floorMs = bookedFloorMs(ctx, session);
  const records = read.records.filter((r) => r.incomeType === fundingIncomeType).sort(byTimeThenId);
  for (const record of records) {
    if (record.time <= bookedByPush || record.time < floorMs) continue;
    bookFunding(ctx, userId, {
      asset: record.asset,
      amount: record.income,
      symbol: record.symbol === '' ? null : record.symbol,
      exchangeTimeMs: record.time,
      exchangeId: fundingIncomeId(record.tranId),
    });
  }
  if (read.records.length + read.rejected.length >= incomePageSize) readNextPage(ctx, userId, read);
}

/**
 * A full page may have more behind it: the history answers from the asked startTime forward, `limit` records at most
 * (selectIncome in paper-exchange/income-history.ts), so the next page starts at the newest record's time. Records
 * of that millisecond come again and are found booked by id. A page that is one millisecond throughout cannot be
 * paged past by time: reported, not guessed.
 */
function readNextPage(ctx: DecisionContext, userId: string, read: IncomeRead): void {
  let oldestMs = Number.POSITIVE_INFINITY;
  let newestMs = Number.NEGATIVE_INFINITY;
  for (const record of read.records) {
    oldestMs = Math.min(oldestMs, record.time);
    newestMs = Math.max(newestMs, record.time);
  }
  if (newestMs > oldestMs) {
    requestFundingRead(ctx, userId, newestMs);
    return;
  }
  ctx.alert(userId, 'funding', `the income history answered a full page (${incomePageSize}) of one millisecond; later payments of it may be unbooked`);
}

/** Where reads of a session's funding start at the earliest: shortly before its newest payment booked. */
function bookedFloorMs(ctx: DecisionContext, session: Session): number {
  const through = session.fundingBookedThroughMs;
  return through === undefined ? Number.NEGATIVE_INFINITY : through - ctx.config.fundingLateRecordMarginMs;
}

/**
 * Sessions that booked funding from the push before it was read from the income history hold the push's ids
 * (`funding:<event time>:<asset>:<wallet balance>`, mapping.ts), which no tranId matches. A record at or before the
 * newest such push is taken as booked by it, so a session running across the upgrade is not paid twice.
 */
function newestPushBookedMs(fundingIds: readonly string[]): number {
  let newest = -1;
  for (const id of fundingIds) {
    const match = /^funding:(\d+):/.exec(id);
    if (match?.[1] !== undefined) newest = Math.max(newest, Number(match[1]));
  }
  return newest;
}

function byTimeThenId(a: IncomeRecord, b: IncomeRecord): number {
  if (a.time !== b.time) return a.time - b.time;
  const ids = BigInt(a.tranId) - BigInt(b.tranId);
  return ids < 0n ? -1 : ids > 0n ? 1 : 0;
}
