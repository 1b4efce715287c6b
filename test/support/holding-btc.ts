import { paperCredentials } from '../../src/engine/accounts.js';
import type { ManualClock } from '../../src/engine/clock.js';
import { isZero, zero } from '../../src/model/decimal.js';
import type { Harness } from './harness.js';
import { waitFor } from './wait.js';

/**
 * A session of `userId` holding BTC on the harness's simulator, its entry filled through the bounded fallback (post-only
 * refused meanwhile); the clock then moves on a second, so what a test does next happens later than the fill.
 */
export async function holdingBtc(h: Harness, userId: string, clock: ManualClock): Promise<void> {
  await h.reply(await h.send({ id: `${userId}-start`, userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
  h.sim.faults.forcePostOnlyReject = true;
  await h.send({ id: `${userId}-sig`, userId: 'signals', type: 'signals.route', userIds: [userId], signals: [{ symbol: 'BTCUSDT', weight: 0.3 }] });
  await waitFor('a position on the exchange', () => h.sim.position(paperCredentials(userId).apiKey, 'BTCUSDT') !== 0);
  await waitFor('the engine to see it', () => !isZero(h.service.engine.current.durable.sessions.get(userId)?.positions.BTCUSDT?.qty ?? zero));
  h.sim.faults.forcePostOnlyReject = false;
  await h.service.settle();
  clock.advance(1_000);
}
