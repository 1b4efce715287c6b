import { describe, expect, it } from 'vitest';
import { paperCredentials } from '../../src/engine/accounts.js';
import type { ExchangeAccount, ExchangeConnector } from '../../src/exchange/port.js';
import type { ProtectiveStopRequest, StopOutcome } from '../../src/model/protective-stops.js';
import { useHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// A protective stop's placement slow on its way to the exchange while the user stops the session: the stop's cancel
// used to overtake it (both on the priority lane, two requests at once), find nothing, and the placement then rested
// on the exchange untracked after the /stop. The core's sweep checks a closed session for 3 check periods after a
// removal (900 ms here); a placement later than that was an orphan for good. The executor now sends the cancel after
// the placement's answer.

/** How long a stop placement travels before it reaches the simulator: well past the sweep's 3 × 300 ms. */
const placementTransitMs = 2_000;
const checkPeriodMs = 300;

/** The connector with every stop placement held placementTransitMs before it is sent, while `slow` is set. */
function slowStopPlacements(log: { slow: boolean; sent: string[]; landed: { clientAlgoId: string; outcome: StopOutcome }[] }) {
  return (connector: ExchangeConnector): ExchangeConnector => ({
    marketData: () => connector.marketData(),
    account: (credentials) =>
      new Proxy(connector.account(credentials), {
        get: (target: ExchangeAccount, name, receiver) => {
          if (name !== 'placeProtectiveStop') return Reflect.get(target, name, receiver) as unknown;
          return async (req: ProtectiveStopRequest): Promise<StopOutcome> => {
            if (log.slow) {
              log.sent.push(req.clientAlgoId);
              await new Promise((r) => setTimeout(r, placementTransitMs));
            }
            const outcome = await target.placeProtectiveStop(req);
            log.landed.push({ clientAlgoId: req.clientAlgoId, outcome });
            return outcome;
          };
        },
      }),
  });
}

describe('a protective stop whose placement is late', () => {
  const placements = { slow: false, sent: [] as string[], landed: [] as { clientAlgoId: string; outcome: StopOutcome }[] };
  const harness = useHarness({ label: 'stop-late', config: { protectiveStopCheckMs: checkPeriodMs }, wrapConnector: slowStopPlacements(placements) });

  it('is not left resting on the exchange when the session is stopped meanwhile', async () => {
    const h = harness();
    const key = paperCredentials('late-stop').apiKey;
    await h.reply(await h.send({ id: 'l-start', userId: 'late-stop', type: 'session.start', mode: 'paper', capitalUsd: 10_000, stopLossPct: 5 }), 'done');
    placements.slow = true;
    h.sim.faults.forcePostOnlyReject = true; // the entry falls back to a market order: a position at once
    await h.send({ id: 'l-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'ETHUSDT', weight: 0.5 }] });
    await waitFor('a long', () => h.sim.position(key, 'ETHUSDT') > 0);
    h.sim.faults.forcePostOnlyReject = false;
    const late = await waitFor('a stop placement on its way', () => placements.sent[0]);

    await h.reply(await h.send({ id: 'l-stop', userId: 'late-stop', type: 'session.stop' }), 'done');
    expect(h.sim.position(key, 'ETHUSDT')).toBe(0);
    // The placement lands (after the session closed, and after the sweep's window)...
    const landed = await waitFor('the late placement answered', () => placements.landed.find((p) => p.clientAlgoId === late));
    expect(landed.outcome.kind).toBe('accepted');
    // ...and is cancelled after its answer: nothing of ours rests (the old executor left it there for good).
    await waitFor('no stop left once flat', () => h.sim.openAlgoOrders(key).length === 0);
  });
});
