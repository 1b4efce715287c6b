import { describe, expect, it } from 'vitest';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { parseOutboundEvent } from '../../src/contract/outbound.js';
import { statusResultSchema } from '../../src/contract/command-results.js';
import type { LedgerEntry } from '../../src/contract/ledger.js';
import { buildRoundTrips } from '../../src/core/round-trips.js';
import type { ClosedTradesRead } from '../../src/services/closed-trades.js';
import { formatOutbound, formatStatus } from '../../src/services/telegram/format.js';
import { dailyHtml, performanceHtml, profitHtml, receivedText } from '../../src/services/telegram/messages.js';
import { htmlProblem } from '../support/fake-telegram-api.js';
import { ledgerEntry } from '../support/ledger-entry.js';
import { asOfMs, traderSummary } from '../support/trader-summary.js';

// Issue 15 items 2, 3 and 7 in the chat: a trader's status (mark, uPnL, notional, entry on the tick, stop-loss floor
// and distance, time left, session age, kill switch with the next step), closed trades, replies in the user's words,
// all in Telegram HTML that Telegram's parser accepts whatever the engine's texts hold.

const summary = traderSummary({
  userId: 'tg111',
  positions: {
    ...(traderSummary().positions as Record<string, unknown>),
    BTCUSDT: {
      qty: -0.006,
      entryPrice: 59973.6,
      exitPrice: null,
      notionalUsd: null,
      unrealizedPnlUsd: null,
      qtyExact: '-0.006',
      entryAtTick: '59973.6',
      mark: null,
    },
  },
  unpricedSymbols: ['BTCUSDT'],
});

function reply(commandType: string, status: 'done' | 'rejected', result: unknown, reason: string | null = null): OutboundEvent {
  const parsed = parseOutboundEvent({ type: 'reply', commandId: 'c', userId: 'tg111', commandType, status, reason, result, atMs: asOfMs });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.event;
}

describe("a trader's status in the chat", () => {
  it('shows mark at bid/ask, uPnL, notional, entry on the tick, the stop-loss floor and distance, time left and age', () => {
    const text = formatStatus(statusResultSchema.parse({ halted: false, session: summary }), 'status');
    expect(text).toContain('📊 <b>Status</b>: paper session, active, running 2h 3m');
    expect(text).toContain('Stop-loss: 5% — floor $950.00, equity $48.78 above it');
    expect(text).toContain('Horizon: flattens in 5h 12m');
    expect(text).toContain('<b>SOLUSDT</b> long 0.3 @ 149.904 · mark 149.87 (bid) · $44.96 · uPnL -$0.01');
    expect(text).toContain('<b>BTCUSDT</b> short 0.006 @ 59973.6 · no quote');
    expect(text).not.toMatch(/149\.9036|0\.30000000000000004|2030-01-01T/);
    expect(htmlProblem(text)).toBeNull();
  });

  it('shows a closed session as it was set, not where it stands: no floor distance, time left or running age', () => {
    const closed = { ...summary, status: 'closed', positions: {} };
    const text = formatStatus(statusResultSchema.parse({ halted: false, session: closed }), 'status');
    expect(text).toContain('📊 <b>Status</b>: paper session, closed\n');
    expect(text).toContain('Stop-loss: 5%\n');
    expect(text).toContain('Horizon: 2030-01-01T17:12:30Z');
    expect(text).not.toMatch(/floor|above it|flattens in|running/);
  });

  it('says why a closed session ended, without telling the trader to stop it again', () => {
    // The engine keeps a closed session's kill switch engaged (it flattened, then /stop closed it).
    const ended = { ...summary, status: 'closed', positions: {}, killSwitch: { engaged: true, reason: 'horizon', atMs: asOfMs - 10 * 60_000 } };
    const text = formatStatus(statusResultSchema.parse({ halted: false, session: ended }), 'status');
    expect(text).toContain('📊 <b>Status</b>: paper session, closed\n');
    expect(text).toContain('🛑 Closed after its kill switch: the horizon was reached; /session a new session to trade again.');
    expect(text).not.toMatch(/kill switch ON|\/stop the session/);
  });

  it('says the kill switch is on, why, since when, and what to do next', () => {
    const killed = { ...summary, killSwitch: { engaged: true, reason: 'stop_loss', atMs: asOfMs - 10 * 60_000 } };
    const text = formatStatus(statusResultSchema.parse({ halted: false, session: killed }), 'status');
    expect(text).toContain('kill switch ON');
    expect(text).toContain(
      '🛑 Kill switch ON 10m ago: the stop-loss was hit. Positions are closed and no new ones are opened; /stop the session, then /session a new one to trade again.',
    );
  });

  it('still reads a summary from an engine without the new fields', () => {
    const { startedAtMs: _s, asOfMs: _a, stopLossFloorUsd: _f, stopLossDistanceUsd: _d, horizonDeadlineMs: _h, ...old } = summary as Record<string, unknown>;
    const text = formatStatus(
      statusResultSchema.parse({ halted: false, session: { ...old, positions: { BTCUSDT: { qty: 0.01, entryPrice: 50000 } } } }),
      'status',
    );
    expect(text).toContain('Stop-loss: 5%');
    expect(text).toContain('<b>BTCUSDT</b> long 0.01 @ 50000 · no quote');
    expect(htmlProblem(text)).toBeNull();
  });
});

describe('replies in the user words, as valid Telegram HTML', () => {
  it('names commands as typed and escapes what the engine says', () => {
    expect(receivedText('session.start')).toBe('received ✓ /session');
    expect(receivedText('session.exit')).toBe('received ✓ /exit');
    const refusal = formatOutbound(reply('session.stop', 'rejected', null, 'no running session; start one first'));
    expect(refusal).toBe('❌ <b>/stop</b> refused: no running session; start one first. Start one with /session paper &lt;capitalUsd&gt;.');
    const hostile = formatOutbound(reply('session.exit', 'rejected', null, 'weird <b>symbol</b> & <script>'));
    expect(hostile).toBe('❌ <b>/exit</b> refused: weird &lt;b&gt;symbol&lt;/b&gt; &amp; &lt;script&gt;.');
    const alert = formatOutbound({ type: 'alert', userId: 'tg111', kind: 'halt', message: 'a < b & c', atMs: 0 });
    for (const text of [refusal, hostile, alert]) expect(htmlProblem(text ?? '')).toBeNull();
  });

  it('answers /exit with what is being closed', () => {
    expect(formatOutbound(reply('session.exit', 'done', { symbol: 'BTCUSDT', qty: '-0.006', flattenOrderId: 'qe1-9', cancelledOrderIds: ['qe1-8'] }))).toBe(
      '✅ Closing <b>BTCUSDT</b>: 0.006 at market (reduce-only). The fill follows. Cancelled 1 open order.',
    );
    expect(formatOutbound(reply('session.exit', 'done', { symbol: 'ETHUSDT', qty: '0', flattenOrderId: null, cancelledOrderIds: ['a', 'b'] }))).toBe(
      '✅ <b>ETHUSDT</b>: nothing held. Cancelled 2 open orders.',
    );
  });
});

describe('closed trades in the chat', () => {
  const T = Date.UTC(2030, 0, 10);
  const entry = (e: Partial<LedgerEntry> & Pick<LedgerEntry, 'kind'>): LedgerEntry => ledgerEntry({ userId: 'tg111', sessionId: 'tg111:1', timeMs: T, ...e });
  const d = (v: string) => v as LedgerEntry['qty'] & LedgerEntry['price'] & LedgerEntry['feeUsd'];
  const entries = [
    entry({ kind: 'fill', side: 'BUY', qty: d('1'), price: d('100'), clientOrderId: 'o1', timeMs: T }),
    entry({ kind: 'fill', side: 'SELL', qty: d('1'), price: d('110'), clientOrderId: 'o2', realizedPnlUsd: d('10'), netUsd: d('10'), timeMs: T + 1 }),
    entry({ kind: 'fee', clientOrderId: 'o2', feeUsd: d('0.5'), netUsd: d('-0.5'), timeMs: T + 1 }),
    entry({ kind: 'fill', symbol: 'ETHUSDT', side: 'SELL', qty: d('2'), price: d('50'), clientOrderId: 'o3', timeMs: T + 2 }),
    entry({
      kind: 'fill',
      symbol: 'ETHUSDT',
      side: 'BUY',
      qty: d('2'),
      price: d('52'),
      clientOrderId: 'o4',
      realizedPnlUsd: d('-4'),
      netUsd: d('-4'),
      timeMs: T + 3,
    }),
  ];
  const read: ClosedTradesRead = { trips: buildRoundTrips(entries), unreadable: 0, problems: [], partial: false };

  it('/profit, /daily and /performance', () => {
    const profit = profitHtml(read);
    expect(profit).toContain('Trades: 2 · won 1 · lost 1 · win rate 50%');
    expect(profit).toContain('Net: <b>+$5.50</b> (realized +$6.00, fees -$0.50, funding $0.00)');
    expect(profit).toContain('Best: BTCUSDT +$9.50 (1 trade)');
    expect(profit).toContain('Worst: ETHUSDT -$4.00 (1 trade)');
    expect(profit).toContain('Max drawdown: $4.00');
    const daily = dailyHtml(read, 2, T + 5);
    expect(daily).toContain('2030-01-10  +$5.50  (2 trades)\n2030-01-09  $0.00  (0 trades)');
    const performance = performanceHtml(read);
    expect(performance).toContain('1. <b>BTCUSDT</b> +$9.50 · 1 trade · 100% won\n2. <b>ETHUSDT</b> -$4.00 · 1 trade · 0% won');
    expect(profitHtml({ ...read, partial: true })).toMatch(/Partial: only your first 20000 ledger entries/);
    for (const text of [profit, daily, performance]) expect(htmlProblem(text)).toBeNull();
  });
});
