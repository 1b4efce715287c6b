// The liquidation check of a book change looks only at the accounts whose price band the new mark left
// (breach-bands.ts), not at every holder of the symbol. It must liquidate exactly what the full pass does: the same
// accounts, at the same book change, in the same order, with the same autoclose ids. Two identical exchanges (the
// bands, and the full pass kept as the reference) are driven by the same long random run: many accounts trading
// three symbols at high leverage on fast price walks with jumps, resting orders that fill on the walk, funding,
// accounts dropped and restored whole, and marks that move without a check (a restore resuming the price process).
// Every change that moves a cushion but does not re-band its account shows up here as a missed or late liquidation.
import { describe, expect, it } from 'vitest';
import { SimApiError } from '../../src/paper-exchange/errors.js';
import { payFunding } from '../../src/paper-exchange/funding.js';
import { type LiquidationCheck, MarginBook } from '../../src/paper-exchange/margin.js';
import { MatchingEngine, type NewOrderInput, type SimAccount } from '../../src/paper-exchange/matching.js';
import { createPrng, gaussian, SymbolMarket } from '../../src/paper-exchange/price-process.js';
import { defaultSimSymbols } from '../../src/paper-exchange/server.js';
import { deriveRules } from '../../src/paper-exchange/symbols.js';

interface World {
  markets: Map<string, SymbolMarket>;
  engine: MatchingEngine;
  margin: MarginBook;
  /** Every autoclose order as it was accepted: book change number, account, id, symbol, side, quantity. */
  autocloses: string[];
  bookChanges: number;
}

const startingBalanceUsd = 2_000;

function worldOf(check: LiquidationCheck): World {
  const markets = new Map(defaultSimSymbols.map((spec, i) => [spec.symbol, new SymbolMarket(deriveRules(spec), createPrng(100 + i), 0)]));
  const world = { markets, autocloses: [] as string[], bookChanges: 0 } as World;
  world.engine = new MatchingEngine(markets, startingBalanceUsd, {
    orderUpdate(order, execType) {
      if (execType !== 'NEW' || !order.clientOrderId.startsWith('autoclose-')) return;
      world.autocloses.push(`${world.bookChanges} ${order.accountKey} ${order.clientOrderId} ${order.symbol} ${order.side} ${order.origQtyUnits}`);
    },
    positionUpdate: () => undefined,
    fundingUpdate: () => undefined,
  });
  world.margin = new MarginBook(world.engine, markets, undefined, check);
  return world;
}

/** One random action, the same in every world (drawn once, applied to each). */
type Action = (w: World, nowMs: number) => void;

function drawAction(random: () => number, accountCount: number): Action {
  const symbols = defaultSimSymbols.map((s) => s.symbol);
  const symbol = symbols[Math.floor(random() * symbols.length)] as string;
  const key = `acct-${Math.floor(random() * accountCount)}`;
  const r = random();
  if (r < 0.42) {
    // A book change: a fast walk (≈ 0.4 % a step) with jumps of a few percent now and then.
    const jump = random() < 0.04 ? (random() < 0.5 ? -1 : 1) * (0.02 + 0.04 * random()) : 0;
    const factor = Math.exp(gaussian(random) * 0.004 + jump);
    return (w, nowMs) => {
      const market = w.markets.get(symbol) as SymbolMarket;
      market.setMid(market.midPrice * factor, nowMs);
      w.bookChanges += 1;
      // As the server's publishBook: resting orders the touch reached fill, then the liquidation check.
      w.engine.onBookChange(symbol, nowMs);
      w.margin.liquidateBreached(symbol, nowMs);
    };
  }
  if (r < 0.8) {
    const side = random() < 0.5 ? 'BUY' : 'SELL';
    const limit = random() < 0.4;
    const offsetTicks = Math.floor(random() * 40) - 10;
    const leverage = 1 + random() * 45; // many beyond what an order check would allow
    const reduceOnly = random() < 0.15;
    const checked = random() < 0.4;
    return (w, nowMs) => {
      const market = w.markets.get(symbol) as SymbolMarket;
      const rules = market.rules;
      const notional = leverage * startingBalanceUsd * 0.3;
      const steps = BigInt(Math.max(1, Math.round(notional / market.midPrice / Number(rules.spec.stepSize))));
      const ticks = BigInt(Math.max(1, Math.round(market.midPrice / Number(rules.spec.tickSize)) + (side === 'BUY' ? -offsetTicks : offsetTicks)));
      const input: NewOrderInput = {
        symbol,
        side,
        type: limit ? 'LIMIT' : 'MARKET',
        ...(limit ? { priceUnits: ticks * rules.tickUnits, timeInForce: 'GTC' as const } : {}),
        qtyUnits: steps * rules.stepUnits,
        reduceOnly,
        clientOrderId: `c-${nowMs}`,
      };
      tolerateRefusal(() => {
        if (checked) w.margin.checkOrder(key, input, market);
        w.engine.place(key, input, { forcePostOnlyReject: false, receivedAt: nowMs, nowMs });
      });
    };
  }
  if (r < 0.86) {
    return (w, nowMs) => {
      const open = w.engine.openOrders(key);
      const order = open[open.length - 1];
      if (order) w.engine.cancel(key, order.symbol, { orderId: order.orderId }, nowMs);
    };
  }
  if (r < 0.9) {
    const rateBps = Math.round((random() - 0.5) * 160);
    return (w, nowMs) => payFunding(w.engine, w.markets, rateBps, nowMs);
  }
  if (r < 0.905) {
    return (w) => {
      w.engine.dropAccount(key);
      w.margin.dropAccount(key);
    };
  }
  if (r < 0.915) {
    // A restore: a wallet and positions set whole (snapshot-of.ts), here a copy of another account's with less in the
    // wallet; half of them into accounts that never trade, so that nothing but the restore can have banded them.
    const from = `acct-${Math.floor(random() * accountCount)}`;
    const walletFactor = 0.1 + random();
    const into = random() < 0.5 ? key : `restored-${Math.floor(random() * accountCount)}`;
    return (w) => {
      if (!w.engine.hasAccount(from)) return;
      const source = w.engine.account(from);
      const account = w.engine.account(into);
      account.walletBalance = source.walletBalance * walletFactor;
      account.positions = new Map([...source.positions].map(([s, p]) => [s, { ...p }]));
      w.engine.notePositions(account);
    };
  }
  if (r < 0.92) {
    // A mark that moves with no check of its symbol (a restore resuming the price process from its checkpoint).
    const factor = Math.exp(gaussian(random) * 0.01);
    return (w, nowMs) => {
      const market = w.markets.get(symbol) as SymbolMarket;
      market.setMid(market.midPrice * factor, nowMs);
    };
  }
  return () => undefined;
}

function tolerateRefusal(act: () => void): void {
  try {
    act();
  } catch (error) {
    if (!(error instanceof SimApiError)) throw error;
  }
}

function stateOf(w: World): string[] {
  return w.engine.accountKeys().map((key) => {
    const a: SimAccount = w.engine.account(key);
    const positions = [...a.positions].map(([s, p]) => `${s}:${p.qtyUnits}@${p.entryPrice}`).join(',');
    return `${key} ${a.walletBalance} ${positions} ${w.engine.openOrders(key).length}`;
  });
}

describe('liquidation by price bands', () => {
  it('liquidates what the full pass over every holder does: same accounts, book change, order and ids', () => {
    const bands = worldOf('bands');
    const everyHolder = worldOf('everyHolder');
    const random = createPrng(20_261_203);
    const accountCount = 250;
    for (let step = 0; step < 12_000; step++) {
      const nowMs = 1_000_000 + step * 100;
      const action = drawAction(random, accountCount);
      action(everyHolder, nowMs);
      action(bands, nowMs);
      if (bands.autocloses.length !== everyHolder.autocloses.length) {
        // The first difference, readable: which liquidation one of them made and the other did not (yet).
        const at = bands.autocloses.findIndex((line, i) => line !== everyHolder.autocloses[i]);
        expect({ step, bands: bands.autocloses.slice(at), everyHolder: everyHolder.autocloses.slice(at) }).toEqual({ step, bands: [], everyHolder: [] });
      }
    }
    expect(bands.autocloses).toEqual(everyHolder.autocloses);
    expect(stateOf(bands)).toEqual(stateOf(everyHolder));
    // The run is one that liquidates often, on every symbol, with accounts of several positions among them.
    const liquidated = new Set(everyHolder.autocloses.map((line) => line.split(' ')[1]));
    expect(everyHolder.autocloses.length).toBeGreaterThan(300);
    expect(liquidated.size).toBeGreaterThan(100);
    for (const s of defaultSimSymbols) expect(everyHolder.autocloses.some((line) => line.includes(` ${s.symbol} `))).toBe(true);
    expect(everyHolder.bookChanges).toBeGreaterThan(4_000);
  });
});
