// The assertion every conformance test makes: the payload has the documented example's shape, less the differences
// we know of (each with its reason).
import { expect } from 'vitest';
import { loadFixture, unexpectedDifferences, type KnownDifference } from './same-shape.js';

export function expectShapeOf(known: Record<string, readonly KnownDifference[]>): (fixture: string, actual: unknown) => void {
  return (fixture, actual) => {
    expect(unexpectedDifferences(loadFixture(fixture), actual, known[fixture] ?? [])).toEqual([]);
  };
}
