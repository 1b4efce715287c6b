/**
 * The first index in [0, length) at which `before(i)` is false, for a `before` that is true on a prefix of the indexes
 * and false after it (a sorted list's lower bound): a binary search, O(log length). The sorted lists of the tick watch,
 * the order index, the simulator's holders and the in-memory log all cut themselves here.
 */
export function partitionPoint(length: number, before: (index: number) => boolean): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
