import { z } from 'zod';
import { haltReasonSchema, horizonHoursSchema, idSchema, maxCapitalUsd, stopLossPctSchema } from '../../contract/commands.js';

// What the page may POST to /api/commands. Its own file (zod only, no Node imports) so the browser client's
// typecheck can load the inferred type without pulling in the server. The field rules are the contract's;
// the start form's fields carry messages a person can act on, since the page shows them as they are.

const userAction = (action: 'stop' | 'pause' | 'resume' | 'status') => z.strictObject({ action: z.literal(action), userId: idSchema });

/** The capital of a session started from the page: a positive number of USD within the contract's bound. */
export const startCapitalSchema = z
  .number({ error: 'capital must be a number of USD' })
  .finite('capital must be a number of USD')
  .positive('capital must be more than $0')
  .max(maxCapitalUsd, `capital must be at most $${maxCapitalUsd.toLocaleString('en-US')}`);

/** Body of POST /api/commands. */
export const dashboardCommandSchema = z.discriminatedUnion('action', [
  userAction('stop'),
  userAction('pause'),
  userAction('resume'),
  userAction('status'),
  z.strictObject({ action: z.literal('set_stoploss'), userId: idSchema, pct: stopLossPctSchema }),
  z.strictObject({ action: z.literal('halt_all'), reason: haltReasonSchema.optional() }),
  z.strictObject({ action: z.literal('resume_all') }),
  z.strictObject({
    action: z.literal('start'),
    userId: idSchema,
    /** `live` only where the dashboard was started with live starts allowed (the server checks). */
    mode: z.enum(['paper', 'live']),
    capitalUsd: startCapitalSchema,
    stopLossPct: z.number().gt(0, 'stop-loss must be more than 0%').lt(100, 'stop-loss must be less than 100%').optional(),
    horizonHours: horizonHoursSchema.optional(),
  }),
]);

export type DashboardCommand = z.infer<typeof dashboardCommandSchema>;
