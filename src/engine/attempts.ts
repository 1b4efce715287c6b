/** Waits `ms` milliseconds. The service passes the wall clock's timer; the simulation a no-op, as it must not wait. */
export type Sleep = (ms: number) => Promise<void>;

/**
 * Runs `fn` up to `attempts` times, waiting `delayMs` × the attempt's number after each failure (so a
 * flapping dependency gets more room each time), and rethrows the last error.
 */
export async function withAttempts<T>(attempts: number, delayMs: number, fn: () => Promise<T>, sleep: Sleep): Promise<T> {
  let lastError: unknown;
  for (let i = 0; i < attempts; i += 1) {
    try {
      return await fn();
    } catch (error) {
      lastError = error;
      await sleep(delayMs * (i + 1));
    }
  }
  throw lastError;
}
