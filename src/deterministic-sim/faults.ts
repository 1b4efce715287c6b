import type { Input } from '../core/decide.js';
import type { OrderSnapshot } from '../model/orders.js';
import type { SimFaultRates } from './sim-exchange.js';
import type { World } from './world.js';

// What can go wrong in a seed's run, and how often: exchange faults, partial and duplicate deliveries, price
// gaps, a silent feed, and the commands operators and signal sources send (malformed and duplicated ones
// included). Each choice draws from the world's PRNG; the order of draws is part of a seed's identity.

/**
 * How often things go wrong in a seed's run. `standard` is what CI and the seeds replayed there run (each seed's run
 * depends on it: changing it changes every run). `harsh` (`npm run sim -- --faults harsh`), for hunting: twice the
 * exchange faults and lost commits, and about twice the venue faults, funding times, exchange-side closes, price gaps
 * and crashes per step (steps.ts), fewer commands and answers in between.
 */
export type FaultProfileName = 'standard' | 'harsh';

export interface FaultProfile {
  name: FaultProfileName;
  /** Exchange fault rates while the run is under way (probability per request). */
  exchange: SimFaultRates;
  /** Chance that a commit writing WAL events lands but its answer is lost (lost-answers.ts). */
  lostCommitAnswerChance: number;
  /** Chance that a commit is lost before the log, while world.refusedCommitsOn (lost-answers.ts). */
  lostCommitChance: number;
}

export const faultProfiles: Readonly<Record<FaultProfileName, FaultProfile>> = {
  standard: {
    name: 'standard',
    exchange: { timeoutAfterAccept: 0.05, lostBeforeExecution: 0.05, refused: 0.03, postOnlyRefused: 0.2 },
    lostCommitAnswerChance: 0.03,
    lostCommitChance: 0.02,
  },
  harsh: {
    name: 'harsh',
    exchange: { timeoutAfterAccept: 0.1, lostBeforeExecution: 0.1, refused: 0.06, postOnlyRefused: 0.3 },
    lostCommitAnswerChance: 0.06,
    lostCommitChance: 0.04,
  },
};
export const faultProfileNames = Object.keys(faultProfiles) as FaultProfileName[];

/** While settling the exchange behaves, so everything can converge. */
export const noFaults: SimFaultRates = { timeoutAfterAccept: 0, lostBeforeExecution: 0, refused: 0, postOnlyRefused: 0 };

/** Chance that a fill is first delivered as a partial execution. */
const partialFillChance = 0.3;
/** Chance that a delivered input stays queued and is delivered again. */
const duplicateDeliveryChance = 0.2;
/** Price gaps, as factors on the mid: ±20 % fire resting protective stops, ±3 % are ordinary jumps. */
const gapFactors = [0.8, 1.2, 0.97, 1.03];
/** How long a silent feed withholds market data (simulated ms): beyond the stale-feed bound. */
export const silentFeedMs = 45_000;

/**
 * The order updates the engine gets for one exchange update on `userId`'s account: sometimes a fill arrives
 * first as a partial execution (cumulative quantity and average price, no trade of its own), then the rest.
 * Deliveries may also come out of order.
 */
export function asDelivered(world: World, userId: string, order: OrderSnapshot): Input[] {
  const inputs: Input[] = [];
  const executed = Number(order.executedQty);
  if (order.status === 'FILLED' && executed > 0 && world.chance(partialFillChance)) {
    const part = (Math.floor((executed / 2) * 1000) / 1000).toFixed(3);
    const { trade: _tradeOfTheWhole, ...withoutTrade } = order;
    if (Number(part) > 0)
      inputs.push({ kind: 'order_update', order: { ...withoutTrade, status: 'PARTIALLY_FILLED', executedQty: part }, userId, mode: 'paper' });
  }
  inputs.push({ kind: 'order_update', order, userId, mode: 'paper' });
  return inputs;
}

/** Funding rates a funding time may pay at (bps per interval): large enough to matter against small capital. */
const fundingRatesBps = [-30, 5, 50];

export function chooseFundingRateBps(world: World): number {
  return world.pick(fundingRatesBps);
}

/**
 * Trades the exchange makes on an account without the engine: a liquidation (client id `autoclose-…`), an ADL
 * close (`adl_autoclose`), or a manual trade that closes part of the position.
 */
export type ExchangeCloseCause = 'liquidation' | 'adl' | 'manual';
const exchangeCloseCauses: readonly ExchangeCloseCause[] = ['liquidation', 'adl', 'manual'];

export function chooseExchangeClose(
  world: World,
  n: number,
  holdings: readonly { userId: string; symbol: string }[],
): { userId: string; symbol: string; cause: ExchangeCloseCause; clientOrderId: string } | null {
  if (holdings.length === 0) return null;
  const { userId, symbol } = world.pick(holdings);
  const cause = world.pick(exchangeCloseCauses);
  const clientOrderId = cause === 'liquidation' ? `autoclose-${world.seed}-${n}` : cause === 'adl' ? 'adl_autoclose' : `manual-${world.seed}-${n}`;
  return { userId, symbol, cause, clientOrderId };
}

/** Whether a delivered input is delivered again later (a duplicate push). */
export function deliveredTwice(world: World): boolean {
  return world.chance(duplicateDeliveryChance);
}

export function chooseGap(world: World): { symbol: string; factor: number } {
  const symbol = world.pick(world.symbols);
  const factor = world.pick(gapFactors);
  return { symbol, factor };
}

/** The n-th command appended: mostly valid, some malformed, some a duplicate of an earlier one. */
export function randomCommand(world: World, n: number): string {
  const { random } = world;
  const pick = <T>(xs: readonly T[]): T => world.pick(xs);
  const chance = (p: number): boolean => world.chance(p);
  const user = pick(world.users);
  const id = `s${world.seed}-c${n}`;
  const roll = random();
  if (roll < 0.15)
    return JSON.stringify({
      id,
      userId: user,
      type: 'session.start',
      mode: 'paper',
      capitalUsd: pick([2_000, 10_000, 50_000]),
      stopLossPct: pick([1, 3, 10]),
      ...(chance(0.3) ? { horizonHours: pick([0.01, 0.02, 1]) } : {}),
    });
  if (roll < 0.55)
    return JSON.stringify({
      id,
      userId: 'signals',
      type: 'signals.route',
      signals: [
        { symbol: pick(world.symbols), weight: Math.round((random() * 2 - 1) * 100) / 100 },
        ...(chance(0.3) ? [{ symbol: pick(world.symbols), weight: Math.round((random() * 2 - 1) * 100) / 100 }] : []),
      ],
    });
  if (roll < 0.62) return JSON.stringify({ id, userId: user, type: 'session.stop' });
  if (roll < 0.68) return JSON.stringify({ id, userId: user, type: 'session.set_stoploss', pct: pick([0.5, 2, 20]) });
  if (roll < 0.72) {
    const type = pick(['session.pause', 'session.resume', 'status', 'session.exit']);
    // session.exit closes one symbol through the stop's flatten plan while the session goes on.
    return JSON.stringify({ id, userId: user, type, ...(type === 'session.exit' ? { symbol: pick(world.symbols) } : {}) });
  }
  if (roll < 0.75) return JSON.stringify({ id, userId: 'operator', type: pick(['admin.halt_all', 'admin.resume_all', 'admin.resume_all']) });
  if (roll < 0.8) return pick(['{"id":"junk"', JSON.stringify({ id, userId: user, type: 'session.set_stoploss', pct: 'abc' }), '']);
  return world.appended.length > 0 ? pick(world.appended) : JSON.stringify({ id, userId: user, type: 'status' }); // duplicate delivery
}
