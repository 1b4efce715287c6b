import type { Command } from '../../contract/commands.js';
import { parseDelivery } from '../../contract/commands.js';
import type { CommandDelivery } from '../../model/command-delivery.js';
import type { SessionReadiness } from '../../engine/session-readiness.js';
import { controlCommandTypes } from '../../core/command-priority.js';
import type { Logger } from '../../util/logger.js';

// Commands for sessions boot has not reconciled yet wait here, and commands whose account check reads the exchange
// (AccountCheckRunner) while it runs, while every other command is decided at once.
// Waiting rather than answering "not ready, retry": a held command stays pending (unacknowledged) in the
// stream, so a crash loses nothing (it is redelivered), and nothing is answered on the replayed view or
// answered wrongly — a session.stop is decided, exactly once, on the reconciled state. Per session, commands
// keep their order: once one is held, later ones for that session queue behind it even if it becomes ready.

/** Commands held for sessions still reconciling; at this many the command loop stops reading until one is decided. */
export const defaultHeldCommandsMax = 10_000;

export type DecideCommands = (deliveries: CommandDelivery[], readAtMs: number) => Promise<void>;

/**
 * Account checks that read the exchange before a command is decided (a start's preflight, a paused session's resume:
 * account-preflight.ts AccountChecks). A command that needs one is held like a command for a session not yet
 * reconciled, its check run meanwhile: run in the command loop, it held every command read after it (another user's
 * /stop included) for as long as the exchange took to answer, up to the preflight's timeout.
 */
export interface AccountCheckRunner {
  /** Whether the delivery's command (parsed) needs a check. */
  needed(command: Command): boolean;
  run(delivery: CommandDelivery): Promise<void>;
}

/** What a command acts on: one session (its own commands), or the fleet (routes, admin), which orders against all. */
type Scope = { kind: 'session'; userId: string; control: boolean; command: Command } | { kind: 'fleet'; control: boolean };

const sessionScoped = new Set([
  'session.start',
  'session.stop',
  // Missing once: an /exit of one symbol was taken for a fleet control command and decided at once, on a session's
  // replayed view before its reconciliation and ahead of the session's own held commands.
  'session.exit',
  'session.set_stoploss',
  'session.set_horizon',
  'session.pause',
  'session.resume',
  'status',
  'trades',
]);

/** The turn after every one of `turns` (null ones are none); null when there is none to wait for. */
function afterAll(turns: readonly (Promise<void> | null)[]): Promise<void> | null {
  const waiting = turns.filter((t): t is Promise<void> => t !== null);
  if (waiting.length <= 1) return waiting[0] ?? null;
  return Promise.all(waiting).then(() => undefined);
}

export class CommandGate {
  /** Per session, the last held command's turn: the next one for that session waits for it (until it is decided). */
  private readonly tails = new Map<string, Promise<void>>();
  /** The last held fleet command's turn: every command read after it waits for it. */
  private barrier: Promise<void> | null = null;
  /** Entries held now: the stream's reclaim of one (it stays pending while it waits) is not a second command. */
  private readonly held = new Set<string>();
  private closed = false;

  constructor(
    private readonly readiness: SessionReadiness,
    private readonly decideCommands: DecideCommands,
    private readonly maxCommandBytes: number,
    private readonly logger: Logger,
    private readonly heldCommandsMax: number = defaultHeldCommandsMax,
    private readonly accountChecks: AccountCheckRunner | null = null,
  ) {}

  get heldCommands(): number {
    return this.held.size;
  }

  /**
   * The deliveries that may be decided now; the others are held and decided once their session is ready. A fleet
   * command (signals.route, admin.*) waits only for the commands held before it, never for every session's
   * reconciliation: an idle session is reconciled with `requestedAtMs`, so orders a route sends it meanwhile
   * are not mistaken for a difference. An operator's halt (admin.halt_all) waits for nothing.
   */
  route(deliveries: readonly CommandDelivery[], readAtMs: number): CommandDelivery[] {
    const now: CommandDelivery[] = [];
    for (const delivery of deliveries) {
      if (this.held.has(delivery.entryId)) continue;
      const scope = this.scopeOf(delivery);
      if (scope === null) {
        now.push(delivery); // unreadable: rejected at once, it acts on nothing
      } else if (scope.kind === 'fleet') {
        // An operator's halt goes ahead of every held command: a held start decided after it is refused (halted), and a
        // halt waiting for another user's account check or reconciliation is the frozen control path of the audit.
        if (scope.control || (this.barrier === null && this.tails.size === 0)) now.push(delivery);
        else {
          // Every command held before it; the sessions' tails stay, so a session's control command read later still
          // waits for its own earlier commands (and only those).
          const before = afterAll([this.barrier, ...this.tails.values()]) ?? Promise.resolve();
          const turn = this.hold(before, delivery, readAtMs, () => {
            if (this.barrier === turn) this.barrier = null;
          });
          this.barrier = turn;
        }
      } else {
        const { userId } = scope;
        // A session's control command (a /stop, a stop-loss change) does not queue behind a held fleet command: a route
        // held behind another user's account check (up to its timeout) held every /stop read after it. Decided before
        // the route, the stop is what the engine's step does with them anyway (control first). Its own session's
        // earlier commands it still waits for: a session's commands keep their order.
        const own = this.tails.get(userId) ?? null;
        const before = scope.control ? own : afterAll([own, this.barrier]);
        const checks = this.accountChecks !== null && this.accountChecks.needed(scope.command) ? this.accountChecks : null;
        if (before === null && this.readiness.isReady(userId) && checks === null) now.push(delivery);
        else {
          // A control command hurries its session's reconciliation now, even while it queues behind earlier ones.
          if (scope.control) void this.readiness.whenReady(userId, true);
          const ready = (before ?? Promise.resolve()).then(() => this.readiness.whenReady(userId));
          const turn = this.hold(checks === null ? ready : ready.then(() => checks.run(delivery)), delivery, readAtMs, () => {
            if (this.tails.get(userId) === turn) this.tails.delete(userId);
          });
          this.tails.set(userId, turn);
        }
      }
    }
    return now;
  }

  /** Resolves when fewer than heldCommandsMax commands are held. */
  async roomToRead(): Promise<void> {
    while (this.held.size >= this.heldCommandsMax) {
      const turns = [...this.tails.values(), ...(this.barrier ? [this.barrier] : [])];
      if (turns.length === 0) return;
      await Promise.race(turns);
    }
  }

  /** Held commands are no longer decided (they stay pending in the stream and are redelivered after a restart). */
  close(): void {
    this.closed = true;
  }

  private scopeOf(delivery: CommandDelivery): Scope | null {
    const parsed = parseDelivery(delivery, this.maxCommandBytes);
    if (!parsed.ok) return null;
    const { type, userId } = parsed.command;
    const control = controlCommandTypes.has(type);
    return sessionScoped.has(type) ? { kind: 'session', userId, control, command: parsed.command } : { kind: 'fleet', control };
  }

  private hold(before: Promise<void>, delivery: CommandDelivery, readAtMs: number, done: () => void): Promise<void> {
    this.held.add(delivery.entryId);
    return before
      .then(() => (this.closed ? undefined : this.decideCommands([delivery], readAtMs)))
      .catch((error: unknown) => {
        // Not acknowledged: it stays pending and the stream's reclaim delivers it again.
        this.logger.error({ err: error, entryId: delivery.entryId }, 'held command not committed; it stays pending and will be redelivered');
      })
      .finally(() => {
        this.held.delete(delivery.entryId);
        done();
      });
  }
}
