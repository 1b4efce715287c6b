import { describe, expect, it } from 'vitest';
import { AccountRegistry } from '../../src/engine/accounts.js';
import type { ExchangeConnector } from '../../src/exchange/port.js';
import { silentLogger } from '../../src/util/logger.js';
import { quietAccount } from '../support/quiet-account.js';

// Shutdown: an effect performed after the registry closed (a late exchange answer decided during stop) must not open
// an account and a user-data stream nobody closes; such a stream's keep-alive and reconnect timers kept the
// process alive after `npm run bench` had printed its figures.

/** A registry whose every user trades paper on `paper`. */
function paperRegistry(paper: ExchangeConnector): AccountRegistry {
  return new AccountRegistry({ paper, live: null, liveCredentials: () => null, modeOf: () => 'paper', onInput: () => undefined, logger: silentLogger() });
}

describe('account registry after close', () => {
  it('opens no account and no stream', async () => {
    const streams = { opened: 0, closed: 0 };
    const paper: ExchangeConnector = {
      marketData: () => {
        throw new Error('not in this test');
      },
      account: () =>
        quietAccount({
          subscribeOrderUpdates: async () => {
            streams.opened += 1;
            return { close: async () => void (streams.closed += 1) };
          },
        }),
    };
    const registry = paperRegistry(paper);
    expect(registry.resolve('u1')).not.toBeNull();
    await registry.close();
    expect(registry.resolve('u2')).toBeNull();
    expect(registry.resolve('u1')).toBeNull();
    await new Promise((resolve) => setImmediate(resolve));
    expect(streams).toEqual({ opened: 1, closed: 1 });
  });

  it('closes many accounts at once, not one after another', async () => {
    let closing = 0;
    let mostAtOnce = 0;
    let releaseAll: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (releaseAll = resolve));
    const paper: ExchangeConnector = {
      marketData: () => {
        throw new Error('not in this test');
      },
      account: () =>
        quietAccount({
          // A socket's close takes a while (its close frame): every close waits until several are under way.
          subscribeOrderUpdates: async () => ({
            close: async () => {
              closing += 1;
              mostAtOnce = Math.max(mostAtOnce, closing);
              if (closing >= 10) releaseAll();
              await Promise.race([released, new Promise((resolve) => setTimeout(resolve, 200))]);
              closing -= 1;
            },
          }),
        }),
    };
    const registry = paperRegistry(paper);
    for (let i = 0; i < 50; i += 1) registry.resolve(`u${i}`);
    await new Promise((resolve) => setImmediate(resolve));
    await registry.close();
    expect(mostAtOnce).toBeGreaterThanOrEqual(10);
  });
});
