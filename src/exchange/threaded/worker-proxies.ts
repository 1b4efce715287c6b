import pino from 'pino';
import type { Logger } from '../../util/logger.js';
import { pinoFields, redactedPaths } from '../../util/logger.js';
import type { RateBudget } from '../rate-budget.js';
import type { Answer, BudgetMethod, CallId, FromWorker } from './protocol.js';
import { fromWireError } from './wire-error.js';

// What the adapter's thread borrows from the engine thread: the request budget (the engine's executor admits effects
// on the same one, so there must be one count) and the logger (one sink, one level). Both are messages.

/**
 * A RateBudget whose every call is asked of the engine thread's budget. Its answers come back in `answer`. Calls are
 * few beside the requests they admit (one admit and one recordHeaders per request), and each is bounded by the
 * request it belongs to, so they need no bound of their own.
 */
export function proxyRateBudget(post: (message: FromWorker) => void): { budget: RateBudget; answer(id: CallId, answer: Answer): void } {
  let nextId = 0;
  const pending = new Map<CallId, { resolve(value: unknown): void; reject(error: Error): void }>();
  const ask = (method: BudgetMethod, args: readonly unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      nextId += 1;
      pending.set(nextId, { resolve, reject });
      post({ type: 'budget', id: nextId, method, args });
    });
  const budget: RateBudget = {
    admit: (...args) => ask('admit', args) as ReturnType<RateBudget['admit']>,
    recordUsedWeight: async (...args) => void (await ask('recordUsedWeight', args)),
    recordHeaders: async (...args) => void (await ask('recordHeaders', args)),
    recordBackoff: async (...args) => void (await ask('recordBackoff', args)),
    // The budget is the engine thread's: it closes it.
    close: async () => undefined,
  };
  return {
    budget,
    answer(id, answer) {
      const waiting = pending.get(id);
      if (!waiting) return;
      pending.delete(id);
      if (answer.ok) waiting.resolve(answer.value);
      else waiting.reject(fromWireError(answer.error));
    },
  };
}

/** A logger of the engine thread's level whose records (pino JSON, redacted here already) go to the engine thread. */
export function forwardingLogger(level: string, post: (message: FromWorker) => void): Logger {
  const destination = {
    write(chunk: string): void {
      for (const line of chunk.split('\n')) if (line.length > 0) post({ type: 'log', line });
    },
  };
  return pino({ name: 'exchange-thread', level, redact: { paths: redactedPaths, censor: '[redacted]' } }, destination);
}

/** Writes one forwarded record through the engine thread's logger (its sink, format and bindings), marked as the adapter thread's. */
export function writeForwarded(logger: Logger, line: string): void {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    logger.warn({ line }, 'unreadable log record from the exchange thread');
    return;
  }
  const label = pino.levels.labels[Number(record.level)];
  const method = label === 'trace' || label === 'debug' || label === 'warn' || label === 'error' || label === 'fatal' ? label : 'info';
  const fields: Record<string, unknown> = { thread: 'exchange' };
  for (const [key, value] of Object.entries(record)) if (!pinoFields.has(key)) fields[key] = value;
  logger[method](fields, typeof record.msg === 'string' ? record.msg : '');
}
