import type { Side } from '../model/orders.js';
import type { DeadLetter } from '../model/command-delivery.js';
import type { CoreConfig } from './config.js';
import type { WalEvent } from './events.js';
import { applyEvent } from './events.js';
import type { ReplyAnswer } from '../contract/command-results.js';
import type { AlertKind, OutboundEvent } from '../contract/outbound.js';
import type { Effect } from './outputs.js';
import { dictWith } from './dict.js';
import type { DurableState, EngineState, MarketState } from './state.js';

/**
 * Accumulates one decision. Local and short-lived: decide() creates it, handlers record into it, and it is
 * turned into an immutable Decision at the end. Emitting an event applies it at once, so later logic in the
 * same decision sees the updated state, and the state returned is exactly fold(previous, events).
 */
export class DecisionContext {
  durable: DurableState;
  market: MarketState;
  readonly wal: WalEvent[] = [];
  readonly outbound: OutboundEvent[] = [];
  readonly effects: Effect[] = [];
  readonly ack: string[] = [];
  readonly deadLetters: DeadLetter[] = [];

  constructor(
    state: EngineState,
    readonly nowMs: number,
    readonly config: CoreConfig,
  ) {
    this.durable = state.durable;
    this.market = state.market;
  }

  emit(event: WalEvent): void {
    this.durable = applyEvent(this.durable, event, this.config);
    this.wal.push(event);
  }

  /** Answers a command that was refused: nothing changed for it. */
  reject(commandId: string, userId: string | null, commandType: string | null, reason: string): void {
    this.outbound.push({ type: 'reply', commandId, userId, commandType, status: 'rejected', reason, result: null, atMs: this.nowMs });
  }

  /** Answers a command with the result its type and status carry (see the contract's replyResultSchemas). */
  answer(commandId: string, userId: string | null, answer: ReplyAnswer): void {
    this.outbound.push({ type: 'reply', commandId, userId, reason: null, ...answer, atMs: this.nowMs });
  }

  alert(userId: string, kind: AlertKind, message: string): void {
    this.outbound.push({ type: 'alert', userId, kind, message, atMs: this.nowMs });
  }

  effect(effect: Effect): void {
    this.effects.push(effect);
  }

  noteCancel(clientOrderId: string): void {
    this.market = { ...this.market, lastCancelAtMs: dictWith(this.market.lastCancelAtMs, clientOrderId, this.nowMs) };
  }

  noteStopCheck(userId: string): void {
    this.market = { ...this.market, lastStopCheckAtMs: dictWith(this.market.lastStopCheckAtMs, userId, this.nowMs) };
  }

  noteStopAttempt(key: string): void {
    this.market = { ...this.market, lastStopAttemptAtMs: dictWith(this.market.lastStopAttemptAtMs, key, this.nowMs) };
  }

  noteStopRetired(userId: string, symbol: string, side: Side): void {
    this.market = { ...this.market, retiredStops: dictWith(this.market.retiredStops, `${userId}:${symbol}`, { side, atMs: this.nowMs }) };
  }

  noteQuery(clientOrderId: string): void {
    this.market = { ...this.market, lastQueryAtMs: dictWith(this.market.lastQueryAtMs, clientOrderId, this.nowMs) };
  }
}
