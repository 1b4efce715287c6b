import { describe, expect, it } from 'vitest';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import { RequestSlots } from '../../src/exchange/request-slots.js';
import { RequestNotSentError } from '../../src/exchange/sign-guard.js';
import { notSentCode } from '../../src/model/orders.js';
import { startSimulator } from '../../src/paper-exchange/server.js';

// The connector's bound on REST requests in flight (src/exchange/request-slots.ts). Found by a 10 000-session bench:
// with the weight budget out of the way every account's requests left at once, one socket each, the engine's process
// hit its 20 000 open files (EMFILE), and each order that could not connect became an unknown outcome to query.

/** A request that settles when the test says so, recording when it was sent (signed). */
function pending(log: string[], name: string): { send: () => Promise<string>; settle: () => void } {
  let settle = (): void => undefined;
  const done = new Promise<void>((resolve) => (settle = resolve));
  return {
    send: async () => {
      log.push(name);
      await done;
      return name;
    },
    settle: () => settle(),
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('request slots', () => {
  it('send at most maxRestRequestsInFlight at once; a freed slot goes to the priority lane first', async () => {
    const slots = new RequestSlots({ maxRestRequestsInFlight: 2, maxRestRequestsWaiting: 10 });
    const sent: string[] = [];
    const requests = ['n1', 'n2', 'n3', 'n4'].map((name) => pending(sent, name));
    const runs = requests.map((r) => slots.run('normal', r.send));
    const flatten = pending(sent, 'p1');
    const urgent = slots.run('priority', flatten.send);
    await turn();
    expect(sent).toEqual(['n1', 'n2']); // the rest wait unsigned
    expect(slots.queued).toBe(3);
    requests[0]?.settle();
    await turn();
    expect(sent).toEqual(['n1', 'n2', 'p1']); // ahead of n3 and n4, queued before it
    flatten.settle();
    requests[1]?.settle();
    await turn();
    expect(sent).toEqual(['n1', 'n2', 'p1', 'n3', 'n4']);
    for (const r of requests) r.settle();
    await expect(Promise.all([...runs, urgent])).resolves.toEqual(['n1', 'n2', 'n3', 'n4', 'p1']);
    expect(slots.active).toBe(0);
  });

  it('refuse a request past maxRestRequestsWaiting as not sent, without sending it; a failed request frees its slot', async () => {
    const slots = new RequestSlots({ maxRestRequestsInFlight: 1, maxRestRequestsWaiting: 1 });
    const sent: string[] = [];
    const first = pending(sent, 'a');
    const running = slots.run('normal', async () => {
      await first.send();
      throw new Error('connection reset');
    });
    const waiting = slots.run('normal', pending(sent, 'b').send);
    await expect(slots.run('priority', pending(sent, 'c').send)).rejects.toBeInstanceOf(RequestNotSentError);
    first.settle();
    await expect(running).rejects.toThrow('connection reset');
    await turn();
    expect(sent).toEqual(['a', 'b']);
    expect(slots.active).toBe(1); // b holds the slot a freed
    void waiting;
  });
});

describe('the Binance connector', () => {
  it('keeps its accounts’ requests within the bound and sends a flatten before queued entries', async () => {
    const sim = await startSimulator({ port: 0, seed: 11 });
    // Every order waits 300 ms at the exchange before it is answered: slots stay taken long enough to see the bound.
    sim.faults.latencyByPathMs = { '/fapi/v1/order': 300 };
    const connector = createBinanceConnector({
      restBaseUrl: sim.restBaseUrl,
      wsBaseUrl: sim.wsBaseUrl,
      requestSlotLimits: { maxRestRequestsInFlight: 2, maxRestRequestsWaiting: 4 },
    });
    try {
      const accounts = Array.from({ length: 7 }, (_, i) => connector.account({ apiKey: `slots-${i}`, apiSecret: `secret-${i}` }));
      const order = (i: number, reduceOnly: boolean) =>
        accounts[i]?.placeOrder({
          clientOrderId: `slots-${i}`,
          symbol: 'ETHUSDT',
          side: reduceOnly ? 'SELL' : 'BUY',
          type: 'MARKET',
          quantity: '0.050',
          reduceOnly,
        });
      const entries = [0, 1, 2, 3, 4].map((i) => order(i, false));
      const flatten = order(5, true);
      // Two in flight, four waiting: a seventh request, over the bound of four waiting, is refused and never sent.
      const refused = [await order(6, false)];
      expect(refused[0]).toMatchObject({ kind: 'rejected', code: notSentCode });
      await Promise.all([...entries, flatten]);
      const arrivals = sim
        .requests()
        .filter((r) => r.path === '/fapi/v1/order')
        .sort((a, b) => a.receivedAt - b.receivedAt);
      expect(arrivals).toHaveLength(6);
      // Never more than two orders at the exchange at once: the third arrives after the first was answered.
      for (let k = 2; k < arrivals.length; k += 1) expect((arrivals[k]?.receivedAt ?? 0) - (arrivals[k - 2]?.receivedAt ?? 0)).toBeGreaterThanOrEqual(290);
      // The flatten (reduce-only: rejected here, the account holds nothing, but sent) left with the first freed slot.
      expect(arrivals.slice(2, 3).map((r) => r.code)).toEqual([-2022]);
    } finally {
      await sim.close();
    }
  });
});
