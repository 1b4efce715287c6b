import type { WalEvent } from '../src/core/events.js';
import type { EngineLog } from '../src/log/port.js';
import { serializeWalEvent } from '../src/contract/wal.js';
import { toDecimal } from '../src/model/decimal.js';
import type { Usd } from '../src/model/decimal.js';

// A WAL as the engine writes it for `sessions` paper sessions: the engine's epoch, each session started,
// then a stream of decided commands (mostly processed-command records, every tenth a stop-loss change).

/** WAL records per commit while writing the fixture. */
const writeBatchEvents = 2_000;

export const fixtureUserId = (i: number): string => `w${i}`;

export function walEventAt(index: number, sessions: number): WalEvent {
  if (index === 0) return { type: 'engine.initialized', epoch: 'bench' };
  if (index <= sessions) {
    return {
      type: 'session.started',
      userId: fixtureUserId(index - 1),
      mode: 'paper',
      capitalUsd: toDecimal(1_000) as Usd,
      stopLossPct: 50,
      horizonDeadlineMs: null,
      atMs: index,
    };
  }
  const userId = fixtureUserId(index % Math.max(1, sessions));
  if (index % 10 === 0) return { type: 'session.stoploss_set', userId, pct: 40 + (index % 20) };
  return { type: 'command.processed', commandId: `c-${index}`, userId, commandType: 'status', outcome: 'accepted', reason: null, atMs: index };
}

/** Appends `total` fixture events; `onBatch` sees each batch's events and the WAL ids they were given. */
export async function writeWal(log: EngineLog, total: number, sessions: number, onBatch?: (events: WalEvent[], ids: string[]) => void): Promise<void> {
  for (let i = 0; i < total; i += writeBatchEvents) {
    const events = Array.from({ length: Math.min(writeBatchEvents, total - i) }, (_, j) => walEventAt(i + j, sessions));
    const ids = await log.commit({ wal: events.map(serializeWalEvent), outbound: [], ack: [], deadLetters: [] });
    onBatch?.(events, ids);
  }
}
