import { z } from 'zod';

// The read view of a session, shared by replies (status, session.start) and the periodic equity samples.
// Its schema is the contract with every reader in another process (dashboard, bot): they parse what they
// read from the outbound stream with it; unknown fields are kept so readers can lag behind the engine.
// Amounts here are numbers for display: the engine computes them exactly (src/model/decimal.ts) and converts
// at this edge (toNumber), so readers need no change. Nothing read back from a summary drives trading.

const finite = z.number().finite();

export const openOrderViewSchema = z.looseObject({
  clientOrderId: z.string(),
  symbol: z.string(),
  side: z.string(),
  quantity: z.union([z.string(), finite]),
  price: z.union([z.string(), finite]).nullable().optional(),
  status: z.string(),
  purpose: z.string(),
});

export const sessionSummarySchema = z.looseObject({
  userId: z.string(),
  mode: z.string(),
  status: z.enum(['active', 'stopping', 'closed']),
  capitalUsd: finite,
  stopLossPct: finite.nullable(),
  horizonDeadline: z.string().nullable(),
  paused: z.boolean(),
  /** `atMs`: when it engaged (absent from older engines). */
  killSwitch: z.looseObject({ engaged: z.boolean(), reason: z.string().nullable(), atMs: finite.nullable().optional() }),
  /** Held positions; exit price, notional and unrealized PnL at bid/ask are null without a quote. */
  positions: z.record(
    z.string(),
    z.looseObject({
      qty: finite,
      entryPrice: finite,
      exitPrice: finite.nullable().optional(),
      notionalUsd: finite.nullable().optional(),
      unrealizedPnlUsd: finite.nullable().optional(),
      /** Exact decimals for a trader's view (absent from older engines): the quantity, the entry rounded to the symbol's
       * tick, the mark it could be closed at (bid for a long, ask for a short; null without a quote), the tick and step. */
      qtyExact: z.string().optional(),
      entryAtTick: z.string().optional(),
      mark: z.string().nullable().optional(),
      tickSize: z.string().nullable().optional(),
      stepSize: z.string().nullable().optional(),
    }),
  ),
  realizedPnlUsd: finite,
  /** Commission paid (positive = charged) and funding (received positive); equity = capital + realized − fees + funding + unrealized. Absent from older engines. */
  feesUsd: finite.optional(),
  fundingUsd: finite.optional(),
  equityUsd: finite,
  unrealizedPnlUsd: finite,
  grossExposureUsd: finite,
  unpricedSymbols: z.array(z.string()),
  openOrders: z.array(openOrderViewSchema),
  /** A trader's view (absent from older engines): when the session started and when this view was taken (engine clock, ms). */
  startedAtMs: finite.optional(),
  asOfMs: finite.optional(),
  /** Equity at or below which the stop-loss flattens (capital × (1 − pct/100)), and equity minus it; null without a stop-loss. */
  stopLossFloorUsd: finite.nullable().optional(),
  stopLossDistanceUsd: finite.nullable().optional(),
  horizonDeadlineMs: finite.nullable().optional(),
  /** A start's answer only: what the user should know before trading (a capital below a symbol's smallest order). */
  notes: z.array(z.string()).optional(),
});

export type SessionSummary = z.infer<typeof sessionSummarySchema>;
