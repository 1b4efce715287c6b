import { describe, expect, it } from 'vitest';
import type { SessionSummary } from '../../src/contract/session-summary.js';
import { replyLines } from '../../src/services/cli/format.js';
import { doneHtml } from '../../src/services/telegram/messages.js';
import type { ReplyEvent } from '../../src/contract/outbound.js';
import { CoreDriver, replies } from './fixtures.js';

// A session whose capital cannot buy one order of a symbol never holds it: every signal for it is skipped, and the
// route's answer saying so goes to the signal source. The start's answer tells the user, once, while they can still
// choose another capital. Before, a 50 USD session started with "✅ Session started" and then never traded.

function started(capitalUsd: number): SessionSummary | null {
  const d = new CoreDriver();
  d.tick('BTCUSDT', 60_000, 60_000.1);
  d.tick('ETHUSDT', 3_000, 3_000.01);
  const reply = replies(d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd })).find((r) => r.status === 'done');
  return (reply?.result ?? null) as SessionSummary | null;
}

describe("a session start's notes", () => {
  it('name each symbol whose smallest order the capital cannot buy, and none when it can', () => {
    // BTCUSDT's minimum notional is 100 USD here, ETHUSDT's 20 (test/core/fixtures.ts).
    expect(started(50)?.notes).toEqual([
      'BTCUSDT: its smallest order is about 100.00 USD (minimum notional 100); 50 USD cannot buy it, so signals for BTCUSDT will be skipped',
    ]);
    expect(started(10)?.notes).toHaveLength(2);
    expect(started(1_000)?.notes).toBeUndefined();
  });

  it('are shown by the bot and the CLI after the session lines', () => {
    const result = started(50);
    const reply = { type: 'reply', commandId: 'c', userId: 'u', commandType: 'session.start', status: 'done', reason: null, result, atMs: 1 } as ReplyEvent;
    const html = doneHtml(reply as never, null).split('\n');
    expect(html[0]).toBe('✅ Session started: paper, capital $50.00');
    expect(html[html.length - 1]).toBe(
      '⚠️ BTCUSDT: its smallest order is about 100.00 USD (minimum notional 100); 50 USD cannot buy it, so signals for BTCUSDT will be skipped',
    );
    const lines = replyLines(reply);
    expect(lines[0]).toBe('started');
    expect(lines[lines.length - 1]).toMatch(/^note: BTCUSDT: its smallest order is about 100\.00 USD/);
  });
});
