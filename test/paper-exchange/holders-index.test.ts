import { describe, expect, it } from 'vitest';
import { MatchingEngine } from '../../src/paper-exchange/matching.js';
import { parseNewOrder } from '../../src/paper-exchange/order-validation.js';
import { createPrng, SymbolMarket } from '../../src/paper-exchange/price-process.js';
import { defaultSimSymbols } from '../../src/paper-exchange/server.js';
import { deriveRules } from '../../src/paper-exchange/symbols.js';
import type { SimAccount } from '../../src/paper-exchange/matching.js';

// The simulator's holders of a symbol (funding, and the full liquidation pass the price bands are tested against)
// come from a list of the accounts that may hold it, not a pass over every account: at 10 000 accounts that pass was
// the simulator's biggest cost. The list must give what the pass gave, in the same (account) order, as accounts open, close, are dropped
// and come back, and when positions are restored whole.

function engineOf(): { engine: MatchingEngine; market: SymbolMarket; symbol: string } {
  const rules = deriveRules(defaultSimSymbols[1] ?? fail('no ETHUSDT'));
  const market = new SymbolMarket(rules, createPrng(7), 0);
  const engine = new MatchingEngine(new Map([[rules.symbol, market]]), 100_000, {
    orderUpdate: () => undefined,
    positionUpdate: () => undefined,
    fundingUpdate: () => undefined,
  });
  return { engine, market, symbol: rules.symbol };
}

function fail(message: string): never {
  throw new Error(message);
}

/** What holders() answered before the list: every account, in order, with a position that is not zero. */
function byFullPass(engine: MatchingEngine, symbol: string): string[] {
  const out: string[] = [];
  for (const key of engine.accountKeys()) {
    const account = engine.account(key);
    if ((account.positions.get(symbol)?.qtyUnits ?? 0n) !== 0n) out.push(key);
  }
  return out;
}

describe('the holders of a symbol', () => {
  it('are the accounts a pass over all of them finds, in their order', () => {
    const { engine, market, symbol } = engineOf();
    const trade = (key: string, side: 'BUY' | 'SELL', quantity: string, reduceOnly = false): void => {
      const params = new Map([
        ['symbol', symbol],
        ['side', side],
        ['type', 'MARKET'],
        ['quantity', quantity],
        ...(reduceOnly ? [['reduceOnly', 'true'] as [string, string]] : []),
      ]);
      const { input } = parseNewOrder(params, market, 0);
      engine.place(key, input, { forcePostOnlyReject: false, receivedAt: 0, nowMs: 0 });
    };
    const holders = (): string[] => engine.holders(symbol).map((h) => h.account.key);
    // Accounts that never trade still exist (a status read): the pass skipped them, as the list does.
    for (const key of ['a', 'b', 'c', 'd', 'e']) engine.account(key);
    trade('d', 'BUY', '0.100');
    trade('b', 'SELL', '0.200');
    trade('e', 'BUY', '0.300');
    expect(holders()).toEqual(['b', 'd', 'e']);
    expect(holders()).toEqual(byFullPass(engine, symbol));
    // One closes, one is dropped, one that never held opens.
    trade('d', 'SELL', '0.100', true);
    engine.dropAccount('e');
    trade('a', 'BUY', '0.100');
    expect(holders()).toEqual(['a', 'b']);
    // The dropped account comes back (a new account, last in order) and the closed one opens again.
    trade('e', 'SELL', '0.100');
    trade('d', 'BUY', '0.100');
    expect(holders()).toEqual(['a', 'b', 'd', 'e']);
    expect(holders()).toEqual(byFullPass(engine, symbol));
    // Positions restored whole (the persistence path) are seen too.
    const restored: SimAccount = engine.account('f');
    restored.positions = new Map([[symbol, { qtyUnits: 5n, entryPrice: 2_000, realizedPnl: 0, updateTimeMs: 0 }]]);
    engine.notePositions(restored);
    expect(holders()).toEqual(['a', 'b', 'd', 'e', 'f']);
    expect(holders()).toEqual(byFullPass(engine, symbol));
    // And no pass over every account: 500 that hold nothing are not looked at.
    for (let i = 0; i < 500; i += 1) engine.account(`idle-${i}`);
    const accounts = (engine as unknown as { accounts: Map<string, SimAccount> }).accounts;
    let passes = 0;
    const values = accounts.values.bind(accounts);
    accounts.values = () => {
      passes += 1;
      return values();
    };
    expect(holders()).toEqual(['a', 'b', 'd', 'e', 'f']);
    expect(passes).toBe(0);
  });
});
