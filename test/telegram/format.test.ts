import { describe, expect, it } from 'vitest';
import { statusResultSchema } from '../../src/contract/command-results.js';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { parseOutboundEvent } from '../../src/contract/outbound.js';
import { sessionSummarySchema } from '../../src/contract/session-summary.js';
import { chatIdForEngineUser, telegramConfigFromEnv } from '../../src/services/telegram/config.js';
import { formatOutbound, formatStatus, usd } from '../../src/services/telegram/format.js';
import { maxHtmlMessageChars as maxMessageChars } from '../../src/services/telegram/messages.js';
import { helpText } from '../../src/services/telegram/messages.js';
import { createViewMemory, planDelivery } from '../../src/services/telegram/relay.js';
import { scrub } from '../../src/services/telegram/safe-error.js';

const session = {
  userId: 'tg111',
  mode: 'paper',
  status: 'active',
  capitalUsd: 1000,
  stopLossPct: 5,
  horizonDeadline: '2030-01-01T00:00:00.000Z',
  paused: false,
  killSwitch: { engaged: false, reason: null, atMs: null },
  positions: { BTCUSDT: { qty: 0.01, entryPrice: 50000 }, ETHUSDT: { qty: 0, entryPrice: 0 }, SOLUSDT: { qty: -2, entryPrice: 100 } },
  realizedPnlUsd: 12.5,
  equityUsd: 1010.25,
  unrealizedPnlUsd: -2.25,
  unpricedSymbols: [],
  grossExposureUsd: 700,
  openOrders: [{ clientOrderId: 'qe1-1', symbol: 'BTCUSDT', side: 'BUY', quantity: '0.002', price: '49990.0', status: 'NEW', purpose: 'entry' }],
};

function rawReply(
  commandType: string | null,
  status: 'accepted' | 'rejected' | 'done',
  result: unknown = null,
  reason: string | null = null,
): Record<string, unknown> {
  return { type: 'reply', commandId: 'c1', userId: 'tg111', commandType, status, reason, result, atMs: 0 };
}

/** A reply as the relay hands it over: parsed by the contract. */
function reply(...args: Parameters<typeof rawReply>): OutboundEvent {
  const parsed = parseOutboundEvent(rawReply(...args));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.event;
}

describe('telegram formatting', () => {
  it('renders the three status views from one status result', () => {
    const result = statusResultSchema.parse({ halted: false, session });
    const status = formatStatus(result, 'status');
    expect(status).toContain('paper session, active');
    expect(status).toContain('Capital: $1,000.00');
    expect(status).toContain('Equity: $1,010.25');
    expect(status).toContain('Stop-loss: 5%');
    expect(status).toContain('<b>BTCUSDT</b> long 0.01 @ 50000');
    expect(status).toContain('<b>SOLUSDT</b> short 2 @ 100');
    expect(status).not.toContain('ETHUSDT'); // flat symbols are not positions
    const positions = formatStatus(result, 'positions');
    expect(positions).toContain('BUY 0.002 BTCUSDT @ 49990.0 (entry)');
    expect(positions).not.toContain('Realized');
    const pnl = formatStatus(result, 'pnl');
    expect(pnl).toContain('Realized: +$12.50');
    expect(pnl).toContain('Unrealized (at bid/ask): -$2.25');
    expect(pnl).toContain('+$10.25');
    expect(pnl).not.toContain('BTCUSDT');
    expect(formatStatus({ halted: true, session: null }, 'status')).toMatch(/halted[\s\S]*No session/);
  });

  it('renders the full status when the view is forgotten; a result of an unexpected shape or command is refused by the contract', () => {
    expect(formatOutbound(reply('status', 'done', { halted: false, session }))).toContain('📊 <b>Status</b>');
    expect(parseOutboundEvent(rawReply('status', 'done', { surprise: 1 }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/invalid status result/),
    });
    expect(parseOutboundEvent(rawReply('future.command', 'done', { x: 1 }))).toMatchObject({ ok: false, reason: expect.stringMatching(/unknown reply/) });
    expect(planDelivery(JSON.stringify(rawReply('status', 'done', { surprise: 1 })), { get: () => null })).toMatchObject({ kind: 'skip' });
  });

  it('relays answers: rejected with the reason, accepted, done per command', () => {
    expect(formatOutbound(reply('session.start', 'rejected', null, 'a session is already active; stop it first'))).toBe(
      '❌ <b>/session</b> refused: a session is already active; stop it first.',
    );
    expect(formatOutbound(reply('session.stop', 'accepted', { flattening: [] }))).toMatch(/Stopping/);
    expect(formatOutbound(reply('session.stop', 'done', { realizedPnlUsd: -3 }))).toBe('✅ Session closed, flat. Realized PnL: -$3.00');
    expect(formatOutbound(reply('session.stop', 'done', { realizedPnlUsd: -3, feesUsd: 1.25, fundingUsd: 0.5, netPnlUsd: -3.75 }))).toBe(
      '✅ Session closed, flat. Net: <b>-$3.75</b> (realized -$3.00, fees -$1.25, funding +$0.50)',
    );
    expect(formatOutbound(reply('session.start', 'done', session))).toMatch(/Session started: paper, capital \$1,000.00/);
    // The stop-loss and the horizon each on a line of its own, as /status shows them (they shared one, two spaces apart).
    const started = formatOutbound(reply('session.start', 'done', session)) ?? '';
    expect(started.split('\n').slice(1)).toEqual([expect.stringMatching(/^Stop-loss: /), expect.stringMatching(/^Horizon: /)]);
    expect(formatOutbound(reply('session.set_stoploss', 'done', { stopLossPct: 2.5 }))).toBe('✅ Stop-loss set to 2.5% of capital.');
    expect(formatOutbound(reply('session.pause', 'done', { paused: true, note: '' }))).toMatch(/Paused/);
    expect(formatOutbound(reply('trades', 'done', { trades: [] }))).toBe('No trades yet.');
    expect(
      formatOutbound(
        reply('trades', 'done', {
          trades: [
            {
              clientOrderId: 'q',
              symbol: 'BTCUSDT',
              side: 'SELL',
              quantity: '0.5',
              // As the exchange writes it: trailing zeros to its price precision.
              avgPrice: '50000.10000',
              purpose: 'flatten',
              status: 'FILLED',
              atMs: Date.UTC(2030, 0, 2, 3, 4, 5),
            },
          ],
        }),
      ),
    ).toContain('2030-01-02 03:04:05 SELL 0.5 BTCUSDT @ 50000.1 (flatten, FILLED)');
    const users = formatOutbound(
      reply('admin.users', 'done', {
        halted: true,
        liveTradingEnabled: false,
        liveApproved: ['tg5'],
        users: [
          {
            userId: 'tg5',
            mode: 'paper',
            status: 'active',
            capitalUsd: 100,
            equityUsd: 99,
            paused: true,
            killSwitch: { engaged: false, reason: null, atMs: null },
            liveApproved: true,
          },
        ],
      }),
    );
    expect(users).toContain('tg5: paper active, capital $100.00, equity $99.00 [paused, live approved]');
    expect(users).toContain('trading halted');
    expect(formatOutbound(reply('admin.approve_live', 'done', { userId: 'tg5', liveApproved: true, liveTradingEnabled: true }))).toBe(
      '✅ tg5: live trading approved.',
    );
  });

  it('relays alerts and ignores equity samples and unknown event types', () => {
    expect(formatOutbound({ type: 'alert', userId: 'tg1', kind: 'stop_loss', message: 'equity below stop', atMs: 0 })).toBe(
      '🛑 Alert (stop_loss): equity below stop',
    );
    expect(formatOutbound({ type: 'equity', userId: 'tg1', summary: sessionSummarySchema.parse(session), atMs: 0 })).toBeNull();
    expect(parseOutboundEvent({ type: 'mystery' }).ok).toBe(false);
  });

  it('keeps every message within Telegram limits', () => {
    const long = formatOutbound(reply('x', 'rejected', null, 'y'.repeat(10_000)));
    expect(long?.length).toBeLessThanOrEqual(maxMessageChars);
    expect(usd(-1234.5)).toBe('-$1,234.50');
  });

  it('shows admin commands only to admins', () => {
    expect(helpText(false)).toContain('/session paper|live <capitalUsd>');
    expect(helpText(false)).not.toContain('/halt_all');
    expect(helpText(true)).toContain('/halt_all');
  });
});

describe('outbound relay routing', () => {
  const views = createViewMemory(2);

  it('routes tg<N> to chat N and skips everything else', () => {
    expect(chatIdForEngineUser('tg123')).toBe(123);
    expect(chatIdForEngineUser('alice')).toBeNull();
    expect(chatIdForEngineUser('tg12x')).toBeNull();
    expect(chatIdForEngineUser(null)).toBeNull();
    expect(planDelivery(JSON.stringify({ type: 'alert', userId: 'tg9', kind: 'halt', message: 'm', atMs: 0 }), views)).toMatchObject({
      kind: 'send',
      chatId: 9,
    });
    expect(planDelivery(JSON.stringify({ type: 'alert', userId: 'alice', kind: 'halt', message: 'm', atMs: 0 }), views).kind).toBe('skip');
    expect(planDelivery(JSON.stringify({ type: 'equity', userId: 'tg9', summary: {}, atMs: 0 }), views).kind).toBe('skip');
    expect(planDelivery(JSON.stringify({ type: 'brand_new', userId: 'tg9' }), views).kind).toBe('skip');
    expect(planDelivery('not json', views).kind).toBe('skip');
    expect(planDelivery(JSON.stringify({ ...rawReply('x', 'done'), userId: null }), views).kind).toBe('skip');
  });

  it('renders a status reply in the view that asked, and forgets the view after the final answer', () => {
    views.remember('c1', 'pnl');
    const plan = planDelivery(JSON.stringify(reply('status', 'done', { halted: false, session })), views);
    expect(plan).toMatchObject({ kind: 'send', forgetView: 'c1' });
    if (plan.kind === 'send') expect(plan.text).toMatch(/^💰 PnL/);
    views.forget('c1');
    const again = planDelivery(JSON.stringify(reply('status', 'done', { halted: false, session })), views);
    if (again.kind === 'send') expect(again.text).toMatch(/^📊 <b>Status<\/b>/);
  });

  it('remembers a bounded number of views', () => {
    const memory = createViewMemory(2);
    memory.remember('a', 'pnl');
    memory.remember('b', 'pnl');
    memory.remember('c', 'pnl');
    expect(memory.size()).toBe(2);
    expect(memory.get('a')).toBeNull();
    expect(memory.get('c')).toBe('pnl');
  });
});

describe('telegram configuration', () => {
  it('parses the allow-lists and defaults, and names a missing token without any value', () => {
    const config = telegramConfigFromEnv({ TELEGRAM_BOT_TOKEN: '1:abc', QE_TELEGRAM_USER_IDS: '1, 2', QE_TELEGRAM_ADMIN_IDS: '3' });
    expect(config).toEqual({ token: '1:abc', apiRoot: 'https://api.telegram.org', access: { userIds: ['1', '2'], adminIds: ['3'], ratePerMin: 20 } });
    expect(() => telegramConfigFromEnv({})).toThrow(/TELEGRAM_BOT_TOKEN/);
    expect(() => telegramConfigFromEnv({ TELEGRAM_BOT_TOKEN: 'x', QE_TELEGRAM_USER_IDS: 'bob' })).toThrow(/QE_TELEGRAM_USER_IDS/);
  });

  it('scrubs tokens from error text', () => {
    expect(scrub('request to http://h/bot123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/getMe failed', [])).toBe('request to http://h/bot[redacted]/getMe failed');
    expect(scrub('key=SECRETKEY', ['SECRETKEY'])).toBe('key=[redacted]');
  });
});
