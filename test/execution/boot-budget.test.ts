import { describe, expect, it } from 'vitest';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { WalEvent } from '../../src/core/events.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { boot } from '../../src/engine/boot.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { ExchangeAccount } from '../../src/exchange/port.js';
import { memoryRateBudget } from '../../src/exchange/rate-budget.js';
import { requestWeights } from '../../src/engine/request-costs.js';
import { silentLogger } from '../../src/util/logger.js';
import { logHolding, usePaperExchange } from '../support/paper-exchange.js';

// Boot reconciliation draws from the same request-weight budget as every other request. A probe restarting
// the service again and again pushed a minute's weight to 3 155–4 588 against Binance's 2 400, because boot
// read every open session's stops, open orders and positions outside the budget. Here a budget of 1 000 weight
// a minute (100 kept for risk-reducing orders) meets a log with 270 open sessions (810 reads; 7 weight each
// session as documented: stops and open orders of its one symbol, 1 each, and positions, 5) on the simulator: no
// simulated minute may see more than 900 of boot's weight, and every session is still reconciled.

const minuteMs = 60_000;
// 270 sessions: 1 890 weight (over two simulated minutes of the budget), which the paper exchange (counting on the
// wall clock) takes within its 2 400 a minute.
const sessions = 270;

describe('boot reconciliation under the request-weight budget', () => {
  const paperExchange = usePaperExchange(5);

  it('waits for the budget instead of exceeding it, and still reconciles every session', async () => {
    const { connector } = paperExchange();
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 30));
    const events: WalEvent[] = [{ type: 'engine.initialized', epoch: 'b1' }];
    for (let i = 0; i < sessions; i += 1) {
      events.push({
        type: 'session.started',
        userId: `bb${i}`,
        mode: 'paper',
        capitalUsd: 1_000,
        stopLossPct: null,
        horizonDeadlineMs: null,
        atMs: clock.nowMs(),
      });
    }
    const log = await logHolding(clock, events);

    const requestsPerMinute = new Map<number, number>();
    const weightPerMinute = new Map<number, number>();
    const count = <T>(weight: number, call: () => Promise<T>): Promise<T> => {
      const minute = Math.floor(clock.nowMs() / minuteMs);
      requestsPerMinute.set(minute, (requestsPerMinute.get(minute) ?? 0) + 1);
      weightPerMinute.set(minute, (weightPerMinute.get(minute) ?? 0) + weight);
      return call();
    };
    const counted = (account: ExchangeAccount): ExchangeAccount => ({
      ...account,
      queryOrder: (symbol, id) => count(requestWeights.queryOrder, () => account.queryOrder(symbol, id)),
      listProtectiveStops: (symbols) =>
        count(symbols ? symbols.length * requestWeights.openAlgoOrdersOfSymbol : requestWeights.openAlgoOrdersAllSymbols, () =>
          account.listProtectiveStops(symbols),
        ),
      getOpenOrders: (symbols) =>
        count(symbols ? symbols.length * requestWeights.openOrdersOfSymbol : requestWeights.openOrdersAllSymbols, () => account.getOpenOrders(symbols)),
      getPositions: () => count(requestWeights.positionRisk, () => account.getPositions()),
    });
    const accounts = new Map<string, ExchangeAccount>();
    const accountOf = (userId: string): ExchangeAccount => {
      const account = accounts.get(userId) ?? counted(connector.account(paperCredentials(userId)));
      accounts.set(userId, account);
      return account;
    };
    const reconciled = new Set<string>();
    const { engine } = await boot({
      log,
      config: { ...defaultCoreConfig, symbols: ['BTCUSDT'] },
      clock,
      logger: silentLogger(),
      loadFilters: async () => ({ paper: await connector.marketData().getSymbolFilters(['BTCUSDT']) }),
      accountOf,
      onEffects: () => undefined,
      onFatal: (error) => {
        throw error;
      },
      onEngine: (e) => e.observe((input) => void (input.kind === 'reconcile' && reconciled.add(input.userId))),
      // Simulated time: waiting for the budget moves the clock, never the test's wall time.
      retry: { attempts: 3, readDelayMs: 0, sleep: async (ms) => clock.advance(ms) },
      budget: memoryRateBudget({ weightPerMinute: 1_000, reservedForRiskReducingWeight: 100, defaultBackoffMs: 30_000 }),
    });
    expect(reconciled.size).toBe(sessions);
    expect(engine.current.durable.sessions.get('bb0')?.status).toBe('active');
    const total = [...requestsPerMinute.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(sessions * 3);
    expect(Math.max(...weightPerMinute.values())).toBeLessThanOrEqual(900);
    expect(requestsPerMinute.size).toBeGreaterThanOrEqual(3);
  });
});
