import { USDMClient } from 'binance';

// The SDK's REST client, configured the way we need it:
// - raw axios errors (parseExceptions: false) so we can see the HTTP status and classify outcomes;
// - our own clock sync (the SDK's built-in one runs on a timer we cannot stop);
// - no order-id "validation": the SDK warns on every id without its broker prefix, and our ids are ours.

class QuietUsdmClient extends USDMClient {
  constructor(...args: ConstructorParameters<typeof USDMClient>) {
    super(...args);
    (this as unknown as { validateOrderId: () => void }).validateOrderId = () => undefined;
  }
}

export interface RestClientConfig {
  restBaseUrl: string;
  restTimeoutMs: number;
  recvWindowMs: number;
  apiKey?: string;
  apiSecret?: string;
}

export function createRestClient(config: RestClientConfig): USDMClient {
  return new QuietUsdmClient(
    {
      baseUrl: config.restBaseUrl,
      recvWindow: config.recvWindowMs,
      disableTimeSync: true,
      parseExceptions: false,
      beautifyResponses: false,
      ...(config.apiKey !== undefined ? { api_key: config.apiKey, api_secret: config.apiSecret } : {}),
    },
    { timeout: config.restTimeoutMs },
  );
}

/** Measures the exchange clock offset (half the round trip assumed each way) and applies it to signing. */
export async function syncClock(client: USDMClient): Promise<number> {
  const start = Date.now();
  const serverTime = await client.getServerTime();
  const end = Date.now();
  const offset = Math.round(serverTime - (start + end) / 2);
  client.setTimeOffset(offset);
  return offset;
}

export function usedWeight1m(client: USDMClient): number | null {
  const states = client.getRateLimitStates() as Record<string, unknown>;
  const value = states['x-mbx-used-weight-1m'];
  return typeof value === 'number' ? value : null;
}
