import { boot } from '../engine/boot.js';
import type { DecisionObserver, EngineLimits } from '../engine/engine.js';
import { silentLogger } from '../util/logger.js';
import type { World } from './world.js';

// (Re)starts the world's engine through the kernel's boot(), the execution service's own start-up path, on
// the simulated clock and the in-process accounts.

/** One silent logger for every restart: building a pino logger per crash was a visible share of a run. */
const logger = silentLogger();

/** Small enough that crashes often restart from a snapshot plus a WAL tail, not from the WAL alone. */
const simEngineLimits: EngineLimits = { snapshotEveryWalEvents: 150, replayBatchEntries: 500 };

export async function restart(world: World, observe: DecisionObserver): Promise<void> {
  ({ engine: world.engine } = await boot({
    log: world.log,
    config: world.config,
    clock: world.clock,
    logger,
    limits: simEngineLimits,
    loadFilters: async () => ({ paper: world.exchange.filters() }), // the simulation trades paper only
    accountOf: (userId) => world.accountOf(userId),
    onEffects: (d) => {
      world.pendingEffects.push(...d.effects);
      // A route's next step waits like any answer: delivered in any order, sometimes twice, lost in a crash.
      if (d.continuation) world.pendingInputs.push(d.continuation);
    },
    onFatal: (error) => {
      throw error;
    },
    onEngine: (created) => created.observe(observe),
    // One query per unknown order (the watchdog re-queries). Boot's reads wait for the venue's budget, as in
    // production: a wait passes simulated time (a restart during a ban waits it out).
    retry: { attempts: 1, readDelayMs: 0, sleep: async (ms) => world.clock.advance(ms) },
    budget: world.venue.budget,
  }));
  // As the service does once its market data is subscribed: the stale-feed clocks start here.
  await world.engine.submit({ kind: 'feed_started', venue: 'paper', symbols: [...world.config.symbols] });
}
