import { boot } from '../engine/boot.js';
import type { DecisionObserver, EngineLimits } from '../engine/engine.js';
import { silentLogger } from '../util/logger.js';
import type { EngineNode, World } from './world.js';
import { withLostAnswers } from './lost-answers.js';

// (Re)starts an engine through the kernel's boot(), the execution service's own start-up path, on the simulated
// clock and the in-process accounts.

/** One silent logger for every restart: building a pino logger per crash was a visible share of a run. */
const logger = silentLogger();

/** Small enough that crashes often restart from a snapshot plus a WAL tail, not from the WAL alone. */
const simEngineLimits: EngineLimits = { snapshotEveryWalEvents: 150, replayBatchEntries: 500 };

/** Consumer name of the single engine on the command stream. */
const singleEngineId = 'sim';

/** Boots `node`'s engine on its log and accounts; its decisions' effects and continuations wait in the node. */
export async function bootNode(world: World, observe: DecisionObserver, node: EngineNode): Promise<void> {
  ({ engine: node.engine } = await boot({
    log: node.log,
    config: world.config,
    clock: world.clock,
    logger,
    limits: simEngineLimits,
    loadFilters: async () => ({ paper: world.exchange.filters() }), // the simulation trades paper only
    accountOf: (userId) => node.accountOf(userId),
    onEffects: (d) => {
      node.pendingEffects.push(...d.effects);
      // A route's next step waits like any answer: delivered in any order, sometimes twice, lost in a crash.
      if (d.continuation) node.pendingInputs.push(d.continuation);
    },
    onFatal: (error) => {
      throw error;
    },
    onEngine: (created) => created.observe(observe),
    // One query per unknown order (the watchdog re-queries). Boot's reads wait for the venue's budget, as in
    // production: a wait passes simulated time (a restart during a ban waits it out).
    retry: { attempts: 1, readDelayMs: 0, sleep: async (ms) => world.advance(ms) },
    budget: world.venue.budget,
  }));
  // As the service does once its market data is subscribed: the stale-feed clocks start here.
  await node.engine.submit({ kind: 'feed_started', venue: 'paper', symbols: [...world.config.symbols] });
}

/** A new single-engine process on the world's log: what it had in flight died with the one before. */
export async function restart(world: World, observe: DecisionObserver): Promise<void> {
  // The process before died: a snapshot it was writing between steps dies with it (not saved over a newer one).
  (world.node as EngineNode | undefined)?.engine.abandon();
  const node: EngineNode = {
    id: singleEngineId,
    engine: undefined as never, // set by bootNode before anything reads it
    pendingEffects: [],
    pendingInputs: [],
    // Some of its commits land with their answer lost (lost-answers.ts).
    log: withLostAnswers(world, world.log),
    accountOf: (userId) => world.accountOf(userId),
  };
  world.node = node;
  // A boot whose commit is lost fails the process's start (the service exits and starts again): not simulated.
  world.refusedCommitsOn = false;
  await bootNode(world, observe, node);
  world.refusedCommitsOn = true;
}
