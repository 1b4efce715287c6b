import { describe, expect, it } from 'vitest';
import type { CostClass, StepJob } from '../../src/engine/step-queue.js';
import { maxStepInputs, stepDecideBudgetMs, StepQueue, StepSizer } from '../../src/engine/step-queue.js';

// A step gathers waiting jobs up to a deciding budget, estimated per cost class (an input's kind, or a fan-out's next
// part). With one running mean over all inputs, cheap order answers dominated it and a step took a dozen route parts
// of ~5 ms each together: 190 ms to 1 s steps at 10 000 sessions, every control input waiting behind them.

const job = (costClasses: CostClass[]): StepJob => ({ inputs: [], count: costClasses.length, costClasses, resolve: () => undefined, reject: () => undefined });

/** An order answer's deciding time (ms): a power of two, so the budget's sum is exact. */
const cheapMs = 1 / 32;

function learned(): StepSizer {
  const sizer = new StepSizer();
  for (let i = 0; i < 200; i += 1) sizer.decided('place_result', cheapMs);
  for (let i = 0; i < 5; i += 1) sizer.decided('continuation', 5);
  return sizer;
}

describe('step sizes by cost class', () => {
  it('take one fan-out part a step, however cheap the other inputs were', () => {
    const queue = new StepQueue();
    for (let i = 0; i < 12; i += 1) queue.push('control', job(['continuation']), 0);
    const sizer = learned();
    const sizes: number[] = [];
    while (!queue.empty) sizes.push(queue.takeStep(sizer, 0).length);
    expect(sizes).toEqual(Array.from({ length: 12 }, () => 1));
  });

  it('take cheap jobs together up to the budget, and stop before an expensive one', () => {
    const sizer = learned();
    const cheap = new StepQueue();
    for (let i = 0; i < 100; i += 1) cheap.push('bulk', job(['place_result']), 0);
    expect(cheap.takeStep(sizer, 0)).toHaveLength(stepDecideBudgetMs / cheapMs);

    const mixed = new StepQueue();
    for (const classes of [['place_result'], ['place_result'], ['continuation'], ['place_result']] as CostClass[][]) mixed.push('bulk', job(classes), 0);
    expect(mixed.takeStep(sizer, 0)).toHaveLength(2);
    expect(mixed.takeStep(sizer, 0)).toHaveLength(1);
  });

  it('take a class not yet measured alone, and a job larger than the bounds whole', () => {
    const sizer = learned();
    const queue = new StepQueue();
    queue.push('control', job(['command']), 0);
    queue.push('control', job(['command']), 0);
    expect(queue.takeStep(sizer, 0)).toHaveLength(1);
    sizer.decided('command', 0.01);
    const big = new StepQueue();
    big.push('bulk', job(Array.from({ length: maxStepInputs + 10 }, (): CostClass => 'place_result')), 0);
    big.push('bulk', job(['place_result']), 0);
    expect(big.takeStep(sizer, 0)).toHaveLength(1);
  });

  it('gather fewer inputs once whole steps have run over their estimate, though the class mean read cheap when gathered', () => {
    const sizer = learned();
    const gather = (): number => {
      const queue = new StepQueue();
      for (let i = 0; i < 200; i += 1) queue.push('bulk', job(['place_result']), 0);
      return queue.takeStep(sizer, 0).length;
    };
    const atBudget = stepDecideBudgetMs / cheapMs;
    expect(gather()).toBe(atBudget);
    // The inputs are cheap, but every 64th pays a pause (a young-generation GC, per bytes allocated) of two budgets,
    // which the class mean forgets within a few inputs: on average an input costs three times the cheap one.
    const pauseMs = 2 * stepDecideBudgetMs;
    let decided = 0;
    const sizes: number[] = [];
    for (let step = 0; step < 60; step += 1) {
      const taken = gather();
      sizes.push(taken);
      for (let i = 0; i < taken; i += 1) sizer.decided('place_result', (decided += 1) % atBudget === 0 ? cheapMs + pauseMs : cheapMs);
      sizer.stepDone();
    }
    // Gathered by the class mean alone, every step took atBudget inputs (about three budgets of deciding with its
    // pause); scaled by what steps took, the later ones take about a third of that.
    const later = sizes.slice(30);
    const mean = later.reduce((a, b) => a + b, 0) / later.length;
    expect(mean).toBeLessThan(atBudget / 2);
    expect(mean).toBeGreaterThan(atBudget / 6);
  });

  it('leave the estimates alone after steps of a few inputs', () => {
    const sizer = learned();
    for (let step = 0; step < 20; step += 1) {
      const queue = new StepQueue();
      queue.push('bulk', job(['place_result']), 0);
      queue.takeStep(sizer, 0);
      sizer.decided('place_result', 10);
      sizer.stepDone();
      for (let i = 0; i < 50; i += 1) sizer.decided('place_result', cheapMs);
      sizer.stepDone();
    }
    const queue = new StepQueue();
    for (let i = 0; i < 100; i += 1) queue.push('bulk', job(['place_result']), 0);
    expect(queue.takeStep(sizer, 0).length).toBeGreaterThanOrEqual(stepDecideBudgetMs / cheapMs - 1);
  });
});
