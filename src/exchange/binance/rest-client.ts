import { USDMClient } from 'binance';

// The SDK's REST client, configured the way we need it:
// - raw axios errors (parseExceptions: false) so we can see the HTTP status and classify outcomes;
// - our own clock sync (the SDK's built-in one runs on a timer we cannot stop);
// - no order-id "validation": the SDK warns on every id without its broker prefix, and our ids are ours;
// - every response's headers (success and error) handed to `onHeaders`: the SDK's own tracker keeps only some
//   headers and overwrites them, and we need X-MBX-USED-WEIGHT-1M and X-MBX-ORDER-COUNT-10S/-1M as sent.

/** Receives the raw headers of every REST response, success or error. */
export type ResponseHeadersListener = (headers: unknown) => void;

class QuietUsdmClient extends USDMClient {
  constructor(onHeaders: ResponseHeadersListener | undefined, ...args: ConstructorParameters<typeof USDMClient>) {
    super(...args);
    const self = this as unknown as { validateOrderId: () => void; updateApiLimitState: (headers: unknown) => void };
    self.validateOrderId = () => undefined;
    // The SDK calls this with response.headers on every answer, 2xx and errors alike (BaseRestClient).
    const original = self.updateApiLimitState.bind(this);
    self.updateApiLimitState = (headers: unknown) => {
      original(headers);
      onHeaders?.(headers);
    };
  }
}

export interface RestClientConfig {
  restBaseUrl: string;
  restTimeoutMs: number;
  recvWindowMs: number;
  apiKey?: string;
  apiSecret?: string;
}

export function createRestClient(config: RestClientConfig, onHeaders?: ResponseHeadersListener): USDMClient {
  return new QuietUsdmClient(
    onHeaders,
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
