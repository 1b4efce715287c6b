import { describe, expect, it } from 'vitest';
import type { OrderRequest } from '../../src/model/orders.js';
import { executorOn } from '../support/executor.js';
import { usePaperExchange } from '../support/paper-exchange.js';

// The core asks about an order whose answer is late (orderResultTimeoutMs). Sent while the place was still on its way,
// that query read -2013 "Order does not exist" for every post-only entry the exchange then refused (-5022): at 10 000
// bench sessions 9 760 GET /fapi/v1/order answered 400, and a "not found" that reached the core before the refusal
// cost the session its bounded fallback. A query now waits for its order's answer and is sent only if that answer
// was unknown: an error code means the order did nothing.

const orderPath = '/fapi/v1/order';

function postOnlyBuy(clientOrderId: string): OrderRequest {
  return { clientOrderId, symbol: 'SOLUSDT', side: 'BUY', type: 'LIMIT', price: '100.00', timeInForce: 'GTX', quantity: '1.00', reduceOnly: false };
}

describe('a query about an order whose place is on its way', () => {
  const paperExchange = usePaperExchange(17);

  async function untilSent(sim: ReturnType<typeof paperExchange>['sim'], fromMs: number): Promise<void> {
    while (!sim.requests().some((r) => r.method === 'POST' && r.path === orderPath && r.receivedAt >= fromMs)) await new Promise((r) => setTimeout(r, 5));
  }

  it('is not sent when the exchange refuses the order (-5022)', async () => {
    const { sim, connector } = paperExchange();
    const account = connector.account({ apiKey: 'held-query', apiSecret: 's' });
    const { executor, results } = executorOn(account);
    await account.queryOrder('SOLUSDT', 'warm-up'); // the first call syncs the clock
    const fromMs = Date.now();
    sim.faults.forcePostOnlyReject = true;
    sim.faults.latencyByPathMs = { [orderPath]: 300 }; // the refusal is slow to come back...
    try {
      executor.submit({ kind: 'place', userId: 'u', lane: 'normal', order: postOnlyBuy('q-1'), notAfterMs: Date.now() + 5_000 });
      await untilSent(sim, fromMs);
      // ...and the core, its answer late, asks about the order meanwhile.
      executor.submit({ kind: 'query', userId: 'u', lane: 'normal', symbol: 'SOLUSDT', clientOrderId: 'q-1' });
      await executor.idle();
    } finally {
      sim.faults.forcePostOnlyReject = false;
      sim.faults.latencyByPathMs = {};
    }
    expect(results).toEqual([{ kind: 'place_result', clientOrderId: 'q-1', outcome: expect.objectContaining({ kind: 'rejected', code: -5022 }) }]);
    expect(sim.requests().filter((r) => r.method === 'GET' && r.path === orderPath && r.receivedAt >= fromMs)).toEqual([]);
  });

  it('is sent after an unknown answer (the connection dropped after the exchange accepted) and finds the order', async () => {
    const { sim, connector } = paperExchange();
    const account = connector.account({ apiKey: 'held-query-unknown', apiSecret: 's' });
    const { executor, results } = executorOn(account);
    await account.queryOrder('SOLUSDT', 'warm-up');
    const fromMs = Date.now();
    sim.faults.timeoutAfterAcceptCount = 1;
    sim.faults.latencyByPathMs = { [orderPath]: 300 };
    try {
      executor.submit({ kind: 'place', userId: 'u', lane: 'normal', order: { ...postOnlyBuy('q-2'), price: '10.00' }, notAfterMs: Date.now() + 5_000 });
      await untilSent(sim, fromMs);
      executor.submit({ kind: 'query', userId: 'u', lane: 'normal', symbol: 'SOLUSDT', clientOrderId: 'q-2' });
      await executor.idle();
    } finally {
      sim.faults.timeoutAfterAcceptCount = 0;
      sim.faults.latencyByPathMs = {};
    }
    expect(results.map((r) => r.kind)).toEqual(['place_result', 'query_result']);
    expect(results[0]).toMatchObject({ outcome: { kind: 'unknown' } });
    expect(results[1]).toMatchObject({ kind: 'query_result', clientOrderId: 'q-2', outcome: { kind: 'found' } });
  });
});
