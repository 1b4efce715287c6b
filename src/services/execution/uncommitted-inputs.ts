import type { Input } from '../../core/decide.js';
import type { Engine } from '../../engine/engine.js';
import type { Sleep } from '../../engine/attempts.js';
import type { Logger } from '../../util/logger.js';

// Exchange news (order updates from the user stream, answers to our requests) arrives once: the exchange does
// not send it again. If the log cannot take it (a Redis outage), it must not be dropped: it waits here, in
// arrival order and boundedly, and is committed once the log is back. Then the engine asks the exchange about
// every open or unknown order and re-reads positions, which also covers anything this bound had to let go.

export interface UncommittedInputLimits {
  /** Exchange inputs kept while the log refuses commits; past this the oldest go (the resync recovers them). */
  maxUncommittedInputs: number;
  /** Wait between commit attempts while the log is down (ms). */
  retryEveryMs: number;
  /** Inputs committed together per attempt once the log is back. */
  retryBatchInputs: number;
}

export const defaultUncommittedInputLimits: UncommittedInputLimits = { maxUncommittedInputs: 10_000, retryEveryMs: 500, retryBatchInputs: 100 };

export class UncommittedInputs {
  private readonly queue: Input[] = [];
  private retrying: Promise<void> | null = null;
  private droppedInputs = 0;
  private stopped = false;

  constructor(
    private readonly engine: () => Engine,
    private readonly logger: Logger,
    private readonly sleep: Sleep,
    private readonly limits: UncommittedInputLimits = defaultUncommittedInputLimits,
  ) {}

  /** Inputs waiting for the log. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Submits exchange news; kept and retried if the log refuses it. Never rejects. */
  submit(input: Input): void {
    if (this.queue.length > 0) {
      this.keep(input); // behind earlier news that still waits, not ahead of it
      return;
    }
    this.engine()
      .submit(input)
      .catch((error: unknown) => {
        this.logger.error({ err: error, input: input.kind }, 'exchange input not committed; kept until the log is back');
        this.keep(input);
      });
  }

  /** Stops retrying (shutdown); what still waits is recovered by the next boot's reconciliation. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.retrying;
  }

  private keep(input: Input): void {
    if (this.queue.length >= this.limits.maxUncommittedInputs) {
      this.queue.shift();
      this.droppedInputs += 1;
    }
    this.queue.push(input);
    this.retrying ??= this.retry().finally(() => {
      this.retrying = null;
    });
  }

  private async retry(): Promise<void> {
    while (!this.stopped) {
      while (this.queue.length > 0 && !this.stopped) {
        await this.sleep(this.limits.retryEveryMs);
        const batch = this.queue.slice(0, this.limits.retryBatchInputs);
        try {
          await this.engine().submitBatch(batch);
          this.queue.splice(0, batch.length);
        } catch (error) {
          this.logger.warn({ err: error, waiting: this.queue.length }, 'log still refuses commits; exchange inputs kept');
        }
      }
      if (this.stopped) return;
      try {
        await this.engine().submit({ kind: 'resync' });
        if (this.droppedInputs > 0)
          this.logger.warn({ droppedInputs: this.droppedInputs }, 'exchange inputs dropped past the bound during the outage; recovered by the resync');
        this.droppedInputs = 0;
        if (this.queue.length === 0) return;
      } catch {
        await this.sleep(this.limits.retryEveryMs); // the log failed again: keep at it
      }
    }
  }
}
