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
  killSwitch: z.looseObject({ engaged: z.boolean(), reason: z.string().nullable() }),
  /** Held positions; exit price, notional and unrealized PnL at bid/ask are null without a quote. */
  positions: z.record(
    z.string(),
    z.looseObject({
      qty: finite,
      entryPrice: finite,
      exitPrice: finite.nullable().optional(),
      notionalUsd: finite.nullable().optional(),
      unrealizedPnlUsd: finite.nullable().optional(),
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
});

export type SessionSummary = z.infer<typeof sessionSummarySchema>;
