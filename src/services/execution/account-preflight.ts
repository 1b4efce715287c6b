import type { CoreConfig } from '../../core/config.js';
import type { Input } from '../../core/decide.js';
import type { PreflightResult } from '../../core/preflight.js';
import { planPreflight, recheckHeldAccount } from '../../core/preflight.js';
import type { Session } from '../../core/state.js';
import type { AccountRecheck } from '../../engine/boot.js';
import type { EngineState, Mode } from '../../core/state.js';
import { holdsPosition, isLiveApproved, wasProcessed } from '../../core/state.js';
import type { Command } from '../../contract/commands.js';
import { parseDelivery } from '../../contract/commands.js';
import type { ExchangeAccount } from '../../exchange/port.js';
import type { RateBudget } from '../../exchange/rate-budget.js';
import type { CommandDelivery } from '../../model/command-delivery.js';
import type { Logger } from '../../util/logger.js';

// The account preflight's I/O (its decisions are src/core/preflight.ts): before a session.start reaches the
// engine, read the account (position mode, multi-assets mode, BNB fee discount, available balance, brackets), plan, then set
// margin type (cross) and leverage on every traded symbol. The verdict rides on the command input, so the
// start is decided, logged and answered like any other command.

/**
 * The request weight of the preflight's reads: position mode 30, multi-assets mode 30, BNB fee discount 30, balance 5,
 * leverage brackets 1, positionRisk 5 (the margin helper's figures from Binance's endpoint pages; see account.ts
 * readMarginState).
 */
const preflightReadWeight = 101;

/**
 * POST /fapi/v1/marginType and POST /fapi/v1/leverage weigh 1 each
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Change-Initial-Leverage).
 */
const settingWeightPerSymbol = 2;

export interface AccountPreflightDeps {
  config: CoreConfig;
  /** The account a user's session of this mode trades on (null: none, e.g. no stored live keys). */
  accountFor(userId: string, mode: Mode): ExchangeAccount | null;
  /** The request-weight budget of the venue a session of this mode trades on (one per venue and IP). */
  budgetFor(mode: Mode): Pick<RateBudget, 'admit'>;
  nowMs(): number;
  logger: Logger;
  /**
   * Paper sessions too (default: live only). A preflight costs ~70 request weight (position and multi-assets
   * mode are 30 each) from its venue's budget, so a paper engine opts in.
   */
  paper: boolean;
  /** The whole preflight (reads and settings) must finish within this (ms), else the start is refused. */
  timeoutMs: number;
}

export const defaultPreflightTimeoutMs = 15_000;

/**
 * The account checks run ahead of the command loop (the command gate's `accountChecks`): a start's preflight or a
 * resume's recheck reads the exchange (hundreds of ms live, up to `timeoutMs`), and run inside the loop it held every
 * command read after it, another user's /stop included. Each verdict waits here, by entry id, for its command's turn.
 */
export class AccountChecks {
  private readonly verdicts = new Map<string, Promise<PreflightResult | undefined>>();

  constructor(
    private readonly state: () => EngineState,
    private readonly deps: AccountPreflightDeps,
  ) {}

  /** Whether the command (the delivery's, parsed) needs an account check: reads the state, not the exchange. */
  needed(command: Command): boolean {
    return checkOfCommand(command, this.state(), this.deps) !== null;
  }

  /** Runs the command's check now; its command, decided later, takes the verdict (withPreflight). */
  run(delivery: CommandDelivery): Promise<void> {
    const verdict = preflightFor(delivery, this.state(), this.deps);
    this.verdicts.set(delivery.entryId, verdict);
    return verdict.then(() => undefined);
  }

  /** The verdict a check ran ahead for this command, once (undefined: none ran). */
  take(entryId: string): Promise<PreflightResult | undefined> | undefined {
    const verdict = this.verdicts.get(entryId);
    this.verdicts.delete(entryId);
    return verdict;
  }
}

/**
 * Command inputs for a batch of deliveries, each session.start (and resume of a paused session) with its account
 * check's verdict when one applies: the one run ahead (`checks`), else run now.
 */
export async function withPreflight(
  deliveries: readonly CommandDelivery[],
  state: EngineState,
  deps: AccountPreflightDeps,
  checks?: Pick<AccountChecks, 'take'>,
): Promise<Input[]> {
  const inputs: Input[] = [];
  for (const delivery of deliveries) {
    const preflight = await (checks?.take(delivery.entryId) ?? preflightFor(delivery, state, deps));
    inputs.push(preflight ? { kind: 'command', delivery, preflight } : { kind: 'command', delivery });
  }
  return inputs;
}

type Check = { kind: 'start'; cmd: Extract<Command, { type: 'session.start' }> } | { kind: 'resume'; session: Session };

/** The account check a delivery's command needs on this state, if any: no exchange read. */
function checkOf(delivery: CommandDelivery, state: EngineState, deps: AccountPreflightDeps): Check | null {
  const parsed = parseDelivery(delivery, deps.config.maxCommandBytes);
  return parsed.ok ? checkOfCommand(parsed.command, state, deps) : null;
}

function checkOfCommand(cmd: Command, state: EngineState, deps: AccountPreflightDeps): Check | null {
  const durable = state.durable;
  if (wasProcessed(durable, cmd.id)) return null;
  if (cmd.type === 'session.resume') {
    const session = durable.sessions.get(cmd.userId);
    if (!session || session.status === 'closed' || !session.paused) return null;
    if (session.mode === 'paper' && !deps.paper) return null;
    return { kind: 'resume', session };
  }
  if (cmd.type !== 'session.start') return null;
  // Only a start the engine could accept is worth exchange calls: not a duplicate, no running session, and a
  // live one only for an approved user on an engine that trades live (the engine re-checks all of it).
  const existing = durable.sessions.get(cmd.userId);
  if (existing && existing.status !== 'closed') return null;
  if (cmd.mode === 'paper' && !deps.paper) return null;
  if (cmd.mode === 'live' && !(deps.config.liveTradingEnabled && isLiveApproved(durable, deps.config.liveApprovedUserIds, cmd.userId))) return null;
  return { kind: 'start', cmd };
}

async function preflightFor(delivery: CommandDelivery, state: EngineState, deps: AccountPreflightDeps): Promise<PreflightResult | undefined> {
  const check = checkOf(delivery, state, deps);
  if (check === null) return undefined;
  if (check.kind === 'resume') return resumeCheckFor(check.session, deps);
  const cmd = check.cmd;
  const account = deps.accountFor(cmd.userId, cmd.mode);
  if (!account) return { ok: false, reason: 'no exchange account for this user (store API keys with /connect)' };
  if (!account.readMarginState || !account.setLeverage || !account.setMarginType) {
    return cmd.mode === 'live' ? { ok: false, reason: 'this exchange account cannot be checked (no margin endpoints)' } : undefined;
  }
  return withinTimeout(run(account, cmd, deps), deps.timeoutMs, (reason) => ({ ok: false, reason }));
}

/** `work`'s outcome, or `late(why)` when it takes longer than `timeoutMs` (its timer cleared either way). */
async function withinTimeout<T>(work: Promise<T>, timeoutMs: number, late: (reason: string) => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(late(`the exchange did not answer the account checks within ${timeoutMs} ms; try again`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A /resume of a paused session is checked against the account again, as a restart's recheck checks it (the
 * account problem that paused it — a BNB commission, a setting changed by hand, a restart's recheck — may still be
 * there), and the session's cross margin and leverage are set again: a leverage raised by hand is put back. Only for
 * the sessions the preflight covers (live; paper when the engine runs it); a resume of a session not paused reads
 * nothing.
 */
async function resumeCheckFor(session: Session, deps: AccountPreflightDeps): Promise<PreflightResult | undefined> {
  const account = deps.accountFor(session.userId, session.mode);
  const recheck = account ? recheckAtBoot(deps)(session, account) : null;
  if (!recheck) return session.mode === 'live' ? { ok: false, reason: 'the exchange account could not be checked; try again' } : undefined;
  const admission = await deps.budgetFor(session.mode).admit('normal', deps.nowMs(), { weight: recheck.weight, orders: 0 });
  if (!admission.ok) return { ok: false, reason: `the request-weight budget is spent (${admission.reason}); try again in a minute` };
  try {
    const problems = await withinTimeout(recheck.run(), deps.timeoutMs, (reason) => [reason]);
    return problems.length === 0 ? { ok: true, leverage: session.leverage ?? deps.config.defaultSessionLeverage } : { ok: false, reason: problems.join('; ') };
  } catch (error) {
    deps.logger.warn({ err: error, userId: session.userId }, 'account recheck for a resume could not read the account');
    return { ok: false, reason: `could not read the exchange account (${error instanceof Error ? error.message : String(error)}); try again` };
  }
}

async function run(
  account: ExchangeAccount,
  cmd: { userId: string; mode: Mode; capitalUsd: number; stopLossPct?: number | undefined; leverage?: number | undefined },
  deps: AccountPreflightDeps,
): Promise<PreflightResult> {
  const admission = await deps.budgetFor(cmd.mode).admit('normal', deps.nowMs(), { weight: preflightReadWeight, orders: 0 });
  if (!admission.ok) return { ok: false, reason: `the request-weight budget is spent (${admission.reason}); try again in a minute` };
  const symbols = deps.config.symbols;
  let state;
  try {
    state = await account.readMarginState?.(symbols);
  } catch (error) {
    deps.logger.warn({ err: error, userId: cmd.userId }, 'account preflight could not read the account');
    return { ok: false, reason: `could not read the exchange account (${error instanceof Error ? error.message : String(error)}); try again` };
  }
  if (!state) return { ok: false, reason: 'could not read the exchange account' };
  const plan = planPreflight({ capitalUsd: cmd.capitalUsd, stopLossPct: cmd.stopLossPct ?? null, leverage: cmd.leverage ?? null }, state, symbols, deps.config);
  if (!plan.ok) return plan;
  const settingProblem = await applySettings(account, symbols, plan.leverage);
  if (settingProblem !== null) return { ok: false, reason: settingProblem };
  deps.logger.info({ userId: cmd.userId, leverage: plan.leverage, marginNeedUsd: plan.marginNeedUsd }, 'account preflight passed');
  return { ok: true, leverage: plan.leverage };
}

/** Cross margin and the session's leverage on every traded symbol; the first refusal, or null when all took. */
async function applySettings(account: ExchangeAccount, symbols: readonly string[], leverage: number): Promise<string | null> {
  for (const symbol of symbols) {
    const marginType = await account.setMarginType?.(symbol, 'CROSSED');
    if (marginType?.kind !== 'ok') return `could not set cross margin on ${symbol} (${describe(marginType)})`;
    const set = await account.setLeverage?.(symbol, leverage);
    if (set?.kind !== 'ok') return `could not set ${leverage}x leverage on ${symbol} (${describe(set)})`;
  }
  return null;
}

/**
 * The account preflight again for a session that was running when the engine stopped (the boot's
 * recheckAccount): the account is read and checked (recheckHeldAccount), then cross margin and the session's
 * leverage are set again, as its start set them. The same sessions as at the start: live ones, paper ones when
 * the engine runs the paper preflight.
 */
export function recheckAtBoot(deps: Pick<AccountPreflightDeps, 'config' | 'paper'>): (session: Session, account: ExchangeAccount) => AccountRecheck | null {
  return (session, account) => {
    if (session.mode === 'paper' && !deps.paper) return null;
    const read = account.readMarginState?.bind(account);
    if (!read || !account.setLeverage || !account.setMarginType) return null;
    const symbols = deps.config.symbols;
    const leverage = session.leverage;
    return {
      weight: preflightReadWeight + symbols.length * settingWeightPerSymbol,
      run: async () => {
        const terms = {
          capitalUsd: Number(session.capitalUsd),
          stopLossPct: session.stopLossPct,
          leverage,
          holdsPosition: holdsPosition(session),
        };
        const problems = recheckHeldAccount(terms, await read(symbols), symbols, deps.config);
        if (problems.length > 0 || leverage === null) return problems;
        const settingProblem = await applySettings(account, symbols, leverage);
        return settingProblem === null ? [] : [settingProblem];
      },
    };
  };
}

function describe(outcome: { kind: 'rejected'; code: number; message: string } | { kind: 'unknown'; reason: string } | { kind: 'ok' } | undefined): string {
  if (!outcome) return 'not supported';
  if (outcome.kind === 'rejected') return `${outcome.code} ${outcome.message}`;
  if (outcome.kind === 'unknown') return `no answer: ${outcome.reason}`;
  return 'ok';
}
