import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { KeepAliveResult, UserStream } from '../../src/exchange/binance/user-stream.js';
import { openUserStream } from '../../src/exchange/binance/user-stream.js';

// A user stream PUTs its listen key on the keep-alive's period and, when the account has been silent, as a probe.
// Under load the two fell due in the same turn and went out 1 ms apart (CI saw it: `user-stream-probes`), the probe's
// answer then counting for nothing. Now a keep-alive due while a probe is out waits for it, and no probe goes out
// while a keep-alive is.

const hour = 3_600_000;

describe("a user stream's listen-key checks", () => {
  let server: WebSocketServer | null = null;
  let stream: UserStream | null = null;
  afterEach(async () => {
    await stream?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('never has two PUTs out at once, a keep-alive falling due while a probe is answered included', async () => {
    server = new WebSocketServer({ port: 0 });
    const { port } = server.address() as { port: number };
    let out = 0;
    let mostOut = 0;
    let sent = 0;
    // Each PUT takes 250 ms to answer: the probe (silent after 100 ms, checked every 25 ms) is still out when the
    // keep-alive falls due at 300 ms.
    const keepAlive = async (): Promise<KeepAliveResult> => {
      out += 1;
      sent += 1;
      mostOut = Math.max(mostOut, out);
      await new Promise((r) => setTimeout(r, 250));
      out -= 1;
      return 'ok';
    };
    stream = await openUserStream({
      url: async () => `ws://127.0.0.1:${port}`,
      keepAlive,
      timings: { keepaliveIntervalMs: 300, keepaliveRetryMs: hour, silenceProbeMs: 100, echoTimeoutMs: hour },
      reconnectDelayMs: 10,
      nowMs: () => Date.now(),
      random: () => 0, // the first keep-alive a whole period after the open
      logger: undefined,
      onUpdate: () => undefined,
      onFunding: undefined,
      news: undefined,
    });
    await new Promise((r) => setTimeout(r, 1_200));
    expect(sent).toBeGreaterThanOrEqual(2);
    // Before: 2 (the keep-alive went out while the probe was).
    expect(mostOut).toBe(1);
  });
});
