// The doctor's decisions from read results (src/core/doctor-checks.ts): verdicts, what to fix, the exit code.
import { describe, expect, it } from 'vitest';
import type { DoctorLimits, DoctorReads } from '../../src/core/doctor-checks.js';
import { decideChecks, exitCodeOf, formatLine } from '../../src/core/doctor-checks.js';
import { doctorTestLimits } from '../support/doctor-limits.js';

const limits: DoctorLimits = doctorTestLimits(['BTCUSDT']);

const noFundMoves = { enableWithdrawals: false, enableInternalTransfer: false, permitsUniversalTransfer: false };

const healthy: DoctorReads = {
  clock: { ok: true, value: { offsetMs: 12, roundTripMs: 30 } },
  // Trading on, every way to move funds off.
  keyRestrictions: { ok: true, value: { ...noFundMoves, ipRestrict: true, enableReading: true, enableFutures: true } },
  positionMode: { ok: true, value: { dualSidePosition: false } },
  multiAssets: { ok: true, value: { multiAssetsMargin: false } },
  feeBurn: { ok: true, value: { feeBurn: false } },
  tradingRules: { ok: true, value: { symbols: 1 } },
  symbolSettings: { ok: true, value: [{ symbol: 'BTCUSDT', marginType: 'CROSSED', leverage: 5 }] },
  availableUsdt: { ok: true, value: '1000.5' },
  publicStream: { ok: true, value: { firstMessageMs: 80 } },
  privateStream: { ok: true, value: { openedMs: 20 } },
  usedWeight1m: 80,
  rateLimited: false,
};

const verdictOf = (reads: Partial<DoctorReads>, over: Partial<DoctorLimits> = {}, check = ''): string | undefined =>
  decideChecks({ ...healthy, ...reads }, { ...limits, ...over }).find((l) => l.check === check)?.verdict;

describe('doctor checks', () => {
  it('a healthy account is all ok, exit 0', () => {
    const lines = decideChecks(healthy, limits);
    expect(lines.map((l) => l.verdict)).toEqual(lines.map(() => 'ok'));
    expect(exitCodeOf(lines)).toBe(0);
    expect(formatLine(lines[0]!)).toMatch(/^ok +clock offset +this host is 12 ms behind/);
  });

  it('clock: ok within 1 s, warn up to recvWindow, fail beyond', () => {
    const at = (offsetMs: number) => verdictOf({ clock: { ok: true, value: { offsetMs, roundTripMs: 5 } } }, {}, 'clock offset');
    expect([at(-900), at(1_500), at(-4_999), at(5_001), at(-60_000)]).toEqual(['ok', 'warn', 'warn', 'fail', 'fail']);
  });

  it('balance: zero fails; with a capital, below capital × maxLeverage / leverage fails', () => {
    expect(verdictOf({ availableUsdt: { ok: true, value: '0' } }, {}, 'balance')).toBe('fail');
    expect(verdictOf({ availableUsdt: { ok: true, value: '199.99' } }, { capitalUsd: 1_000 }, 'balance')).toBe('fail');
    expect(verdictOf({ availableUsdt: { ok: true, value: '200' } }, { capitalUsd: 1_000 }, 'balance')).toBe('ok');
  });

  it('BNB fee discount: off is ok, on fails with the switch to turn it off (fees in BNB are not booked)', () => {
    const check = 'BNB fee discount';
    expect(verdictOf({}, {}, check)).toBe('ok');
    const on = decideChecks({ ...healthy, feeBurn: { ok: true, value: { feeBurn: true } } }, limits).find((l) => l.check === check);
    expect(on).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('POST /fapi/v1/feeBurn feeBurn=false') });
    expect(verdictOf({ feeBurn: { ok: false, error: 'HTTP 500' } }, {}, check)).toBe('fail');
  });

  it("trading rules: fails with the engine's reason when it could not use them (a USDC-margined symbol, one not listed)", () => {
    const check = 'trading rules';
    expect(verdictOf({}, {}, check)).toBe('ok');
    const usdc = 'BTCUSDC is margined in USDC; the engine books USDT only: trade a USDT-margined symbol instead';
    const lines = decideChecks({ ...healthy, tradingRules: { ok: false, error: usdc } }, limits);
    expect(lines.find((l) => l.check === check)).toMatchObject({ verdict: 'fail', detail: expect.stringContaining(usdc) });
    expect(exitCodeOf(lines)).toBe(1);
  });

  it('rate-limit headroom: warn inside the flatten reserve or without the header, fail after a 429/418', () => {
    const check = 'rate-limit headroom';
    expect(verdictOf({ usedWeight1m: 1_999 }, {}, check)).toBe('ok');
    expect(verdictOf({ usedWeight1m: 2_000 }, {}, check)).toBe('warn');
    expect(verdictOf({ usedWeight1m: null }, {}, check)).toBe('warn');
    expect(verdictOf({ rateLimited: true }, {}, check)).toBe('fail');
  });

  it('a read that failed is a fail line naming the endpoint; a symbol the exchange does not configure fails', () => {
    const lines = decideChecks(
      {
        ...healthy,
        keyRestrictions: { ok: false, error: 'HTTP 401 -2015 Invalid API-key, IP, or permissions for action.' },
        symbolSettings: { ok: true, value: [] },
      },
      limits,
    );
    expect(lines.find((l) => l.check === 'api key')).toMatchObject({
      verdict: 'fail',
      detail: expect.stringContaining('apiRestrictions failed (HTTP 401 -2015'),
    });
    expect(lines.find((l) => l.check === 'BTCUSDT settings')?.verdict).toBe('fail');
    expect(exitCodeOf(lines)).toBe(1);
    expect(exitCodeOf(decideChecks({ ...healthy, usedWeight1m: null }, limits))).toBe(0); // a warn alone passes
  });
});
