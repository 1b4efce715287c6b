import { describe, expect, it } from 'vitest';
import { gatedEngine as gated, unreadable, untilHeld } from '../support/gated-engine.js';

// Pipelined commits (engine.ts maxStepsCommitting): on a log that lands commits in the order they were called or not
// at all (EngineLog.ordersCommits, the Redis log's commit count), the engine decides and sends the next step while the
// one before it is still committing. A step whose predecessor failed fails too, and the engine goes on from the state
// it committed; a step that lands although its predecessor failed is fatal (the log then holds what the engine does not).

const gatedEngine = () => gated({ ordersCommits: true });

describe('pipelined commits', () => {
  it('sends the next step while the one before it commits, and adopts them in order', async () => {
    const { engine, held, land, decided, fatal } = await gatedEngine();
    const first = engine.submit(unreadable('1-1'));
    await untilHeld(held, 1);
    const second = engine.submit(unreadable('1-2'));
    // The second step's commit is on its way before the first one's has landed.
    await untilHeld(held, 2);
    expect(decided).toEqual([]);
    await land();
    await first;
    expect(decided).toEqual(['1-1']);
    await land();
    await second;
    expect(decided).toEqual(['1-1', '1-2']);
    expect(fatal).toEqual([]);
  });

  it('fails the step begun after a failed one, and goes on from the state it committed', async () => {
    const { engine, held, land, refuse, decided, fatal, deadLetters } = await gatedEngine();
    const first = engine.submit(unreadable('2-1'));
    await untilHeld(held, 1);
    const second = engine.submit(unreadable('2-2'));
    await untilHeld(held, 2);
    refuse(); // the first
    refuse(); // the second, sent with the first's state behind it: the log refuses it (out of order)
    await expect(first).rejects.toThrow('refused');
    await expect(second).rejects.toThrow('refused');
    expect(decided).toEqual([]);
    // Nothing of either is in the state: the second command, redelivered, is decided again from the committed state.
    const again = engine.submit(unreadable('2-2'));
    await untilHeld(held, 1);
    await land();
    await again;
    expect(decided).toEqual(['2-2']);
    expect(await deadLetters()).toEqual(['2-2']);
    expect(fatal).toEqual([]);
  });

  it('is fatal when a step lands although the one before it failed', async () => {
    const { engine, held, land, refuse, decided, fatal } = await gatedEngine();
    const first = engine.submit(unreadable('3-1'));
    await untilHeld(held, 1);
    const second = engine.submit(unreadable('3-2'));
    await untilHeld(held, 2);
    refuse();
    await land(); // a log that did not keep the order: the second step's events landed without the first's
    await expect(first).rejects.toThrow('refused');
    await expect(second).rejects.toThrow(/the log holds a step the engine does not/);
    expect(fatal).toHaveLength(1);
    expect(decided).toEqual([]);
  });
});
