import { z } from 'zod';
import { haltReasonSchema, idSchema, stopLossPctSchema } from '../../contract/commands.js';

// What the page may POST to /api/commands. Its own file (zod only, no Node imports) so the browser client's
// typecheck can load the inferred type without pulling in the server. The field rules are the contract's.

const userAction = (action: 'stop' | 'pause' | 'resume' | 'status') => z.strictObject({ action: z.literal(action), userId: idSchema });

/** Body of POST /api/commands. */
export const dashboardCommandSchema = z.discriminatedUnion('action', [
  userAction('stop'),
  userAction('pause'),
  userAction('resume'),
  userAction('status'),
  z.strictObject({ action: z.literal('set_stoploss'), userId: idSchema, pct: stopLossPctSchema }),
  z.strictObject({ action: z.literal('halt_all'), reason: haltReasonSchema.optional() }),
  z.strictObject({ action: z.literal('resume_all') }),
]);

export type DashboardCommand = z.infer<typeof dashboardCommandSchema>;
