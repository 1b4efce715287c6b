import { partitionPoint } from '../model/partition.js';
import { terminalOrderStatuses } from '../model/orders.js';
import { isZero } from '../model/decimal.js';
import { shardOfKey } from './shared-dict.js';
import type { WalEvent } from './events.js';
import { stopLossBoundOf } from './mtm.js';
import type { DurableState, Order, OrderPurpose, Session } from './state.js';
import type { TickWatchEntry } from './tick-watch.js';
import { TickWatch, tickWatchKey } from './tick-watch.js';

// Derived indexes over the durable state, so an input costs what it touches and not the number of sessions:
// who holds a symbol (ticks), who must be flattened (enforcement), each user's open orders and each
// user+symbol's orders (rejection streaks, reconcile, exposure). Never persisted: built from the state on first
// use (after a restart, after replay) and then kept up to date by the fold, event by event (advanceIndex).
// An index belongs to one state object. The fold moves it to the state it makes, so a state that was reused
// after a newer one was folded from it (a decision that threw) finds none and builds its own: always exact.
// Sets hold ids in no particular order; `inSessionOrder` / `inOrderOrder` give the order in which the state's
// own records enumerate them, so decisions come out exactly as a scan over the records would make them.

interface OrderEntry {
  userId: string;
  symbol: string;
  purpose: OrderPurpose;
  open: boolean;
}

/**
 * The order of a user+symbol+purpose with the greatest plan sequence, as far as the orders indexed since the last look
 * tell: `id` null while there is none. `walk`: no one order is the newest by sequence (a tie at the top, an id without
 * a sequence) — the caller ranks every order as it would without the index. `known` false: the newest (or a tie or an
 * id without a sequence) was dropped since, so it is looked for again among the pair's orders on the next ask.
 */
interface NewestOrder {
  id: string | null;
  seq: number;
  walk: boolean;
  known: boolean;
}

/**
 * A user+symbol's order indexings, oldest `updatedAtMs` first: each time one of its orders is indexed, its id with the
 * updatedAtMs it then had. Only order.planned and order.status set updatedAtMs, and both reindex the order, so every
 * order updated at or after a time has an entry at or after it. Entries of orders since updated again or dropped stay
 * until the list is rebuilt from the pair's orders (once it holds more than twice their number, plus a margin).
 */
interface PairUpdates {
  ids: string[];
  times: number[];
}

/** Entries a pair's update list may hold beyond twice its orders before it is rebuilt. */
const updatesSlack = 64;

/** The first index of `times` (ascending) at or after `atMs`. */
function firstAtOrAfter(times: readonly number[], atMs: number): number {
  return partitionPoint(times.length, (i) => (times[i] as number) < atMs);
}

/** Client order ids end in the engine's sequence number: the order in which orders were planned (NaN: none). */
export function planSeq(clientOrderId: string): number {
  const dash = clientOrderId.lastIndexOf('-');
  return Number(clientOrderId.slice(dash + 1));
}

/** Where keys enumerate in a SharedDict: shard by shard (shardOfKey), each shard in insertion order. */
class KeyOrder {
  private readonly seq = new Map<string, number>();
  private next = 0;

  /** Ranks `key` by where it enumerates: its shard, then its insertion within it (hashed once here, not per sort). */
  note(key: string): void {
    if (!this.seq.has(key)) this.seq.set(key, shardOfKey(key) * insertionsPerShardRank + (this.next += 1));
  }

  forget(key: string): void {
    this.seq.delete(key);
  }

  sort(keys: Iterable<string>): string[] {
    const list = [...keys];
    // None or one (a single session's open orders, a beat's one due user): in order already, nothing to rank.
    if (list.length < 2) return list;
    // One rank per key, looked up, not computed per comparison.
    const ranked = list.map((key): readonly [string, number] => [key, this.seq.get(key) ?? shardOfKey(key) * insertionsPerShardRank]);
    ranked.sort((a, b) => a[1] - b[1]);
    return ranked.map(([key]) => key);
  }
}

/** Rank distance between shards: above any insertion count a state reaches (2^32), and 256 × 2^32 is exact in a double. */
const insertionsPerShardRank = 2 ** 32;

export class StateIndex {
  readonly sessionOrder = new KeyOrder();
  readonly orderOrder = new KeyOrder();
  readonly orders = new Map<string, OrderEntry>();
  /** Non-terminal orders, all and per user. */
  readonly openOrders = new Set<string>();
  readonly openOrdersByUser = new Map<string, Set<string>>();
  /** Every order in the state (terminal ones too, as long as they are retained), per user+symbol. */
  readonly ordersByUserSymbol = new Map<string, Set<string>>();
  /**
   * Per user+symbol, the latest `updatedAtMs` any of its orders had when indexed: at or above that of every order
   * of the pair in the state (only order.planned and order.status set it, and both reindex the order). Orders
   * dropped later leave it high, never low: it only tells when no order of the pair can have changed since a time.
   */
  readonly latestUpdateByUserSymbol = new Map<string, number>();
  /**
   * Per user+symbol+purpose, its newest order by plan sequence (rejections.ts asks on every routed signal and flatten
   * check whether it was refused): kept as orders are indexed, instead of a walk over every retained order of the pair
   * (up to maxTerminalOrdersKept) on each ask, which was a tenth of a kline backtest's CPU (bench/backtest.ts).
   */
  readonly newestByPurpose = new Map<string, NewestOrder>();
  /** Per user+symbol, its orders' indexings by updatedAtMs (PairUpdates): the orders updated since a time, in a look. */
  readonly updatesByUserSymbol = new Map<string, PairUpdates>();
  /** Per non-closed session, the symbols it holds: a position that is not zero, or an open order. */
  readonly heldByUser = new Map<string, ReadonlySet<string>>();
  readonly holdersBySymbol = new Map<string, Set<string>>();
  /** Non-closed sessions holding anything or stopping: what enforcement may act on while trading is halted. */
  readonly busy = new Set<string>();
  /** Busy sessions whose kill switch is engaged or that are stopping: what enforcement acts on otherwise. */
  readonly flattening = new Set<string>();
  /** Which holders a tick must look at (tick-watch.ts). */
  readonly tickWatch = new TickWatch();
}

const userSymbolKey = (userId: string, symbol: string): string => `${userId}\u0000${symbol}`;
const purposeKey = (pair: string, purpose: OrderPurpose): string => `${pair}\u0000${purpose}`;

/** One more order of the key counted in its newest (not counted before). */
function countNewest(index: StateIndex, key: string, id: string): void {
  let newest = index.newestByPurpose.get(key);
  if (newest === undefined) {
    newest = { id: null, seq: -Infinity, walk: false, known: true };
    index.newestByPurpose.set(key, newest);
  }
  if (!newest.known) return;
  const seq = planSeq(id);
  if (!Number.isFinite(seq)) newest.walk = true;
  else if (newest.id === null || seq > newest.seq) {
    newest.id = id;
    newest.seq = seq;
  } else if (seq === newest.seq) newest.walk = true;
}

/** Notes that order `id` of `pair` was indexed with updatedAtMs `atMs` (in time order; rebuilt when long). */
function noteUpdate(index: StateIndex, state: DurableState, pair: string, id: string, atMs: number): void {
  let updates = index.updatesByUserSymbol.get(pair);
  if (updates === undefined) {
    updates = { ids: [], times: [] };
    index.updatesByUserSymbol.set(pair, updates);
  }
  const { ids, times } = updates;
  if (times.length === 0 || (times[times.length - 1] as number) <= atMs) {
    ids.push(id);
    times.push(atMs);
  } else {
    // Out of time order (a full build indexes orders in record order; a clock that stepped back): put in its place.
    const at = firstAtOrAfter(times, atMs + 1);
    ids.splice(at, 0, id);
    times.splice(at, 0, atMs);
  }
  const orders = index.ordersByUserSymbol.get(pair)?.size ?? 0;
  if (ids.length <= 2 * orders + updatesSlack) return;
  const current: [string, number][] = [];
  for (const orderId of index.ordersByUserSymbol.get(pair) ?? []) {
    const order = state.orders.get(orderId);
    if (order !== undefined) current.push([orderId, order.updatedAtMs]);
  }
  current.sort((a, b) => a[1] - b[1]);
  index.updatesByUserSymbol.set(pair, { ids: current.map(([orderId]) => orderId), times: current.map(([, t]) => t) });
}

/** An order of the key no longer counted: if it may have been the newest, the key's newest is looked for again. */
function uncountNewest(index: StateIndex, key: string, id: string): void {
  const newest = index.newestByPurpose.get(key);
  if (newest !== undefined && (newest.id === id || newest.walk)) newest.known = false;
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

function isOpen(order: Order): boolean {
  return !terminalOrderStatuses.has(order.status as never);
}

/** Brings one order's entries up to date with the state; returns the user it belongs (or belonged) to. */
function reindexOrder(index: StateIndex, state: DurableState, clientOrderId: string): string | undefined {
  const before = index.orders.get(clientOrderId);
  const order = state.orders.get(clientOrderId);
  const counted = before === undefined ? null : purposeKey(userSymbolKey(before.userId, before.symbol), before.purpose);
  const countedNow = order === undefined ? null : purposeKey(userSymbolKey(order.userId, order.symbol), order.purpose);
  if (counted !== null && counted !== countedNow) uncountNewest(index, counted, clientOrderId);
  if (countedNow !== null && counted !== countedNow) countNewest(index, countedNow, clientOrderId);
  if (before) {
    removeFrom(index.ordersByUserSymbol, userSymbolKey(before.userId, before.symbol), clientOrderId);
    if (before.open) {
      index.openOrders.delete(clientOrderId);
      removeFrom(index.openOrdersByUser, before.userId, clientOrderId);
    }
  }
  if (!order) {
    index.orders.delete(clientOrderId);
    index.orderOrder.forget(clientOrderId);
    return before?.userId;
  }
  const entry: OrderEntry = { userId: order.userId, symbol: order.symbol, purpose: order.purpose, open: isOpen(order) };
  index.orders.set(clientOrderId, entry);
  index.orderOrder.note(clientOrderId);
  const pair = userSymbolKey(entry.userId, entry.symbol);
  addTo(index.ordersByUserSymbol, pair, clientOrderId);
  noteUpdate(index, state, pair, clientOrderId, order.updatedAtMs);
  const latest = index.latestUpdateByUserSymbol.get(pair);
  if (latest === undefined || order.updatedAtMs > latest) index.latestUpdateByUserSymbol.set(pair, order.updatedAtMs);
  if (entry.open) {
    index.openOrders.add(clientOrderId);
    addTo(index.openOrdersByUser, entry.userId, clientOrderId);
  }
  return entry.userId;
}

/** Brings one session's entries up to date with the state (its orders must be indexed first). */
function reindexSession(index: StateIndex, state: DurableState, userId: string): void {
  const session = state.sessions.get(userId);
  if (session) index.sessionOrder.note(userId);
  const held = new Set<string>();
  if (session && session.status !== 'closed') {
    for (const [symbol, position] of Object.entries(session.positions)) if (!isZero(position.qty)) held.add(symbol);
    for (const id of index.openOrdersByUser.get(userId) ?? []) {
      const entry = index.orders.get(id);
      if (entry) held.add(entry.symbol);
    }
  }
  const before = index.heldByUser.get(userId) ?? new Set<string>();
  for (const symbol of before) if (!held.has(symbol)) removeFrom(index.holdersBySymbol, symbol, userId);
  for (const symbol of held) if (!before.has(symbol)) addTo(index.holdersBySymbol, symbol, userId);
  if (held.size > 0) index.heldByUser.set(userId, held);
  else index.heldByUser.delete(userId);
  const busy = session !== undefined && session.status !== 'closed' && (held.size > 0 || session.status === 'stopping');
  const flattening = busy && (session.killSwitch.engaged || session.status === 'stopping');
  if (busy) index.busy.add(userId);
  else index.busy.delete(userId);
  if (flattening) index.flattening.add(userId);
  else index.flattening.delete(userId);
  const watched = session !== undefined && session.status !== 'closed' && !session.killSwitch.engaged && held.size > 0;
  if (!watched) index.tickWatch.set(userId, null, null);
  else {
    const entry = simpleHolderEntry(session, held);
    index.tickWatch.set(userId, entry, entry ? null : held);
  }
}

/**
 * A holder's tick-watch entry when it is simple (tick-watch.ts): it holds one symbol only, and with a stop-loss it is
 * valued from one position on it with a finite bound; null otherwise (every tick of what it holds looks at it).
 */
function simpleHolderEntry(session: Session, held: ReadonlySet<string>): TickWatchEntry | null {
  if (held.size !== 1) return null;
  const symbol = held.values().next().value;
  if (symbol === undefined) return null;
  let bound: TickWatchEntry['bound'] = null;
  if (session.stopLossPct !== null) {
    // Held through an order alone (an entry on its way): no position to value, a complex holder; known without the
    // one-position test, which every event of such a session (each a new session object) would compute afresh.
    const position = session.positions[symbol];
    if (position === undefined || isZero(position.qty)) return null;
    const test = stopLossBoundOf(session);
    if (test === null || test.symbol !== symbol || !Number.isFinite(test.price)) return null;
    bound = { long: test.long, price: test.price };
  }
  return { key: tickWatchKey(session.mode, symbol), bound, horizonMs: session.horizonDeadlineMs };
}

/** The index of a state built by a full scan (also what the simulation compares the kept one against). */
export function buildIndex(state: DurableState): StateIndex {
  const index = new StateIndex();
  for (const id of state.orders.keys()) reindexOrder(index, state, id);
  for (const userId of state.sessions.keys()) reindexSession(index, state, userId);
  return index;
}

const indexes = new WeakMap<DurableState, StateIndex>();

/** The state's index: the one the fold kept up to date, or a new one built by a scan. */
export function indexOf(state: DurableState): StateIndex {
  let index = indexes.get(state);
  if (!index) {
    index = buildIndex(state);
    indexes.set(state, index);
  }
  return index;
}

/** True when the state already has an index (the simulation checks kept indexes, not freshly built ones). */
export function hasIndex(state: DurableState): boolean {
  return indexes.has(state);
}

/**
 * Moves `previous`'s index (if it has one) to `next` = fold(previous, event), updating only what the event
 * touched: its session and its order, plus the orders retention dropped.
 */
export function advanceIndex(previous: DurableState, next: DurableState, event: WalEvent, droppedOrderIds: readonly string[]): void {
  if (previous === next) return;
  const index = indexes.get(previous);
  if (!index) return;
  indexes.delete(previous);
  const users = new Set<string>();
  if ('userId' in event && typeof event.userId === 'string') users.add(event.userId);
  const orderIds = new Set(droppedOrderIds);
  if (event.type === 'order.planned') orderIds.add(event.order.clientOrderId);
  else if ('clientOrderId' in event) orderIds.add(event.clientOrderId);
  for (const id of orderIds) {
    const userId = reindexOrder(index, next, id);
    if (userId !== undefined) users.add(userId);
  }
  for (const userId of users) reindexSession(index, next, userId);
  indexes.set(next, index);
}

/** The user's open orders, in the order the state's orders enumerate. */
export function openOrdersOf(state: DurableState, userId: string): Order[] {
  const index = indexOf(state);
  return ordersIn(state, index.orderOrder.sort(index.openOrdersByUser.get(userId) ?? []));
}

/** Whether the user has an open order for `symbol`: openOrdersOf(...).some(o => o.symbol === symbol), without its sort. */
export function hasOpenOrderFor(state: DurableState, userId: string, symbol: string): boolean {
  const index = indexOf(state);
  for (const id of index.openOrdersByUser.get(userId) ?? []) {
    if (index.orders.get(id)?.symbol === symbol && state.orders.get(id) !== undefined) return true;
  }
  return false;
}

/** Every open order, in the order the state's orders enumerate. */
export function allOpenOrders(state: DurableState): Order[] {
  const index = indexOf(state);
  return ordersIn(state, index.orderOrder.sort(index.openOrders));
}

/** The user's orders for one symbol (terminal ones too, while retained), in the order the state's orders enumerate. */
export function ordersOf(state: DurableState, userId: string, symbol: string): Order[] {
  const index = indexOf(state);
  return ordersIn(state, index.orderOrder.sort(index.ordersByUserSymbol.get(userSymbolKey(userId, symbol)) ?? []));
}

/**
 * Whether any of the user's orders for one symbol (terminal ones too, while retained) passes `test`: ordersOf's
 * answer without its sort, which ranked every retained order of the pair (up to maxTerminalOrdersKept) on each call,
 * a tenth of a backtest's decide time in the reconcile alone. A yes-or-no does not depend on the order visited.
 */
export function someOrderOf(state: DurableState, userId: string, symbol: string, test: (order: Order) => boolean): boolean {
  const ids = indexOf(state).ordersByUserSymbol.get(userSymbolKey(userId, symbol));
  if (!ids) return false;
  for (const id of ids) {
    const order = state.orders.get(id);
    if (order && test(order)) return true;
  }
  return false;
}

/** The key's newest, looked for again among the pair's orders if a drop made it unknown. */
function resolvedNewest(index: StateIndex, pair: string, purpose: OrderPurpose): NewestOrder | undefined {
  const key = purposeKey(pair, purpose);
  const newest = index.newestByPurpose.get(key);
  if (newest === undefined || newest.known) return newest;
  index.newestByPurpose.delete(key);
  for (const id of index.ordersByUserSymbol.get(pair) ?? []) if (index.orders.get(id)?.purpose === purpose) countNewest(index, key, id);
  return index.newestByPurpose.get(key);
}

/**
 * The user's order for the symbol and purpose with the greatest plan sequence (terminal ones too, while retained);
 * null when there is none; 'walk' when no one order is that (a tie at the top, an id without a sequence number).
 */
export function newestOrderOf(state: DurableState, userId: string, symbol: string, purpose: OrderPurpose): Order | null | 'walk' {
  const newest = resolvedNewest(indexOf(state), userSymbolKey(userId, symbol), purpose);
  if (newest === undefined || newest.id === null) return null;
  if (newest.walk) return 'walk';
  return state.orders.get(newest.id) ?? 'walk';
}

/**
 * Whether one of the user's orders for the symbol is open, or was updated at or after `sinceMs` (null: never) and
 * passes `changed`: someOrderOf(o => open(o) || (o.updatedAtMs >= sinceMs && changed(o))). When no order of the pair
 * can have been updated since (latestUpdateByUserSymbol), only the user's open orders are looked at, not every
 * retained one of the pair (up to maxTerminalOrdersKept, on every periodic reconcile of every holder).
 */
export function someOpenOrChangedOrderOf(
  state: DurableState,
  userId: string,
  symbol: string,
  sinceMs: number | null,
  changed: (order: Order) => boolean,
): boolean {
  const index = indexOf(state);
  const pair = userSymbolKey(userId, symbol);
  const latest = index.latestUpdateByUserSymbol.get(pair);
  if (hasOpenOrderFor(state, userId, symbol)) return true;
  if (sinceMs === null || latest === undefined || latest < sinceMs) return false;
  // None open: of the pair's orders, those updated at or after sinceMs (the tail of its updates), not every one.
  const updates = index.updatesByUserSymbol.get(pair);
  if (updates === undefined) return false;
  for (let i = firstAtOrAfter(updates.times, sinceMs); i < updates.ids.length; i += 1) {
    const order = state.orders.get(updates.ids[i] as string);
    if (order !== undefined && order.userId === userId && order.symbol === symbol && order.updatedAtMs >= sinceMs && changed(order)) return true;
  }
  return false;
}

function ordersIn(state: DurableState, ids: readonly string[]): Order[] {
  const out: Order[] = [];
  for (const id of ids) {
    const order = state.orders.get(id);
    if (order) out.push(order);
  }
  return out;
}

/** These users, in the order the state's sessions enumerate. */
export function inSessionOrder(state: DurableState, userIds: Iterable<string>): string[] {
  return indexOf(state).sessionOrder.sort(userIds);
}

/** Differences between the kept index and one built by a full scan (empty when they agree). */
export function indexDifferences(state: DurableState): string[] {
  const kept = indexes.get(state);
  if (!kept) return [];
  const fresh = buildIndex(state);
  const out: string[] = [];
  const same = (name: string, a: Map<string, Iterable<string>>, b: Map<string, Iterable<string>>): void => {
    const norm = (m: Map<string, Iterable<string>>): string =>
      JSON.stringify(
        [...m.entries()]
          .map(([k, v]) => [k, [...v].sort()] as const)
          .filter(([, v]) => v.length > 0)
          .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
      );
    if (norm(a) !== norm(b)) out.push(`${name}: kept ${norm(a)} but a scan gives ${norm(b)}`);
  };
  const setOf = (s: ReadonlySet<string>): Map<string, Iterable<string>> => new Map([['', s]]);
  same('openOrders', setOf(kept.openOrders), setOf(fresh.openOrders));
  same('openOrdersByUser', kept.openOrdersByUser, fresh.openOrdersByUser);
  same('ordersByUserSymbol', kept.ordersByUserSymbol, fresh.ordersByUserSymbol);
  same('heldByUser', kept.heldByUser, fresh.heldByUser);
  same('holdersBySymbol', kept.holdersBySymbol, fresh.holdersBySymbol);
  same('busy', setOf(kept.busy), setOf(fresh.busy));
  same('flattening', setOf(kept.flattening), setOf(fresh.flattening));
  if (kept.tickWatch.describe() !== fresh.tickWatch.describe())
    out.push(`tickWatch: kept ${kept.tickWatch.describe()} but a scan gives ${fresh.tickWatch.describe()}`);
  for (const key of new Set([...kept.newestByPurpose.keys(), ...fresh.newestByPurpose.keys()])) {
    const [userId = '', symbol = '', purpose = 'entry'] = key.split('\u0000');
    const answer = (index: StateIndex): string => {
      const newest = resolvedNewest(index, userSymbolKey(userId, symbol), purpose as OrderPurpose);
      return newest === undefined || newest.id === null ? 'none' : newest.walk ? 'walk' : newest.id;
    };
    if (answer(kept) !== answer(fresh)) out.push(`newest ${key}: kept ${answer(kept)} but a scan gives ${answer(fresh)}`);
  }
  // Every order has its current update in its pair's list, and each list is in time order.
  for (const [pair, { ids, times }] of kept.updatesByUserSymbol) {
    if (times.some((t, i) => i > 0 && t < (times[i - 1] as number))) out.push(`updates of ${pair} out of time order`);
    if (ids.length !== times.length) out.push(`updates of ${pair}: ${ids.length} ids, ${times.length} times`);
  }
  state.orders.forEach((order, id) => {
    const updates = kept.updatesByUserSymbol.get(userSymbolKey(order.userId, order.symbol));
    const from = updates === undefined ? 0 : firstAtOrAfter(updates.times, order.updatedAtMs);
    if (!updates?.ids.some((entry, i) => i >= from && entry === id && updates.times[i] === order.updatedAtMs))
      out.push(`order ${id}'s update at ${order.updatedAtMs} is not in its pair's updates`);
  });
  const sessionKeys = state.sessions.keys();
  if (JSON.stringify(kept.sessionOrder.sort(sessionKeys)) !== JSON.stringify(sessionKeys)) out.push('sessions enumerate in another order');
  const orderKeys = state.orders.keys();
  if (JSON.stringify(kept.orderOrder.sort(orderKeys)) !== JSON.stringify(orderKeys)) out.push('orders enumerate in another order');
  return out;
}
