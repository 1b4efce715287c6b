// The operator's lever for a blank paper account (issue 17 item 3), next to the fault control: POST
// /sim/v1/reset?confirm=RESET[&account=KEY]. Without the confirmation nothing happens. The client (the engine)
// learns of it as of a real account changed behind its back: its open orders and stops cancelled (pushed), then
// an ACCOUNT_UPDATE of each position now flat (server.ts), on which it reconciles (test/execution/paper-reset.test.ts).
import { apiErrors } from './errors.js';

export const resetControlPath = '/sim/v1/reset';
/** The word a reset must carry, so a stray request cannot erase an account. */
export const resetConfirmation = 'RESET';

export function applyResetControl(params: ReadonlyMap<string, string>, reset: (accountKey?: string) => string[]): Record<string, unknown> {
  if (params.get('confirm') !== resetConfirmation) throw apiErrors.badParamValue('confirm');
  const account = params.get('account');
  return { reset: reset(account === undefined || account === '' ? undefined : account) };
}
