import type { ReplyEvent } from '../../contract/outbound.js';
import type { SessionSummary } from '../../contract/session-summary.js';
import type { ReplyResult, StatusResult, UsersResult } from '../../contract/command-results.js';
import type { LedgerKind, LedgerView } from '../../contract/ledger.js';
import { horizonLeft, killSwitchLine, sessionAge, stopLossStanding } from '../trader-view.js';

// The CLI's answers for people: a line or a small table per reply. Pure. Summaries carry display numbers
// (src/contract/session-summary.ts), so they are rounded here: dollars to cents, prices to significant digits
// (the CLI has no exchange info to know a symbol's tick), quantities without float noise.

/** Significant digits shown for a price: enough for every Binance tick at its symbol's price level. */
const priceSignificantDigits = 6;
/** Significant digits shown for a quantity: far below any lot step, far above float noise. */
const qtySignificantDigits = 10;

const cents = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** `$1,234.50`, `-$0.02`. */
export function usd(amount: number): string {
  const rounded = Math.round(amount * 100) / 100;
  return `${rounded < 0 ? '-' : ''}$${cents.format(Math.abs(rounded))}`;
}

function significant(value: number, digits: number): string {
  if (value === 0) return '0';
  // toPrecision then Number drops the noise and the trailing zeros; the string keeps it out of exponent form.
  const rounded = Number(value.toPrecision(digits));
  return Math.abs(rounded) >= 1e-6 ? rounded.toString() : rounded.toFixed(12).replace(/0+$/, '');
}

export const price = (value: number): string => significant(value, priceSignificantDigits);
export const qty = (value: number): string => significant(value, qtySignificantDigits);

/** Columns padded to their widest cell, two spaces apart. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}

const cliWords = { stop: 'stop', start: 'start' };

/** A price as the engine gave it exactly (on the tick), else the display number to significant digits. */
function exactOr(exact: string | null | undefined, fallback: number | null | undefined): string {
  if (typeof exact === 'string') return exact.replace(/^-/, '');
  return fallback === null || fallback === undefined ? 'no quote' : price(fallback);
}

function stopLossText(s: SessionSummary): string {
  if (s.stopLossPct === null) return 'no stop-loss';
  const standing = stopLossStanding(s);
  if (standing === null) return `stop-loss ${s.stopLossPct}%`;
  const distance = standing.distanceUsd;
  const where = distance === null ? '' : `, equity ${usd(Math.abs(distance))} ${distance >= 0 ? 'above' : 'below'} it`;
  return `stop-loss ${s.stopLossPct}%: floor ${usd(standing.floorUsd)}${where}`;
}

function horizonText(s: SessionSummary): string {
  if (s.horizonDeadline === null) return 'no horizon';
  const left = horizonLeft(s);
  return left === null ? `horizon ${s.horizonDeadline.replace(/\.\d+Z$/, 'Z')}` : `horizon ${left}`;
}

function sessionLines(s: SessionSummary): string[] {
  const age = sessionAge(s);
  const head = [
    `${s.userId}: ${s.mode} session ${s.status}${s.paused ? ' (paused)' : ''}${age === null ? '' : ` for ${age}`}`,
    `capital ${usd(s.capitalUsd)}`,
    stopLossText(s),
    horizonText(s),
  ].join(' · ');
  const lines = [head];
  const kill = killSwitchLine(s, cliWords);
  if (kill !== null) lines.push(kill);
  const symbols = Object.keys(s.positions).sort();
  if (symbols.length === 0) lines.push('no open positions');
  else {
    const rows = symbols.map((symbol) => {
      const p = s.positions[symbol];
      if (p === undefined) return [];
      const unrealized = p.unrealizedPnlUsd ?? null;
      const notional = p.notionalUsd ?? null;
      return [
        symbol,
        p.qty >= 0 ? 'long' : 'short',
        typeof p.qtyExact === 'string' ? p.qtyExact.replace(/^-/, '') : qty(Math.abs(p.qty)),
        exactOr(p.entryAtTick, p.entryPrice),
        exactOr(p.mark, p.exitPrice),
        notional === null ? '-' : usd(notional),
        unrealized === null ? 'no quote' : usd(unrealized),
      ];
    });
    lines.push(...table([['symbol', 'side', 'qty', 'entry', 'mark', 'notional', 'uPnL'], ...rows]));
  }
  const money = [`realized ${usd(s.realizedPnlUsd)}`, `fees ${usd(s.feesUsd ?? 0)}`, `funding ${usd(s.fundingUsd ?? 0)}`, `equity ${usd(s.equityUsd)}`];
  lines.push(money.join(' · '));
  if (s.openOrders.length > 0) lines.push(`${s.openOrders.length} open order${s.openOrders.length === 1 ? '' : 's'}`);
  return lines;
}

function statusLines(r: StatusResult, userId: string | null): string[] {
  const halt = r.halted ? ['trading is halted for everyone (an admin resumes it: resume-all)'] : [];
  if (r.session === null) return [...halt, `no session for ${userId ?? 'this user'}; start one: start paper <capitalUsd>`];
  return [...halt, ...sessionLines(r.session)];
}

function usersLines(r: UsersResult): string[] {
  const lines = [`trading ${r.halted ? 'halted' : 'running'} · live trading ${r.liveTradingEnabled ? 'enabled' : 'disabled'}`];
  if (r.users.length === 0) return [...lines, 'no sessions'];
  const rows = r.users.map((u) => [
    u.userId,
    u.mode,
    u.status + (u.paused ? ' (paused)' : '') + (u.killSwitch.engaged ? ' (kill switch)' : ''),
    usd(u.capitalUsd),
    usd(u.equityUsd),
    u.liveApproved ? 'yes' : 'no',
  ]);
  return [...lines, ...table([['user', 'mode', 'status', 'capital', 'equity', 'live approved'], ...rows])];
}

/** A closed session's net and what it comes from; an answer from before the engine gave fees and funding: realized. */
function stoppedLine(r: ReplyResult<'session.stop', 'done'>): string {
  if (r.netPnlUsd === undefined || r.feesUsd === undefined || r.fundingUsd === undefined) return `stopped: realized ${usd(r.realizedPnlUsd)}`;
  return `stopped: net ${usd(r.netPnlUsd)} = realized ${usd(r.realizedPnlUsd)} - fees ${usd(r.feesUsd)} + funding ${usd(r.fundingUsd)}`;
}

/** A reply in a line or a small table; a refusal is one line with the engine's reason. */
export function replyLines(event: ReplyEvent): string[] {
  if (event.status === 'rejected') return [`refused: ${event.reason ?? 'no reason given'}`];
  switch (event.commandType) {
    case 'status':
      return statusLines(event.result, event.userId);
    case 'session.start':
      return event.result === null ? ['started'] : ['started', ...sessionLines(event.result), ...(event.result.notes ?? []).map((note) => `note: ${note}`)];
    case 'session.exit': {
      const r = event.result;
      const cancelled =
        r.cancelledOrderIds.length > 0 ? `; cancelled ${r.cancelledOrderIds.length} open order${r.cancelledOrderIds.length === 1 ? '' : 's'}` : '';
      return [
        r.flattenOrderId === null
          ? `exit ${r.symbol}: nothing held${cancelled}`
          : `exit ${r.symbol}: closing ${r.qty.replace(/^-/, '')} (order ${r.flattenOrderId})${cancelled}`,
      ];
    }
    case 'session.stop':
      if (event.status === 'accepted') {
        const flattening = event.result.flattening;
        return [flattening.length === 0 ? 'stopping: nothing to flatten' : `stopping: flattening ${flattening.join(', ')}`];
      }
      return [stoppedLine(event.result)];
    case 'session.set_stoploss':
      return [`stop-loss set to ${event.result.stopLossPct}% of capital`];
    case 'session.set_horizon':
      return [`horizon set to ${event.result.horizonDeadline.replace(/\.\d+Z$/, 'Z')}`];
    case 'session.pause':
    case 'session.resume':
      return [`${event.result.paused ? 'paused' : 'resumed'}${event.result.note ? `: ${event.result.note}` : ''}`];
    case 'signals.route':
      return [
        ...event.result.routed.map((r) => `${r.userId} ${r.symbol}: ${r.skipped !== undefined ? `skipped (${r.skipped})` : `order ${r.clientOrderId ?? ''}`}`),
        ...Object.entries(event.result.atTarget ?? {}).map(([symbol, users]) => `${symbol}: ${users} at target already`),
      ];
    case 'admin.halt_all':
    case 'admin.resume_all':
      return [event.result.halted ? 'halted: every session is being flattened; no new entries for anyone until resume-all' : 'resumed: trading allowed again'];
    case 'admin.approve_live':
      return [
        `${event.result.userId}: live trading ${event.result.liveApproved ? 'approved' : 'withdrawn'}` +
          (event.result.liveTradingEnabled ? '' : ' (live trading is disabled on this engine)'),
      ];
    case 'admin.users':
      return usersLines(event.result);
    case 'trades':
      return table([
        ['time (UTC)', 'symbol', 'side', 'qty', 'avg price', 'purpose'],
        ...event.result.trades.map((t) => [utc(t.atMs), t.symbol, t.side, t.quantity, t.avgPrice, t.purpose]),
      ]);
  }
}

function utc(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '');
}

/**
 * The amounts each kind of entry carries (the others are zero by construction, and shown empty): a fill's commission
 * is the fee entry booked apart from it (contract/ledger.ts LedgerKind), so a fill row that read "fee $0.00" looked
 * free; an exchange-side fill (a protective stop, a liquidation) carries its realized PnL and commission together.
 */
const ledgerAmounts: Readonly<Record<LedgerKind, { fee: boolean; realized: boolean; funding: boolean }>> = {
  fill: { fee: false, realized: true, funding: false },
  fee: { fee: true, realized: false, funding: false },
  exchange_fill: { fee: true, realized: true, funding: false },
  funding: { fee: false, realized: false, funding: true },
};

/** An amount of a ledger row: empty where its kind carries none, unless a record says otherwise (never hidden). */
const amountCell = (carried: boolean, amount: string): string => (carried || Number(amount) !== 0 ? usd(Number(amount)) : '');

/** The fill ledger for people: exact decimals as the ledger holds them (they are already on the exchange's steps). */
export function ledgerTable(entries: readonly LedgerView[]): string[] {
  if (entries.length === 0) return ['no fills, fees or funding in the ledger'];
  return table([
    ['time (UTC)', 'user', 'kind', 'symbol', 'side', 'qty', 'price', 'fee', 'realized', 'funding', 'net'],
    ...entries.map((e) => [
      utc(e.timeMs),
      e.userId,
      e.kind,
      e.symbol ?? '',
      e.side ?? '',
      e.qty ?? '',
      e.price ?? '',
      amountCell(ledgerAmounts[e.kind].fee, e.feeUsd),
      amountCell(ledgerAmounts[e.kind].realized, e.realizedPnlUsd),
      amountCell(ledgerAmounts[e.kind].funding, e.fundingUsd),
      usd(Number(e.netUsd)),
    ]),
  ]);
}
