import pino from 'pino';
import type { CoreConfig } from '../../src/core/config.js';
import type { Decision } from '../../src/core/decide.js';
import type { Engine, EngineLimits } from '../../src/engine/engine.js';
import { boot } from '../../src/engine/boot.js';
import type { ManualClock } from '../../src/engine/clock.js';
import type { MemoryLog } from '../../src/log/memory-log.js';
import { btcFilters } from '../core/fixtures.js';
import { quietAccount } from './quiet-account.js';

// An engine booted on a memory log and a manual clock, trading BTCUSDT on the paper venue with quiet accounts, for
// engine tests that drive its steps themselves; a decision that throws fails the test.

const account = quietAccount();

export async function bootBtcEngine(opts: {
  log: MemoryLog;
  config: CoreConfig;
  clock: ManualClock;
  onEffects: (decision: Decision) => void;
  onEngine: (engine: Engine) => void;
  limits?: EngineLimits;
}): Promise<Engine> {
  const { engine } = await boot({
    ...opts,
    logger: pino({ level: 'silent' }),
    loadFilters: async () => ({ paper: { BTCUSDT: btcFilters } }),
    accountOf: () => account,
    onFatal: (error) => {
      throw error;
    },
    retry: { attempts: 1, readDelayMs: 0, sleep: async () => undefined },
  });
  return engine;
}
