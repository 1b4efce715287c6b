// Which accounts a book change could have brought to liquidation, without visiting every holder of the symbol.
//
// At 10 000 paper accounts, checking the maintenance margin of every holder (~3 300 a symbol) at every book change was
// the simulator's biggest cost (bench:sweep) and blocked its event loop for milliseconds a quote. Instead, each
// account gets, at its last change, a price band per symbol it holds, within which its margin balance provably stays
// above its maintenance margin whatever the other marks do inside their own bands:
//
//   cushion C = wallet + Σ unrealized − Σ maintenance, at the marks of the moment (as MarginBook.aboveMaintenance);
//   a long of |q| at mark m loses |q|·δ when the mark falls by δ, and its maintenance margin falls with it
//   (maintenance is non-decreasing in notional); when the mark rises it gains |q|·δ and its maintenance grows by at
//   most rmax·|q|·δ, rmax < 1 the highest bracket rate: never a loss. A short loses at most (1 + rmax)·|q|·δ when the
//   mark rises by δ and never when it falls. (Maintenance margin = notional × rate − cum is continuous across
//   brackets, brackets.ts; the table's float jumps at the bracket edges are added to the slack below.)
//   So the cushion less a float-rounding slack is shared out in proportion to notional, and each position gets the
//   one-sided edge where its adverse move would use up its share: a long's floor m·(1 − share), a short's ceiling
//   m·(1 + share / (1 + rmax)), share = usable cushion / total notional. An account at or under the slack gets edges
//   every mark is past (+∞ floor, −∞ ceiling): it is checked at each book change of any symbol it holds, as before.
//
// Per symbol the floors sit in a max-heap and the ceilings in a min-heap: a book change takes out only the accounts
// whose edge the new mark passed. The caller checks those exactly (aboveMaintenance, unchanged): the bands only pick
// who is looked at, never who is liquidated, so the liquidations are the full pass's, in its (account) order.
//
// An account is re-banded at the next check after anything that moves its cushion other than the marks: a fill
// (position, entry, wallet: PnL and fee), a funding payment, a restore of its positions (MatchingEngine tells of
// each, AccountWatcher), or its own check. Leverage, margin type and position mode do not enter the maintenance
// check, so they need none. A mark that moves without a check of its symbol (a restore resuming the price process)
// is caught too: every check first takes out, on every symbol, the accounts whose edge their mark passed.
import { unitsToNumber } from '../model/decimal.js';
import type { LeverageBracket } from './brackets.js';
import { maintenanceMargin } from './brackets.js';
import type { AccountWatcher, SimAccount } from './matching.js';
import { PlacedHeap } from './placed-heap.js';
import type { SymbolMarket } from './price-process.js';

/**
 * Float rounding allowance, per USDT of the magnitudes that make up the cushion (wallet, |q|·(mark + entry) and
 * maintenance, each ≤ |q|·mark): the cushion as aboveMaintenance sums it in floats is within n·2⁻⁵³ of those
 * magnitudes of the exact value (n terms, n ≪ 10⁵), and a mark inside its band makes them at most a few times larger;
 * 1e-9 is orders of magnitude beyond both. It costs a band 1e-9 of its account's notional.
 */
const roundingSlackPerUsdOfMagnitude = 1e-9;

interface SymbolHeaps {
  /** Longs by the mark under which they must be checked: the highest on top. */
  floors: PlacedHeap<SimAccount>;
  /** Shorts by the mark over which they must be checked: the lowest on top. */
  ceilings: PlacedHeap<SimAccount>;
}

export class BreachBands implements AccountWatcher {
  private readonly bySymbol = new Map<string, SymbolHeaps>();
  /** Accounts changed (or checked) since their bands were set: re-banded at the marks of the next check. */
  private readonly stale = new Set<SimAccount>();
  /** 1 + the highest maintenance rate: what a short's rise costs per unit of notional at most. */
  private readonly shortLossPerUnit: number;
  /** The table's float jumps at bracket edges, summed: what a position crossing edges can add to maintenance beyond the slope. */
  private readonly bracketJumpSlack: number;

  constructor(
    private readonly markets: ReadonlyMap<string, SymbolMarket>,
    private readonly brackets: readonly LeverageBracket[],
    private readonly rankOf: (account: SimAccount) => number,
  ) {
    for (const symbol of markets.keys()) this.bySymbol.set(symbol, { floors: new PlacedHeap(true), ceilings: new PlacedHeap(false) });
    let highestRate = 0;
    for (const b of brackets) {
      // A negative rate would make maintenance fall as notional grows; a rate of 1 or more would make a long's rise a loss.
      if (!(b.maintMarginRatio >= 0 && b.maintMarginRatio < 1)) throw new Error(`bracket ${b.bracket}: maintenance rate ${b.maintMarginRatio} outside [0, 1)`);
      highestRate = Math.max(highestRate, b.maintMarginRatio);
    }
    this.shortLossPerUnit = 1 + highestRate;
    let jumps = 0;
    for (let i = 0; i + 1 < brackets.length; i++) {
      const [b, next] = [brackets[i] as LeverageBracket, brackets[i + 1] as LeverageBracket];
      jumps += Math.abs(b.notionalCap * b.maintMarginRatio - b.cum - (b.notionalCap * next.maintMarginRatio - next.cum));
    }
    if (!Number.isFinite(jumps)) throw new Error('brackets: maintenance margin jumps without bound at a bracket edge');
    this.bracketJumpSlack = jumps;
  }

  changed(account: SimAccount): void {
    this.stale.add(account);
  }

  dropped(account: SimAccount): void {
    this.stale.delete(account);
    this.unband(account);
  }

  /**
   * The accounts holding `symbol` whose margin may no longer cover maintenance at the current marks, in account
   * (creation) order: a superset of those that do not, to be checked exactly. Each returned account is re-banded at
   * the next call, after its check (and liquidation, if any).
   */
  mayBeBreached(symbol: string): SimAccount[] {
    const heaps = this.bySymbol.get(symbol);
    if (!heaps) return [];
    // Normally only this symbol's mark moved since the last call; any other's that did is handled alike.
    for (const [other, market] of this.markets) this.takePassed(this.bySymbol.get(other) as SymbolHeaps, market.midPrice, undefined);
    for (const account of this.stale) this.band(account);
    this.stale.clear();
    // Every band was just set at the current marks: what is left past them is an account at or under the slack.
    const out: SimAccount[] = [];
    this.takePassed(heaps, (this.markets.get(symbol) as SymbolMarket).midPrice, out);
    out.sort((a, b) => this.rankOf(a) - this.rankOf(b));
    return out;
  }

  /** Takes out the accounts whose edge `mark` passed (a long's floor above it, a short's ceiling below it), as stale. */
  private takePassed(heaps: SymbolHeaps, mark: number, into: SimAccount[] | undefined): void {
    for (let key = heaps.floors.topKey(); key !== undefined && mark < key; key = heaps.floors.topKey()) this.taken(heaps.floors.pop() as SimAccount, into);
    for (let key = heaps.ceilings.topKey(); key !== undefined && mark > key; key = heaps.ceilings.topKey())
      this.taken(heaps.ceilings.pop() as SimAccount, into);
  }

  private taken(account: SimAccount, into: SimAccount[] | undefined): void {
    this.stale.add(account);
    into?.push(account);
  }

  /** Sets the account's edges on every symbol it holds at the current marks (and takes it off the others). */
  private band(account: SimAccount): void {
    // Summed as aboveMaintenance sums (markets in order, then wallet + unrealized − maintenance).
    let unrealized = 0;
    let maintMargin = 0;
    let notional = 0;
    let magnitude = Math.abs(account.walletBalance);
    let held = 0;
    for (const [symbol, market] of this.markets) {
      const pos = account.positions.get(symbol);
      if (!pos || pos.qtyUnits === 0n) {
        const heaps = this.bySymbol.get(symbol) as SymbolHeaps;
        heaps.floors.delete(account);
        heaps.ceilings.delete(account);
        continue;
      }
      const mark = market.midPrice;
      const qty = unitsToNumber(pos.qtyUnits, market.rules.qtyScale);
      unrealized += (mark - pos.entryPrice) * qty;
      const abs = Math.abs(qty * mark);
      maintMargin += maintenanceMargin(abs, this.brackets);
      notional += abs;
      // |unrealized| ≤ |q|·(mark + |entry|); maintenance and its cum each ≤ the notional |q|·mark.
      magnitude += Math.abs(qty) * (3 * mark + Math.abs(pos.entryPrice));
      held += 1;
    }
    if (held === 0) return;
    const slack = roundingSlackPerUsdOfMagnitude * magnitude + held * this.bracketJumpSlack;
    const usable = account.walletBalance + unrealized - maintMargin - slack;
    // Not `usable <= 0`: a NaN cushion is checked at every book change too (aboveMaintenance finds it breached).
    const safe = usable > 0;
    const share = usable / notional;
    for (const [symbol, market] of this.markets) {
      const qtyUnits = account.positions.get(symbol)?.qtyUnits ?? 0n;
      if (qtyUnits === 0n) continue;
      const heaps = this.bySymbol.get(symbol) as SymbolHeaps;
      const mark = market.midPrice;
      if (qtyUnits > 0n) {
        heaps.ceilings.delete(account);
        heaps.floors.set(account, safe ? mark * (1 - share) : Number.POSITIVE_INFINITY);
      } else {
        heaps.floors.delete(account);
        heaps.ceilings.set(account, safe ? mark * (1 + share / this.shortLossPerUnit) : Number.NEGATIVE_INFINITY);
      }
    }
  }

  private unband(account: SimAccount): void {
    for (const heaps of this.bySymbol.values()) {
      heaps.floors.delete(account);
      heaps.ceilings.delete(account);
    }
  }
}
