import type { WalEvent } from '../src/core/events.js';
import type { EngineLog } from '../src/log/port.js';
import { serializeWalEvent } from '../src/contract/wal.js';
import { toDecimal } from '../src/model/decimal.js';
import type { Price, Qty, Usd } from '../src/model/decimal.js';

// A WAL as the engine writes it for `sessions` paper sessions: the engine's epoch, each session started, the
// first `busy` of them each holding a position guarded by an active protective stop, then a stream of decided
// commands (mostly processed-command records, every tenth a stop-loss change).

/** WAL records per commit while writing the fixture. */
const writeBatchEvents = 2_000;

export const fixtureUserId = (i: number): string => `w${i}`;

/** Events a busy session adds after its session.started: its position, its stop planned, the stop confirmed. */
const eventsPerBusySession = 3;

/** The fixture's first events (epoch, sessions, busy sessions' holdings): what every snapshot of it has folded. */
export function fixtureHeaderEvents(sessions: number, busy = 0): number {
  return 1 + sessions + eventsPerBusySession * Math.min(busy, sessions);
}

function busySessionEvent(b: number, k: number): WalEvent {
  const userId = fixtureUserId(b);
  const clientAlgoId = `qsbench-${b + 1}`;
  // 0.001 BTC against 1 000 USD at a 50 % stop-loss: no price the paper exchange reaches breaches it.
  if (k === 0)
    return { type: 'position.adopted', userId, symbol: 'BTCUSDT', qty: toDecimal('0.001') as Qty, entryPrice: toDecimal(50_000) as Price, reason: 'bench' };
  if (k === 1) return { type: 'stop.planned', userId, symbol: 'BTCUSDT', clientAlgoId, side: 'SELL', triggerPrice: '1000', atMs: 1 };
  return { type: 'stop.status', userId, symbol: 'BTCUSDT', clientAlgoId, status: 'active' };
}

export function walEventAt(index: number, sessions: number, busy = 0): WalEvent {
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
  if (index < fixtureHeaderEvents(sessions, busy)) {
    const at = index - sessions - 1;
    return busySessionEvent(Math.floor(at / eventsPerBusySession), at % eventsPerBusySession);
  }
  const userId = fixtureUserId(index % Math.max(1, sessions));
  if (index % 10 === 0) return { type: 'session.stoploss_set', userId, pct: 40 + (index % 20) };
  return { type: 'command.processed', commandId: `c-${index}`, userId, commandType: 'status', outcome: 'accepted', reason: null, atMs: index };
}

/** Appends `total` fixture events; `onBatch` sees each batch's events and the WAL ids they were given. */
export async function writeWal(
  log: EngineLog,
  total: number,
  sessions: number,
  onBatch?: (events: WalEvent[], ids: string[]) => void,
  busy = 0,
): Promise<void> {
  for (let i = 0; i < total; i += writeBatchEvents) {
    const events = Array.from({ length: Math.min(writeBatchEvents, total - i) }, (_, j) => walEventAt(i + j, sessions, busy));
    const ids = await log.commit({ wal: events.map(serializeWalEvent), outbound: [], ack: [], deadLetters: [] });
    onBatch?.(events, ids);
  }
}
