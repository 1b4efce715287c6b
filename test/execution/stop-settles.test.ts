import { describe, expect, it } from 'vitest';
import { paperCredentials } from '../../src/engine/accounts.js';
import type { ExchangeAccount, ExchangeConnector } from '../../src/exchange/port.js';
import type { OrderRequest } from '../../src/model/orders.js';
import { startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// The execution service's stop drained the engine and the executor once, then closed the accounts. An order's answer
// arriving during that wait was decided after it: here a post-only entry refused by the exchange, whose bounded
// fallback the engine then decided with the accounts closed. The fallback was never sent, and the WAL recorded it
// as refused for "no exchange account configured for this user", which was not true. Now stop settles as settle()
// does: until the answers are decided and what they decided is performed.

/** How long each order takes to reach the simulator: the stop begins while the entry is on its way. */
const placeTransitMs = 300;

function slowPlaces(log: { sent: string[] }) {
  return (connector: ExchangeConnector): ExchangeConnector => ({
    marketData: () => connector.marketData(),
    account: (credentials) =>
      new Proxy(connector.account(credentials), {
        get: (target: ExchangeAccount, name, receiver) => {
          if (name !== 'placeOrder') return Reflect.get(target, name, receiver) as unknown;
          return async (req: OrderRequest) => {
            log.sent.push(req.clientOrderId);
            await new Promise((r) => setTimeout(r, placeTransitMs));
            return target.placeOrder(req);
          };
        },
      }),
  });
}

describe('stopping the execution service while an order is on its way', () => {
  it("decides the order's answer and sends what it decided before the accounts close", async () => {
    const places = { sent: [] as string[] };
    const h = await startHarness({ label: 'stop-settles', wrapConnector: slowPlaces(places) });
    let stopped = false;
    try {
      const key = paperCredentials('stop-settles').apiKey;
      await h.reply(await h.send({ id: 'ss-start', userId: 'stop-settles', type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
      h.sim.faults.forcePostOnlyReject = true; // the entry is refused; the engine decides its bounded fallback
      await h.send({ id: 'ss-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'ETHUSDT', weight: 0.5 }] });
      await waitFor('the entry on its way', () => places.sent[0]);
      await h.service.stop();
      stopped = true;
      // The fallback went out before the accounts closed: a position (old: none, the fallback refused unsent).
      expect(places.sent.length).toBeGreaterThanOrEqual(2);
      expect(h.sim.position(key, 'ETHUSDT')).toBeGreaterThan(0);
      const wal = (await h.log.readWal(null, 10_000)).map((r) => r.data);
      expect(wal.filter((data) => data.includes('no exchange account'))).toEqual([]);
      expect(h.service.engine.pendingInputs).toBe(0);
    } finally {
      if (!stopped) await h.service.stop();
      await h.close();
    }
  });
});
