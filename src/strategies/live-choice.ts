import { crossoverStrategy, defaultCrossoverParams } from './crossover.js';
import type { ModelSignal } from './signal-replay.js';
import { defaultSignalSizing, loadSignalFile, signalReplayStrategy } from './signal-replay.js';
import type { Strategy } from './strategy.js';

// Which strategy the live signals service runs (`all`: QE_STRATEGY, QE_SIGNALS_FILE, QE_CROSSOVER_FAST/SLOW): the same
// objects the backtest runs (`--strategy`, `--signals`, `--fast`, `--slow`), so what was backtested is what trades.

export interface LiveStrategyChoice {
  name: 'crossover' | 'replay';
  /** replay: the model's signal file (timestamp,symbol,signal,confidence,horizon_hours). */
  signalsFile?: string | undefined;
  /** crossover: its windows in bars (the defaults, 5 and 20, unless given). */
  fast?: number | undefined;
  slow?: number | undefined;
}

/**
 * The strategy, and a line saying what it is and when its first targets come, for the start's output. `follow`: how
 * a replay keeps up with its file (the signals service's shell re-reads it as the model appends, signal-file-watch.ts);
 * without it the file is read once.
 */
export async function liveStrategy(
  choice: LiveStrategyChoice,
  barMs: number,
  follow?: (path: string, signals: readonly ModelSignal[]) => Strategy,
): Promise<{ strategy: Strategy; description: string }> {
  const barSeconds = barMs / 1000;
  if (choice.name === 'replay') {
    if (choice.signalsFile === undefined || choice.signalsFile === '')
      throw new Error('QE_STRATEGY=replay needs QE_SIGNALS_FILE (a CSV of the model’s signals)');
    const signals = await loadSignalFile(choice.signalsFile);
    return {
      strategy: follow ? follow(choice.signalsFile, signals) : signalReplayStrategy(signals, defaultSignalSizing),
      description: `replay of ${signals.length} signals from ${choice.signalsFile} (${follow ? 'read again when it changes' : 'read once'}), routed at each ${barSeconds} s bar's close`,
    };
  }
  const fast = choice.fast ?? defaultCrossoverParams.shortWindow;
  const slow = choice.slow ?? defaultCrossoverParams.longWindow;
  // Windows that could never trade (slow not above fast) are refused, in the variables' names.
  if (!(slow > fast))
    throw new Error(
      `QE_CROSSOVER_SLOW (${slow}${choice.slow === undefined ? ', the default' : ''}) must be above QE_CROSSOVER_FAST (${fast}): equal windows never trade`,
    );
  const strategy = crossoverStrategy({ ...defaultCrossoverParams, shortWindow: fast, longWindow: slow });
  return {
    strategy,
    description: `crossover of ${fast} and ${slow} bars of ${barSeconds} s; its first targets after ${slow} bars, about ${Math.ceil(slow * barSeconds)} s`,
  };
}
