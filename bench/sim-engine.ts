import { defaultCoreConfig } from '../src/core/config.js';
import { noFaults } from '../src/deterministic-sim/faults.js';
import { SimExchange } from '../src/deterministic-sim/sim-exchange.js';
import { paperCredentials } from '../src/engine/accounts.js';
import { boot } from '../src/engine/boot.js';
import type { ManualClock } from '../src/engine/clock.js';
import type { Engine, EngineLimits } from '../src/engine/engine.js';
import type { EngineLog } from '../src/log/port.js';
import { createPrng } from '../src/paper-exchange/price-process.js';
import type { Logger } from '../src/util/logger.js';

// The engine kernel without the service around it, for benches that drive its steps themselves: booted on `log`
// with the simulation's paper exchange (no faults) on a manual clock, effects dropped, a decision that throws fatal.

export async function bootOnSimExchange(log: EngineLog, clock: ManualClock, options: { logger: Logger; limits: EngineLimits }): Promise<Engine> {
  const exchange = new SimExchange(createPrng(1), () => clock.nowMs(), { ...noFaults });
  const { engine } = await boot({
    log,
    config: defaultCoreConfig,
    clock,
    ...options,
    loadFilters: async () => ({ paper: exchange.filters() }),
    accountOf: (userId) => exchange.account(paperCredentials(userId).apiKey),
    onEffects: () => undefined,
    onFatal: (error) => {
      throw error;
    },
    retry: { attempts: 1, readDelayMs: 0, sleep: async () => undefined },
  });
  return engine;
}
