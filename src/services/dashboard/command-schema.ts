import { z } from 'zod';

// What the page may POST to /api/commands. Its own file (zod only, no Node imports) so the browser client's
// typecheck can load the inferred type without pulling in the server.

const idSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'userId may hold letters, digits and . _ : -');
const userAction = (action: 'stop' | 'pause' | 'resume' | 'status') => z.strictObject({ action: z.literal(action), userId: idSchema });

/** Body of POST /api/commands. */
export const dashboardCommandSchema = z.discriminatedUnion('action', [
  userAction('stop'),
  userAction('pause'),
  userAction('resume'),
  userAction('status'),
  z.strictObject({ action: z.literal('set_stoploss'), userId: idSchema, pct: z.number().finite().gt(0).lt(100) }),
  z.strictObject({ action: z.literal('halt_all'), reason: z.string().max(200).optional() }),
  z.strictObject({ action: z.literal('resume_all') }),
]);

export type DashboardCommand = z.infer<typeof dashboardCommandSchema>;
