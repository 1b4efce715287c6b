import type { IncomeRead, IncomeRecord } from '../model/income.js';
import { fundingIncomeType } from '../model/income.js';
import type { DecisionContext } from './context.js';
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

/** What a funding payment read from the income history is booked under (Session.fundingIds). */
export function fundingIncomeId(tranId: string): string {
  return `income:${tranId}`;
}

/** Asks for the funding history of the account of `userId` since its session (open or closed) started. */
export function requestFundingRead(ctx: DecisionContext, userId: string): void {
  const session = ctx.durable.sessions[userId];
  if (!session) return;
  const startTimeMs = Math.max(session.startedAtMs, ctx.nowMs - incomeReadWindowMs);
  ctx.effect({ kind: 'read_income', userId, lane: 'normal', incomeType: fundingIncomeType, startTimeMs, askedAtMs: ctx.nowMs });
  noteFundingReadAsked(ctx, userId); // asked again until answered (trade-reads-owed.ts)
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
  for (const order of Object.values(ctx.durable.orders)) withOrders.add(order.userId);
  for (const session of Object.values(ctx.durable.sessions)) {
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
  const session = ctx.durable.sessions[userId];
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
  const records = read.records.filter((r) => r.incomeType === fundingIncomeType).sort(byTimeThenId);
  for (const record of records) {
    if (record.time <= bookedByPush) continue;
    bookFunding(ctx, userId, {
      asset: record.asset,
      amount: record.income,
      symbol: record.symbol === '' ? null : record.symbol,
      exchangeTimeMs: record.time,
      exchangeId: fundingIncomeId(record.tranId),
    });
  }
  if (read.records.length >= incomePageSize) {
    // More than a page of funding within the window is more than the session remembers ids of: reported, not guessed.
    ctx.alert(userId, 'funding', `the income history answered a full page (${incomePageSize}) of funding; older payments may be unbooked`);
  }
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
