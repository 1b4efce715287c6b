import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paperCredentials } from '../../src/engine/accounts.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { apiClient } from '../paper-exchange/helpers.js';
import type { Harness } from '../support/harness.js';
import { startHarness } from '../support/harness.js';
import { allOutbound } from '../support/outbound.js';
import { waitFor } from '../support/wait.js';

// The account preflight at every boot (issue 10 item 5), through the execution service against the paper
// exchange over HTTP: while the engine is down, one user switches the account to hedge mode and another raises
// the leverage by hand. On restart the first session is paused with an alert that names the setting to change,
// and the second gets its session's leverage back, silently. Before, the restart read positions and orders only:
// the hedge-mode session went on placing orders the exchange refuses (-4061), and the 20x stayed.

const symbolConfigOf = async (sim: SimulatorHandle, userId: string): Promise<{ symbol: string; leverage: number }[]> =>
  (await apiClient(sim.restBaseUrl, paperCredentials(userId).apiKey).signed('GET', '/fapi/v1/symbolConfig')).body as { symbol: string; leverage: number }[];

describe('the account preflight at boot', () => {
  let sim: SimulatorHandle;
  let dir: string;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 23, priceStepMs: 50 });
    dir = mkdtempSync(join(tmpdir(), 'qe-recheck-'));
  });
  afterAll(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = (): Promise<Harness> => startHarness({ label: 'recheck', sim, sqlitePath: join(dir, 'log.db'), paperPreflight: true });

  it('pauses a session whose account went to hedge mode, and sets a changed leverage back', async () => {
    const before = await start();
    for (const userId of ['hedged-later', 'relevered']) {
      await before.reply(await before.send({ id: `${userId}-start`, userId, type: 'session.start', mode: 'paper', capitalUsd: 1_000, leverage: 3 }), 'done');
    }
    await before.close();

    // While the engine is down: hedge mode on one account, 20x on the other's symbols.
    const hedged = apiClient(sim.restBaseUrl, paperCredentials('hedged-later').apiKey);
    expect((await hedged.signed('POST', '/fapi/v1/positionSide/dual', { dualSidePosition: 'true' })).status).toBe(200);
    const relevered = apiClient(sim.restBaseUrl, paperCredentials('relevered').apiKey);
    for (const symbol of before.config.symbols) expect((await relevered.signed('POST', '/fapi/v1/leverage', { symbol, leverage: '20' })).status).toBe(200);

    const after = await start();
    try {
      const alert = await waitFor('the account alert', async () =>
        (await allOutbound(after.log)).find((e) => e.type === 'alert' && e.kind === 'account' && e.userId === 'hedged-later'),
      );
      expect(alert.type === 'alert' ? alert.message : '').toContain('hedge mode');
      expect(alert.type === 'alert' ? alert.message : '').toContain('/resume');
      expect(after.service.engine.current.durable.sessions.get('hedged-later')?.paused).toBe(true);

      await waitFor('the leverage set back', async () => ((await symbolConfigOf(sim, 'relevered')).every((c) => c.leverage === 3) ? true : undefined));
      expect(after.service.engine.current.durable.sessions.get('relevered')?.paused).toBe(false);
      expect((await allOutbound(after.log)).some((e) => e.type === 'alert' && e.kind === 'account' && e.userId === 'relevered')).toBe(false);
    } finally {
      await after.close();
    }
  });
});
