import type { Input } from '../core/decide.js';
import { isTerminal } from '../core/orders.js';
import { eq, isZero, toQty, zero } from '../model/decimal.js';
import type { Effect } from '../core/outputs.js';
import { paperCredentials } from '../engine/accounts.js';
import type { FaultProfileName } from './faults.js';
import { chooseExchangeClose, chooseFundingRateBps, chooseGap, deliveredTwice, noFaults, randomCommand, silentFeedMs } from './faults.js';
import { InvariantViolation } from './check.js';
import { exchangeMoneyOf } from './invariants.js';
import { calmVenue, performThroughVenue, venueFault, venueTick } from './venue-faults.js';
import type { EngineNode, World } from './world.js';

// The moves of a seed's run: append a command, consume commands, tick the markets, beat the watchdog,
// perform an effect, deliver an answer, gap a price, silence the feed, crash. One step is one move, chosen by
// the PRNG; settle() then lets everything converge on a well-behaved exchange.

/** Stale commands reclaimed per consume (entries). */
const reclaimBatchEntries = 20;
/** Commands read per consume: 1 up to this many (entries). */
const maxReadBatchEntries = 10;
/** Longest clock advance before a watchdog beat (simulated ms). */
const maxTimerAdvanceMs = 4_000;
/** settle() advances the clock by this much per round (simulated ms)... */
const settleRoundMs = 1_000;
/** ...for at most this many rounds before the run counts as stuck. */
const maxSettleRounds = 300;
/** Rounds settle() always runs, so late answers and periodic checks get their turn. */
const minSettleRounds = 4;

/** What `node` reads from the command stream in one go: stale pending commands it reclaims, then new ones. */
export async function readCommands(world: World, node: EngineNode): Promise<Input[]> {
  const { log, id: consumer } = node;
  const deliveries = [
    ...(await log.reclaimStaleCommands(consumer, reclaimBatchEntries)),
    ...(await log.readCommands(consumer, 1 + Math.floor(world.random() * maxReadBatchEntries), 0)),
  ];
  return deliveries.map((delivery): Input => ({ kind: 'command', delivery }));
}

export async function consume(world: World): Promise<number> {
  const inputs = await readCommands(world, world.node);
  await world.submit(...inputs);
  return inputs.length;
}

/** Moves every market one step and, unless the feed is silent, hands the engine each top of book. */
export async function ticks(world: World): Promise<void> {
  const { exchange, clock } = world;
  for (const symbol of world.symbols) {
    exchange.step(symbol);
    const top = exchange.markets.get(symbol)?.top;
    const rules = exchange.rules.get(symbol);
    if (!top || !rules || clock.nowMs() < world.feedSilentUntilMs) continue;
    const scale = 10 ** rules.priceScale;
    await world.submit({
      kind: 'tick',
      venue: 'paper',
      tick: { symbol, bid: Number(top.bidUnits) / scale, ask: Number(top.askUnits) / scale, time: clock.nowMs() },
    });
  }
}

/** As the executor performs it: through the venue's budget, then the venue (venue-faults.ts). */
async function perform(world: World, effect: Effect): Promise<void> {
  if (world.cluster) return world.cluster.perform(effect);
  const input = await performThroughVenue(world, effect, world.node);
  if (input) world.pendingInputs.push(input);
}

type Move = (world: World, n: number, restart: () => Promise<void>) => Promise<void>;

const append: Move = async (world, n) => {
  const raw = randomCommand(world, n);
  world.appended.push(raw);
  await world.log.appendCommand(raw);
  world.trace.push(`${n} append ${raw.slice(0, 160)}`);
};

const consumeMove: Move = async (world, n) => {
  await consume(world);
  world.trace.push(`${n} consume`);
};

const ticksMove: Move = async (world, n) => {
  await ticks(world);
  world.trace.push(`${n} ticks`);
};

const timer: Move = async (world, n) => {
  world.advance(Math.floor(world.random() * maxTimerAdvanceMs));
  await world.submit({ kind: 'timer' });
  world.trace.push(`${n} timer @${world.clock.nowMs()}`);
};

const performMove: Move = async (world, n) => {
  const effect = world.pendingEffects.splice(Math.floor(world.random() * world.pendingEffects.length), 1)[0];
  if (effect) await perform(world, effect);
  world.trace.push(`${n} perform ${effect ? JSON.stringify(effect).slice(0, 160) : '-'}`);
};

/** Delivers a pending answer or push, in any order, sometimes twice. */
const deliver: Move = async (world, n) => {
  const i = Math.floor(world.random() * world.pendingInputs.length);
  const input = world.pendingInputs[i];
  if (input && !deliveredTwice(world)) world.pendingInputs.splice(i, 1);
  if (input) await world.submit(input);
  world.trace.push(`${n} deliver ${input ? JSON.stringify(input).slice(0, 160) : '-'}`);
};

const gap: Move = async (world, n) => {
  const { symbol, factor } = chooseGap(world);
  world.exchange.gap(symbol, factor);
  world.trace.push(`${n} gap ${symbol} x${factor}`);
};

const silenceFeed: Move = async (world, n) => {
  world.feedSilentUntilMs = world.clock.nowMs() + silentFeedMs;
  world.trace.push(`${n} feed silent until ${world.feedSilentUntilMs}`);
};

/** A funding time: every open position pays or receives; the payments reach the engine as pushes. */
const funding: Move = async (world, n) => {
  const rateBps = chooseFundingRateBps(world);
  world.exchange.fund(rateBps);
  world.trace.push(`${n} funding ${rateBps} bps`);
};

/** The exchange closes (part of) a held position by itself: a liquidation, an ADL close or a manual trade. */
const exchangeClose: Move = async (world, n) => {
  const holdings = world.users.flatMap((userId) =>
    world.symbols.filter((symbol) => !isZero(toQty(world.exchange.positionAmt(paperCredentials(userId).apiKey, symbol)))).map((symbol) => ({ userId, symbol })),
  );
  const chosen = chooseExchangeClose(world, n, holdings);
  if (!chosen) {
    world.trace.push(`${n} exchange close: nothing held`);
    return;
  }
  const { userId, symbol, cause, clientOrderId } = chosen;
  const what = world.exchange.tradeOnItsOwn(paperCredentials(userId).apiKey, symbol, clientOrderId, cause !== 'manual');
  world.trace.push(`${n} exchange ${cause} ${userId} ${symbol}: ${what}`);
};

/**
 * Crash between two steps: in-flight effects and undelivered answers die with the process (restart() starts a new
 * one). With several engines, a fault of the lease holder instead (cluster.ts): death, a pause, missed renewals.
 */
const crash: Move = async (world, n, restart) => {
  if (world.cluster) return world.cluster.fault(n);
  world.stats.crashes += 1;
  world.trace.push(`${n} CRASH`);
  await restart();
};

/**
 * Each move with the roll it is taken below (cumulative odds; the last takes the rest), per fault profile (faults.ts):
 * the harsh one has about twice the venue faults, price gaps, silent feeds, funding times, exchange-side closes and
 * crashes of the standard one, a little fewer of the rest.
 */
const moves: readonly { below: Readonly<Record<FaultProfileName, number>>; move: Move }[] = [
  { below: { standard: 0.2, harsh: 0.18 }, move: append },
  { below: { standard: 0.34, harsh: 0.31 }, move: consumeMove },
  { below: { standard: 0.35, harsh: 0.34 }, move: venueFault },
  { below: { standard: 0.5, harsh: 0.48 }, move: ticksMove },
  { below: { standard: 0.6, harsh: 0.57 }, move: timer },
  { below: { standard: 0.78, harsh: 0.74 }, move: performMove },
  { below: { standard: 0.94, harsh: 0.89 }, move: deliver },
  { below: { standard: 0.96, harsh: 0.92 }, move: gap },
  { below: { standard: 0.975, harsh: 0.935 }, move: silenceFeed },
  { below: { standard: 0.985, harsh: 0.955 }, move: funding },
  { below: { standard: 0.99, harsh: 0.975 }, move: exchangeClose },
  { below: { standard: Infinity, harsh: Infinity }, move: crash },
];

/** Step n: one move, chosen by the PRNG; a crash restarts the engine through `restart`. */
export async function step(world: World, n: number, restart: () => Promise<void>): Promise<void> {
  venueTick(world);
  if (world.cluster && world.cluster.paused.length > 0 && world.chance(world.cluster.resumeChance)) return world.cluster.resume(n);
  const roll = world.random();
  const profile = world.faults.name;
  const chosen = moves.find((m) => roll < m.below[profile]) ?? moves[moves.length - 1];
  await chosen?.move(world, n, restart);
}

/**
 * Turns the faults off and runs rounds (commands, effects, answers, then a second of clock, ticks and a
 * watchdog beat) until nothing is left in flight and the engine and the exchange agree.
 */
export async function settle(world: World): Promise<void> {
  const { exchange } = world;
  exchange.faults = { ...noFaults };
  world.feedSilentUntilMs = 0;
  world.refusedCommitsOn = false;
  calmVenue(world);
  await world.cluster?.calm();
  for (let round = 0; round < maxSettleRounds; round += 1) {
    const consumed = await consume(world);
    while (world.pendingEffects.length > 0 || world.pendingInputs.length > 0) {
      for (const effect of world.pendingEffects.splice(0)) await perform(world, effect);
      for (const input of world.pendingInputs.splice(0)) await world.submit(input);
    }
    if (!(consumed > 0 || (await stillBusy(world))) && round >= minSettleRounds - 1) return;
    world.advance(settleRoundMs);
    // A lease that lapsed before the faults ended is taken over here.
    await world.cluster?.afterStep('settle');
    await ticks(world);
    await world.submit({ kind: 'timer' });
  }
  const durable = world.engine.current.durable;
  const open = durable.orders
    .values()
    .filter((o) => !isTerminal(o))
    .map((o) => `${o.clientOrderId}:${o.status}:${o.purpose}:${o.symbol}`);
  const sessions = durable.sessions.values().map((s) => `${s.userId}:${s.status}:${s.killSwitch.reason}:${JSON.stringify(s.positions)}`);
  throw new InvariantViolation(
    `did not settle within ${(maxSettleRounds * settleRoundMs) / 1_000} simulated seconds; open orders ${open.join(' ')}; halted ${durable.halted}; sessions ${sessions.join(' ')}`,
  );
}

/** Whether anything is still in flight, or the engine and the exchange still disagree. */
async function stillBusy(world: World): Promise<boolean> {
  const { exchange } = world;
  const durable = world.engine.current.durable;
  return (
    (await world.log.pendingCommandCount()) > 0 ||
    // A trade-list read held back or refused is asked again until answered (core/trade-reads-owed.ts).
    world.engine.current.market.owedReadsAskedAtMs.keys().length > 0 ||
    durable.orders.values().some((o) => !isTerminal(o)) ||
    durable.sessions
      .values()
      .some((s) => s.status === 'stopping' || ((s.killSwitch.engaged || durable.halted) && Object.values(s.positions).some((p) => !isZero(p.qty)))) ||
    // Stops and positions converge through the periodic stop check (orphans swept, fired stops learnt).
    durable.sessions.values().some(
      (s) =>
        s.status !== 'closed' &&
        JSON.stringify(
          exchange.algo
            .open(paperCredentials(s.userId).apiKey)
            .map((o) => o.clientAlgoId)
            .sort(),
        ) !==
          JSON.stringify(
            Object.values(s.protectiveStops)
              .map((p) => p.clientAlgoId)
              .sort(),
          ),
    ) ||
    // Funding whose push was lost with no gap reported is read back by the funding backstop (config.fundingBackstopMs).
    durable.sessions.values().some((s) => s.status !== 'closed' && !eq(s.fundingUsd, exchangeMoneyOf(world, s).funding)) ||
    // A protective stop that fired on the exchange is learnt at the next stop check: wait for it.
    durable.sessions
      .values()
      .some((s) => world.symbols.some((sym) => !eq(s.positions[sym]?.qty ?? zero, toQty(exchange.positionAmt(paperCredentials(s.userId).apiKey, sym)))))
  );
}
