import { describe, expect, it } from 'vitest';
import { allOutbound } from '../support/outbound.js';
import { useHarness } from '../support/harness.js';

// An operator's halt is decided at once, ahead of every command the command gate holds: here a start whose account
// check waits 2 s for the exchange. It used to wait for that check (a fleet command waited for every held command),
// so a halt could be held for as long as another user's exchange reads took. The start, sent before it and decided
// after, is refused: trading is halted.

describe('admin.halt_all and held commands', () => {
  const harness = useHarness({ label: 'halt-ahead', paperPreflight: true });

  it('is decided before a start still waiting for its account check, which is then refused', async () => {
    const h = harness();
    h.sim.faults.latencyByPathMs['/fapi/v1/positionSide/dual'] = 2_000;
    const start = await h.send({ id: 'ha-start', userId: 'late-starter', type: 'session.start', mode: 'paper', capitalUsd: 1_000 });
    const halt = await h.send({ id: 'ha-halt', userId: 'operator', type: 'admin.halt_all' });
    expect((await h.reply(halt)).status).toBe('done');
    const refused = await h.reply(start);
    expect(refused.status).toBe('rejected');
    expect(refused.reason).toContain('halted');
    const replies = (await allOutbound(h.log)).flatMap((e) => (e.type === 'reply' && (e.commandId === start || e.commandId === halt) ? [e.commandId] : []));
    expect([...new Set(replies)]).toEqual([halt, start]);
  });
});
