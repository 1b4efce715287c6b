import { createHash } from 'node:crypto';

/**
 * The account's key in the shared budget (order counts are per account): a digest, never the API key itself. Its own
 * module so the engine thread's proxy account (threaded/) names the same key without loading the SDK.
 */
export function rateAccountKeyOf(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}
