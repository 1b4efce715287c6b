import type { Input } from '../../src/core/decide.js';
import type { ExecutorLimits } from '../../src/engine/effect-executor.js';
import { EffectExecutor, defaultExecutorLimits } from '../../src/engine/effect-executor.js';
import type { ExchangeAccount } from '../../src/exchange/port.js';
import type { RateBudget } from '../../src/exchange/rate-budget.js';
import { memoryRateBudget } from '../../src/exchange/rate-budget.js';
import { silentLogger } from '../../src/util/logger.js';

/** An effect executor on one account, collecting what it feeds back; silent, on its own budget unless given one. */
export function executorOn(
  account: ExchangeAccount,
  opts: { limits?: Partial<ExecutorLimits>; budget?: RateBudget; nowMs?: () => number } = {},
): { executor: EffectExecutor; results: Input[] } {
  const results: Input[] = [];
  const executor = new EffectExecutor(
    () => account,
    (input) => results.push(input),
    { ...defaultExecutorLimits, ...opts.limits },
    silentLogger(),
    opts.budget ?? memoryRateBudget(),
    opts.nowMs ?? ((): number => Date.now()),
  );
  return { executor, results };
}
