import { describe, expect, it } from 'vitest';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { describeOutbound, describeSessions } from '../../src/services/console-printer.js';
import { consoleLine } from '../../src/util/logger.js';

type EquitySummary = Extract<OutboundEvent, { type: 'equity' }>['summary'];

function summary(userId: string, overrides: Partial<EquitySummary>): EquitySummary {
  return {
    userId,
    mode: 'paper',
    status: 'active',
    capitalUsd: 1_000,
    stopLossPct: 5,
    horizonDeadline: null,
    paused: false,
    killSwitch: { engaged: false, reason: null, atMs: null },
    positions: {},
    realizedPnlUsd: 0,
    feesUsd: 0,
    fundingUsd: 0,
    equityUsd: 1_000,
    unrealizedPnlUsd: 0,
    grossExposureUsd: 0,
    unpricedSymbols: [],
    openOrders: [],
    ...overrides,
  };
}

describe("npm start's console", () => {
  it('prints a log record as one readable line, with a stack only when asked', () => {
    const record = JSON.stringify({
      level: 50,
      time: Date.UTC(2026, 11, 1),
      pid: 1,
      hostname: 'h',
      name: 'quant-engine',
      msg: 'outbound read failed',
      err: { message: 'database is locked', stack: 'Error: database is locked\n    at x' },
      entryId: '1-0',
    });
    expect(consoleLine(record, false)).toBe('2026-12-01T00:00:00.000Z ERROR outbound read failed err="database is locked" entryId=1-0');
    expect(consoleLine(record, true)).toContain('\nError: database is locked\n    at x');
    expect(consoleLine('not json\n', false)).toBe('not json');
  });

  it('shows a refused signal route but not the routine ones', () => {
    const done = {
      type: 'reply',
      commandId: 'r-1',
      userId: 'signals',
      commandType: 'signals.route',
      status: 'done',
      reason: null,
      result: { routed: [] },
      atMs: 0,
    } as OutboundEvent;
    const rejected: OutboundEvent = {
      type: 'reply',
      commandId: 'r-1',
      userId: 'signals',
      commandType: 'signals.route',
      status: 'rejected',
      reason: 'halted',
      result: null,
      atMs: 0,
    };
    expect(describeOutbound(done)).toBeNull();
    expect(describeOutbound(rejected)).toBe('[rejected] signals.route r-1 (signals): halted');
  });

  it('sums the open sessions into one line, and says nothing when none is open', () => {
    const latest = new Map([
      ['a', summary('a', { equityUsd: 1_010.5, realizedPnlUsd: 12, unrealizedPnlUsd: -1.5, feesUsd: 0.4, fundingUsd: -0.1 })],
      ['b', summary('b', { capitalUsd: 2_000, equityUsd: 1_990, realizedPnlUsd: -10 })],
    ]);
    expect(describeSessions(latest)).toBe(
      'summary: 2 open sessions, equity $3000.50 (capital $3000.00, realized +$2.00, unrealized -$1.50, fees $0.40, funding -$0.10)',
    );
    expect(describeSessions(new Map([['c', summary('c', { status: 'closed' })]]))).toBeNull();
  });
});
