import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paperCredentials, paperSecretOf } from '../../src/engine/accounts.js';
import { credentialsOf, parseArgs } from '../../src/paper-exchange/main.js';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { sign } from '../../src/paper-exchange/signing.js';

// Paper accounts have credentials and the paper exchange checks them (issue 16 item 6): -2015, -1022, -1021.
let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 50, seed: 4, credentials: paperSecretOf });
});
afterAll(async () => {
  await sim.close();
});

async function balance(apiKey: string, secret: string, timestamp = Date.now()): Promise<{ status: number; code?: number }> {
  const query = `timestamp=${timestamp}`;
  const res = await fetch(`${sim.restBaseUrl}/fapi/v3/balance?${query}&signature=${sign(query, secret)}`, { headers: { 'X-MBX-APIKEY': apiKey } });
  const body = (await res.json()) as { code?: number };
  return { status: res.status, ...(Array.isArray(body) ? {} : { code: body.code }) };
}

describe('paper credentials', () => {
  it('accepts the engine paper accounts and refuses other keys, wrong secrets and stale timestamps', async () => {
    const { apiKey, apiSecret } = paperCredentials('u1');
    expect(await balance(apiKey, apiSecret)).toEqual({ status: 200 });
    expect(await balance('not-a-paper-key', apiSecret)).toEqual({ status: 401, code: -2015 });
    expect(await balance('paper-', 'paper-secret-')).toEqual({ status: 401, code: -2015 });
    expect(await balance(apiKey, 'wrong')).toEqual({ status: 400, code: -1022 });
    expect(await balance(apiKey, apiSecret, Date.now() - 10_000)).toEqual({ status: 400, code: -1021 });
  });

  it('the standalone simulator generates a key pair unless one is configured', () => {
    const generated = parseArgs(['--port', '0']).auth;
    expect(generated).toMatchObject({ kind: 'pair', generated: true });
    if (generated.kind !== 'pair') throw new Error('unreachable');
    expect(generated.apiKey).toMatch(/^[0-9a-f]{64}$/);
    expect(generated.apiSecret).not.toBe(generated.apiKey);
    expect(parseArgs(['--port', '0']).auth).not.toEqual(generated);
    const configured = parseArgs([], { QE_SIM_API_KEY: 'k', QE_SIM_API_SECRET: 's' }).auth;
    expect(configured).toEqual({ kind: 'pair', apiKey: 'k', apiSecret: 's', generated: false });
    expect(credentialsOf(configured)).toEqual({ k: 's' });
    expect(parseArgs(['--api-key', 'a', '--api-secret', 'b']).auth).toMatchObject({ apiKey: 'a', apiSecret: 'b' });
    expect(() => parseArgs(['--api-key', 'a'])).toThrow(/go together/);
    expect(credentialsOf(parseArgs(['--paper-accounts']).auth)).toBe(paperSecretOf);
    expect(credentialsOf(parseArgs(['--no-auth']).auth)).toBeUndefined();
  });
});
