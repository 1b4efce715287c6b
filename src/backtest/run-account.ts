import type { OutboundEvent } from '../contract/outbound.js';
import type { Decision } from '../core/decide.js';
import { killSwitchAlertTail } from '../core/risk-rules.js';

// The backtest's account of its run beside the figures: whether the session's kill switch ended it, and which of the
// strategy's targets the engine did not act on and why. Read from the engine's decisions as the run observes them.

/** The kill switch of a backtest's session, as its summary reports it. */
export interface KillSwitchEngaged {
  /** ISO time it engaged (simulated). */
  at: string;
  /** The engine's reason (kill_switch.engaged): stop_loss, horizon, stale_feed:SYMBOLS, protective_stop, … */
  reason: string;
  /** What its alert said happened (the alert without the bot's next step, killSwitchAlertTail). */
  text: string;
}

/** One kind of skipped target: a symbol and a reason (its numbers aside), how often, when first and last. */
export interface SkippedTargets {
  symbol: string;
  count: number;
  firstAt: string;
  lastAt: string;
  /** The reason the first time, as the engine wrote it. */
  reason: string;
}

/**
 * The skipped outcomes of the routes the run sent, grouped by symbol and reason with its numbers aside ("notional
 * 12.34 below minimum 100" and "notional 56.78 below minimum 100" are one kind). Route replies only: the
 * observer hands on every decision's outbound events, and one reply a bar is all this looks at.
 */
export class SkippedTargetTally {
  private readonly kinds = new Map<string, { symbol: string; count: number; firstAtMs: number; lastAtMs: number; reason: string }>();
  total = 0;

  addReply(event: OutboundEvent): void {
    if (event.type !== 'reply' || event.commandType !== 'signals.route' || event.status !== 'done') return;
    const routed = (event.result as { routed?: { symbol?: unknown; skipped?: unknown }[] } | null)?.routed;
    for (const outcome of Array.isArray(routed) ? routed : []) {
      if (typeof outcome.skipped !== 'string' || typeof outcome.symbol !== 'string') continue;
      const key = `${outcome.symbol}|${outcome.skipped.replace(/-?\d+(\.\d+)?/g, '#')}`;
      const kind = this.kinds.get(key);
      if (kind) {
        kind.count += 1;
        kind.lastAtMs = event.atMs;
      } else this.kinds.set(key, { symbol: outcome.symbol, count: 1, firstAtMs: event.atMs, lastAtMs: event.atMs, reason: outcome.skipped });
      this.total += 1;
    }
  }

  /** Most frequent first. */
  list(): SkippedTargets[] {
    return [...this.kinds.values()]
      .sort((a, b) => b.count - a.count || a.firstAtMs - b.firstAtMs)
      .map((k) => ({
        symbol: k.symbol,
        count: k.count,
        firstAt: new Date(k.firstAtMs).toISOString(),
        lastAt: new Date(k.lastAtMs).toISOString(),
        reason: k.reason,
      }));
  }
}

/** The kill switch's engagement in one decision of `userId`'s session, if it is there. */
export function killSwitchIn(decision: Decision, userId: string): KillSwitchEngaged | null {
  const engaged = decision.wal.find((e) => e.type === 'kill_switch.engaged' && e.userId === userId);
  if (engaged?.type !== 'kill_switch.engaged') return null;
  const tail = `; ${killSwitchAlertTail}`;
  const alert = decision.outbound.find((e) => e.type === 'alert' && e.userId === userId && e.message.endsWith(tail));
  const text = alert?.type === 'alert' ? alert.message.slice(0, -tail.length) : engaged.reason;
  return { at: new Date(engaged.atMs).toISOString(), reason: engaged.reason, text };
}
