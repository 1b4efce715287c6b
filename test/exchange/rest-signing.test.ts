import { describe, expect, it } from 'vitest';
import { signMessage } from 'binance/lib/util/webCryptoAPI.js';
import { createRestClient, signRequest } from '../../src/exchange/binance/rest-client.js';

// Signed requests are signed with node's createHmac (~6 µs of CPU) instead of the SDK's WebCrypto default (~195 µs:
// a key import and an async job per request): the same HMAC-SHA256 hex signature Binance checks.

describe('REST request signing', () => {
  it('signs exactly as the SDK default does', async () => {
    const secret = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
    for (const message of [
      'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=50000.10&timestamp=1700000000000&recvWindow=5000',
      'timestamp=1&recvWindow=5000',
      'newClientOrderId=qe-a.b%3Ac&timestamp=1700000000001&recvWindow=5000',
    ]) {
      expect(await signRequest(message, secret)).toBe(await signMessage(message, secret, 'hex', 'SHA-256', 'base64'));
    }
  });

  it('the adapter client signs through it', () => {
    const client = createRestClient({ restBaseUrl: 'http://127.0.0.1:1', restTimeoutMs: 1_000, recvWindowMs: 5_000, apiKey: 'k', apiSecret: 's' });
    expect((client as unknown as { options: { customSignMessageFn?: unknown } }).options.customSignMessageFn).toBe(signRequest);
  });
});
