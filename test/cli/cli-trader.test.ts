import { describe, expect, it } from 'vitest';
import type { ReplyEvent } from '../../src/contract/outbound.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { replyLines } from '../../src/services/cli/format.js';
import { parseCli, splitArgs } from '../../src/services/cli/parse.js';
import { runCli } from '../../src/services/cli/run-cli.js';
import { commandId, useHarness } from '../support/harness.js';
import { redisUrl } from '../support/redis.js';
import { asOfMs, hourMs, traderSummary } from '../support/trader-summary.js';
import { waitFor } from '../support/wait.js';

// Issue 15 items 2 and 3 in the CLI: a trader's status, `exit --symbol`, and closed trades (profit, daily,
// performance, closed) built from the fill ledger; end to end against the engine and the simulator.

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe("cli: a trader's status", () => {
  const status = (session: Record<string, unknown>): ReplyEvent =>
    ({
      type: 'reply',
      commandId: 'c',
      userId: 'al',
      commandType: 'status',
      status: 'done',
      reason: null,
      result: { halted: false, session },
      atMs: asOfMs,
    }) as ReplyEvent;
  const session = traderSummary({
    killSwitch: { engaged: true, reason: 'horizon', atMs: asOfMs - 3 * 60_000 },
    horizonDeadlineMs: asOfMs + 5 * hourMs + 12 * 60_000,
    equityUsd: 999.99,
    stopLossDistanceUsd: 49.99,
    startedAtMs: asOfMs - 26 * hourMs,
  });

  it('shows mark, notional, entry on the tick, floor and distance, time left, age and the kill switch with the next step', () => {
    expect(replyLines(status(session))).toEqual([
      'al: paper session active for 1d 2h · capital $1,000.00 · stop-loss 5%: floor $950.00, equity $49.99 above it · horizon in 5h 12m',
      'kill switch ON 3m ago: the horizon was reached. Positions are closed and no new ones are opened; stop the session, then start a new one to trade again',
      'symbol   side  qty  entry    mark    notional  uPnL',
      'SOLUSDT  long  0.3  149.904  149.87  $44.96    -$0.01',
      'realized $0.00 · fees $0.00 · funding $0.00 · equity $999.99',
    ]);
  });

  it('shows a closed session as it was set, not where it stands: no floor distance, time left or growing age', () => {
    const closed = status({ ...session, status: 'closed', positions: {}, killSwitch: { engaged: false, reason: null, atMs: null } });
    expect(replyLines(closed)[0]).toBe('al: paper session closed · capital $1,000.00 · stop-loss 5% · horizon 2030-01-01T17:12:30Z');
  });

  it('says why a closed session ended, without telling the trader to stop it again', () => {
    // The engine keeps a closed session's kill switch engaged (it flattened, then /stop closed it).
    const lines = replyLines(status({ ...session, status: 'closed', positions: {} }));
    expect(lines[1]).toBe('closed after its kill switch: the horizon was reached; start a new session to trade again');
    expect(lines.join('\n')).not.toMatch(/stop the session/);
  });

  it('says a halt flattens every session, as the bot asks before it', () => {
    const halt = {
      type: 'reply',
      commandId: 'c',
      userId: 'operator',
      commandType: 'admin.halt_all',
      status: 'done',
      reason: null,
      result: { halted: true },
      atMs: asOfMs,
    };
    expect(replyLines(halt as ReplyEvent)).toEqual(['halted: every session is being flattened; no new entries for anyone until resume-all']);
  });

  it("says a stopped session's net, and the realized PnL, fees and funding it comes from", () => {
    const stopped = (result: Record<string, number>): ReplyEvent =>
      ({ type: 'reply', commandId: 'c', userId: 'al', commandType: 'session.stop', status: 'done', reason: null, result, atMs: asOfMs }) as ReplyEvent;
    expect(replyLines(stopped({ realizedPnlUsd: -0.05, feesUsd: 0.87, fundingUsd: 0.1, netPnlUsd: -0.82 }))).toEqual([
      'stopped: net -$0.82 = realized -$0.05 - fees $0.87 + funding $0.10',
    ]);
    // An answer written before the engine gave fees and funding (the log keeps those): as it was read then.
    expect(replyLines(stopped({ realizedPnlUsd: -0.05 }))).toEqual(['stopped: realized -$0.05']);
  });

  it('parses exit --symbol and the closed-trade queries, refusing what the engine would', () => {
    expect(parseCli(splitArgs(['--user', 'al', 'exit', '--symbol', 'btcusdt']))).toMatchObject({
      command: { type: 'session.exit', symbol: 'BTCUSDT', userId: 'al' },
    });
    expect(() => parseCli(splitArgs(['--user', 'al', 'exit']))).toThrow(/exit needs --symbol SYMBOL/);
    expect(() => parseCli(splitArgs(['--user', 'al', 'exit', '--symbol', 'BTC/USDT']))).toThrow(/--symbol: symbol must be like BTCUSDT/);
    expect(parseCli(splitArgs(['--user', 'al', 'daily']))).toEqual({ kind: 'history', what: 'daily', userId: 'al', count: 7, json: false });
    expect(parseCli(splitArgs(['--user', 'al', 'closed', '5', '--json']))).toEqual({ kind: 'history', what: 'closed', userId: 'al', count: 5, json: true });
    expect(() => parseCli(splitArgs(['--user', 'al', 'daily', '91']))).toThrow(/DAYS must be at most 90/);
    expect(() => parseCli(splitArgs(['profit']))).toThrow(/profit needs --user ID/);
  });
});

describe('cli against a running engine: exit one symbol, then the closed trade', () => {
  const harness = useHarness({ label: 'cli-trader' });
  const cli = (...argv: string[]) => run('--redis-url', redisUrl, '--redis-prefix', harness().prefix, '--timeout-ms', '20000', ...argv);

  it('exit --symbol flattens that symbol reduce-only and keeps the other; profit, closed, performance and daily show the round trip', async () => {
    const h = harness();
    const user = 'cli-trader';
    expect((await cli('--user', user, 'start', 'paper', '10000')).code).toBe(0);
    h.sim.faults.forcePostOnlyReject = true; // the bounded IOC fallback fills at once
    await h.send({
      id: commandId('route'),
      userId: 'signals',
      type: 'signals.route',
      userIds: [user],
      signals: [
        { symbol: 'BTCUSDT', weight: 0.2 },
        { symbol: 'ETHUSDT', weight: -0.2 },
      ],
    });
    const key = paperCredentials(user).apiKey;
    await waitFor('both positions', () => h.sim.position(key, 'BTCUSDT') > 0 && h.sim.position(key, 'ETHUSDT') < 0);
    h.sim.faults.forcePostOnlyReject = false;
    const ethBefore = h.sim.position(key, 'ETHUSDT');

    const status = await cli('--user', user, 'status');
    expect(status.code).toBe(0);
    expect(status.out.join('\n')).toMatch(/BTCUSDT +long +[\d.]+ +[\d.]+ +[\d.]+ +\$[\d,.]+ +-?\$/);

    const exit = await cli('--user', user, 'exit', '--symbol', 'BTCUSDT');
    expect(exit).toMatchObject({ code: 0, err: [] });
    expect(exit.out[0]).toMatch(/^exit BTCUSDT: closing [\d.]+ \(order qe/);
    await waitFor('BTCUSDT flat in the engine and on the exchange', () => {
      const held = h.service.engine.current.durable.sessions.get(user)?.positions.BTCUSDT?.qty;
      return held === '0' && h.sim.position(key, 'BTCUSDT') === 0;
    });
    expect(h.sim.position(key, 'ETHUSDT')).toBe(ethBefore);
    const flatten = h.sim.orders().filter((o) => o.accountKey === key && o.symbol === 'BTCUSDT' && o.type === 'MARKET');
    expect(flatten.map((o) => [o.side, o.reduceOnly])).toEqual([['SELL', true]]);
    expect(h.service.engine.current.durable.sessions.get(user)).toMatchObject({ status: 'active', killSwitch: { engaged: false } });

    const again = await cli('--user', user, 'exit', '--symbol', 'BTCUSDT');
    expect(again).toMatchObject({ code: 1, err: ['refused: you hold no BTCUSDT position and have no open BTCUSDT order'] });

    // The ledger is written with the WAL: the closed trade is there once the fill is.
    const profit = await waitFor('the closed trade', async () => {
      const r = await cli('--user', user, 'profit', '--json');
      const parsed = JSON.parse(r.out[0] ?? '{}') as { closedTrades?: number };
      return parsed.closedTrades === 1 ? parsed : undefined;
    });
    expect(profit).toMatchObject({ closedTrades: 1, openTrades: 1, bestSymbol: { symbol: 'BTCUSDT', trades: 1 }, partial: false, unreadableEntries: 0 });
    const human = await cli('--user', user, 'profit');
    expect(human.out[0]).toMatch(/^closed trades 1 · won [01] · lost [01] · win rate (0|100)%$/);
    expect(human.out[1]).toMatch(/^net [+-]?\$[\d.]+ = realized -?\$[\d.]+ - fees \$[\d.]+ \+ funding -?\$[\d.]+$/);
    const closed = await cli('--user', user, 'closed');
    expect(closed.out[0]).toMatch(/^closed \(UTC\) +symbol +side +qty +entry +exit +fees +net$/);
    expect(closed.out[1]).toMatch(/ BTCUSDT +long +[\d.]+ +[\d.]+ +[\d.]+ +\$[\d.]+ +[+-]?\$[\d.]+$/);
    const performance = await cli('--user', user, 'performance');
    expect(performance.out[1]).toMatch(/^BTCUSDT +1 +(0|100)% +[+-]?\$[\d.]+$/);
    const daily = await cli('--user', user, 'daily', '2', '--json');
    const days = (JSON.parse(daily.out[0] ?? '{}') as { days: { day: string; trades: number }[] }).days;
    expect(days.map((d) => d.trades)).toEqual([1, 0]);
    expect(days[0]?.day).toBe(new Date().toISOString().slice(0, 10));
  });
});
