import type { SweepEntry } from './sweep.js';

// Issue 12's targets, each stated next to its figure with the ratio figure / target: a "max" target is met
// at a ratio ≤ 1 (below the bound), a "min" target at ≥ 1. A figure not measured in this run reads null.

export interface TargetCheck {
  figure: string;
  value: number | null;
  kind: 'max' | 'min';
  target: number;
  ratio: number | null;
  met: boolean | null;
}

export interface TargetInputs {
  commandsPerSecond: number;
  /** What Redis's one thread alone could serve at its CPU per command (engine-run.ts): the most any engine can reach. */
  commandsPerSecondRedisBound?: number | null;
  redisXaddPipelinedPerSecond: number;
  walFoldEventsPerSecond: number;
  walReplaySqliteEventsPerSecond: number;
  walReplayRedisEventsPerSecond: number;
  bootReadyMs: number | null;
  sessionSweep: SweepEntry[];
  /** Issue 14: one symbol, one session through the backtest. */
  backtestQuotesPerSecond?: number;
}

/** With 1 000 sessions; 10 000 sessions get the same within this factor. */
const perSessionTargets = { stopToFlattenP99Ms: 20, tickToFlattenP99Ms: 10, slowestStepMs: 20, eventLoopDelayMaxMs: 50 } as const;
const largeSweepFactor = 2;
const largeSweepRssMb = 1_024;
const commandsShareOfCeiling = 0.25;

function check(figure: string, value: number | null | undefined, kind: 'max' | 'min', target: number): TargetCheck {
  if (value === null || value === undefined || !Number.isFinite(value)) return { figure, value: null, kind, target, ratio: null, met: null };
  const ratio = Math.round((value / target) * 100) / 100;
  return { figure, value, kind, target, ratio, met: kind === 'max' ? value < target : value >= target };
}

export function checkTargets(f: TargetInputs): TargetCheck[] {
  const ceilingShare = Math.round(f.redisXaddPipelinedPerSecond * commandsShareOfCeiling);
  const checks: TargetCheck[] = [
    check('commandsPerSecond (≥ 25 % of redisXaddPipelinedPerSecond)', f.commandsPerSecond, 'min', ceilingShare),
    // Not a target of its own: the same target set against Redis's own bound says whether the engine could meet it.
    check('commandsPerSecondRedisBound (the same target, for Redis alone)', f.commandsPerSecondRedisBound, 'min', ceilingShare),
  ];
  for (const [sessions, factor] of [
    [1_000, 1],
    [10_000, largeSweepFactor],
  ] as const) {
    const entry = f.sessionSweep.find((e) => e.sessions === sessions);
    for (const [name, bound] of Object.entries(perSessionTargets)) {
      checks.push(check(`sessionSweep[${sessions}].${name}`, entry?.[name as keyof typeof perSessionTargets], 'max', bound * factor));
    }
    checks.push(check(`sessionSweep[${sessions}].commandsPerSecond (≥ 25 % of the ceiling)`, entry?.commandsPerSecond, 'min', ceilingShare));
    if (sessions === 10_000) checks.push(check(`sessionSweep[${sessions}].rssMb`, entry?.rssMb, 'max', largeSweepRssMb));
  }
  checks.push(
    check('walFoldEventsPerSecond', f.walFoldEventsPerSecond, 'min', 1_000_000),
    check('walReplaySqliteEventsPerSecond', f.walReplaySqliteEventsPerSecond, 'min', 300_000),
    check('walReplayRedisEventsPerSecond', f.walReplayRedisEventsPerSecond, 'min', 150_000),
    check('bootReadyMs (see bootWalEvents, bootSessions)', f.bootReadyMs, 'max', 2_000),
    check('backtestQuotesPerSecond (one symbol, one session)', f.backtestQuotesPerSecond, 'min', 200_000),
  );
  return checks;
}
