// The simulation's one way to fail a seed: an invariant that does not hold throws InvariantViolation, which the run
// reports with the seed's trace (run-seed.ts); a cluster records one thrown inside a worker's step (cluster.ts).

export class InvariantViolation extends Error {}

export function check(condition: boolean, message: string): void {
  if (!condition) throw new InvariantViolation(message);
}
