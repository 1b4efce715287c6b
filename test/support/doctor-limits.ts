import type { DoctorLimits } from '../../src/core/doctor-checks.js';

/** The doctor's limits as the engine's defaults set them (session 5x, gross 1x, Binance's 2 400 weight a minute). */
export function doctorTestLimits(symbols: readonly string[]): DoctorLimits {
  return {
    symbols,
    sessionLeverage: 5,
    maxLeverage: 1,
    capitalUsd: null,
    clockWarnOffsetMs: 1_000,
    clockFailOffsetMs: 5_000,
    weightPerMinute: 2_400,
    reservedForRiskReducingWeight: 400,
  };
}
