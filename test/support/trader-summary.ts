/** Times a trader's status is shown at in tests: a summary taken at asOfMs. */
export const hourMs = 3_600_000;
export const asOfMs = Date.UTC(2030, 0, 1, 12);

/** A session summary as an engine with the trader's view gives it (src/core/summary.ts), holding SOLUSDT long. */
export function traderSummary(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    userId: 'al',
    mode: 'paper',
    status: 'active',
    capitalUsd: 1000,
    stopLossPct: 5,
    horizonDeadline: new Date(asOfMs + 5 * hourMs + 12 * 60_000 + 30_000).toISOString(),
    paused: false,
    killSwitch: { engaged: false, reason: null, atMs: null },
    positions: {
      SOLUSDT: {
        qty: 0.30000000000000004,
        entryPrice: 149.9036956521739,
        exitPrice: 149.87,
        notionalUsd: 44.961,
        unrealizedPnlUsd: -0.0101087,
        qtyExact: '0.3',
        entryAtTick: '149.904',
        mark: '149.87',
        tickSize: '0.001',
        stepSize: '0.1',
      },
    },
    realizedPnlUsd: 0,
    feesUsd: 0,
    fundingUsd: 0,
    equityUsd: 998.78,
    unrealizedPnlUsd: -0.01,
    grossExposureUsd: 44.96,
    unpricedSymbols: [],
    openOrders: [],
    startedAtMs: asOfMs - 2 * hourMs - 3 * 60_000,
    asOfMs,
    stopLossFloorUsd: 950,
    stopLossDistanceUsd: 48.78,
    horizonDeadlineMs: asOfMs + 5 * hourMs + 12 * 60_000 + 30_000,
    ...overrides,
  };
}
