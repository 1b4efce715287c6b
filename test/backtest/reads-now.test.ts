import { describe, expect, it } from 'vitest';
import { BacktestVenue } from '../../src/backtest/venue.js';
import { defaultSimSymbols } from '../../src/paper-exchange/symbols.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { Effect } from '../../src/core/outputs.js';
import { performEffect } from '../../src/engine/perform-effect.js';

// The venue answers the protective-stop check's two reads (list_stops, reconcile) at once (venue.ts, readNow) instead
// of through the account's promises: the answers must be the inputs performEffect makes from the account, field for
// field, whatever the account holds (a position, stops on two symbols, a symbol filter), and anything else, or any
// read while the exchange has a request gate, must still go through the account.

const startMs = Date.UTC(2024, 0, 1);

async function venueHolding(): Promise<{ venue: BacktestVenue; account: ReturnType<BacktestVenue['exchange']['account']> }> {
  const venue = new BacktestVenue('u1', { ...defaultCoreConfig, symbols: ['BTCUSDT', 'ETHUSDT'] }, startMs, 0, 1, defaultSimSymbols);
  venue.exchange.quote('BTCUSDT', 4_200_000n, 4_200_010n);
  venue.exchange.quote('ETHUSDT', 220_000n, 220_001n);
  const account = venue.exchange.account(venue.accountKey);
  const placed = await account.placeOrder({ clientOrderId: 'a1', symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010', reduceOnly: false });
  expect(placed.kind).toBe('accepted');
  await account.placeProtectiveStop({ clientAlgoId: 's1', symbol: 'BTCUSDT', side: 'SELL', triggerPrice: '40000.0' });
  await account.placeProtectiveStop({ clientAlgoId: 's2', symbol: 'ETHUSDT', side: 'SELL', triggerPrice: '2000.00' });
  return { venue, account };
}

const reads: Effect[] = [
  { kind: 'list_stops', userId: 'u1', lane: 'normal', symbols: ['BTCUSDT', 'ETHUSDT'], askedAtMs: startMs },
  { kind: 'list_stops', userId: 'u1', lane: 'normal', symbols: ['ETHUSDT'], askedAtMs: startMs },
  { kind: 'reconcile', userId: 'u1', requestedAtMs: startMs },
];

describe('BacktestVenue.readNow', () => {
  it('answers the stop check reads as performEffect does through the account', async () => {
    const { venue, account } = await venueHolding();
    for (const effect of reads) {
      const now = venue.readNow(effect);
      expect(now).toBeDefined();
      expect(now).toEqual(await performEffect(account, effect, startMs));
    }
    // The reads saw something: a position and both stops.
    expect(venue.readNow(reads[2] as Effect)).toMatchObject({ positions: [{ symbol: 'BTCUSDT', positionAmt: '0.010' }] });
    expect(venue.readNow(reads[0] as Effect)).toMatchObject({ stops: [{ clientAlgoId: 's1' }, { clientAlgoId: 's2' }] });
  });

  it('leaves other effects, and every read under a request gate, to the account', async () => {
    const { venue } = await venueHolding();
    expect(venue.readNow({ kind: 'query', userId: 'u1', lane: 'normal', symbol: 'BTCUSDT', clientOrderId: 'a1' })).toBeUndefined();
    venue.exchange.gate = () => null;
    for (const effect of reads) expect(venue.readNow(effect)).toBeUndefined();
  });
});

describe('BacktestVenue.advanceTo', () => {
  /** A started venue (engine booted, no session) with `effects` queued, due 50 ms on. */
  async function venueWith(effects: Effect[]): Promise<{ venue: BacktestVenue; queue: { dueMs: number; effect: Effect }[] }> {
    const { venue } = await venueHolding();
    await venue.start(() => undefined);
    const queue = (venue as unknown as { effects: { dueMs: number; effect: Effect }[] }).effects;
    for (const effect of effects) queue.push({ dueMs: venue.clock.nowMs() + 50, effect });
    return { venue, queue };
  }

  // Every 5 s of a held position the stop check's reads fall due; a promise turn for each cost more than the check.
  it("delivers the stop check's reads, and has their answers decided, with no promise turn", async () => {
    const { venue, queue } = await venueWith(reads);
    expect(venue.advanceTo(startMs + 100)).toBeUndefined();
    expect(queue).toHaveLength(0);
    expect(venue.pendingBy(startMs + 100)).toBe(false);
    expect(venue.clock.nowMs()).toBe(startMs + 100);
  });

  it('hands back a promise for the rest when an effect must go through the account, and does it all', async () => {
    const query: Effect = { kind: 'query', userId: 'u1', lane: 'normal', symbol: 'BTCUSDT', clientOrderId: 'a1' };
    const { venue, queue } = await venueWith([reads[0] as Effect, query, reads[2] as Effect]);
    const advancing = venue.advanceTo(startMs + 100);
    expect(advancing).toBeInstanceOf(Promise);
    await advancing;
    expect(queue).toHaveLength(0);
    expect(venue.pendingBy(startMs + 100)).toBe(false);
    expect(venue.clock.nowMs()).toBe(startMs + 100);
  });
});
