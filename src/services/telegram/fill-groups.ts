import type { FillNotice } from '../../contract/outbound.js';
import type { Decimal } from '../../model/decimal.js';
import { add, decimalPlaces, div, isZero, mul, toDecimal } from '../../model/decimal.js';

// Fill alerts grouped per user, read from the typed notice they carry (the contract's FillNotice): one Telegram message per order per window instead of one per fill (a paper
// session fills ~26 times a minute). A user's groups open with their first fill and are flushed when the window
// has passed (the relay checks on every loop round), or before any other message for that user, so an alert
// never overtakes the fills that came before it. Pure: time is an argument, the relay holds the state.

/** How long a user's fills are collected before they are sent as one message per order. */
export const fillGroupWindowMs = 60_000;
/** Orders held in one user's open groups; one more flushes the user's groups early (bounded memory). */
export const maxOrdersPerFillGroup = 50;
/** Users with open fill groups; one more flushes the oldest user's groups early. */
export const maxUsersWithFillGroups = 10_000;
/** Digits kept after the finest price's own when averaging (the average is shown, never traded on). */
const averageExtraDigits = 2;

/** The fills of one order within one window. */
export interface FillGroup {
  orderId: string;
  side: string;
  symbol: string;
  purpose: string;
  count: number;
  totalQty: Decimal;
  /** Σ qty × price: the average is notional / totalQty. */
  notional: Decimal;
  /** Decimal places of the finest price seen (the average is shown a little finer). */
  priceDecimals: number;
  /** Σ commission, while every fill reported one in the same asset; null once one did not (the sum would mislead). */
  fee: { amount: Decimal; asset: string } | null;
  /** maker or taker when every fill said the same; mixed when they differ; null when one did not say. */
  liquidity: FillNotice['liquidity'] | 'mixed';
}

export interface UserFills {
  openedAtMs: number;
  /** Insertion order = first fill order. */
  groups: Map<string, FillGroup>;
}

/** chatId → that user's open groups; Map order = oldest opened first. */
export type FillGroups = Map<number, UserFills>;

/** Adds one fill; returns the chats whose groups must be flushed now (bounds reached), oldest first. */
export function addFill(state: FillGroups, chatId: number, fill: FillNotice, nowMs: number): number[] {
  const flushNow: number[] = [];
  let user = state.get(chatId);
  if (user !== undefined && !user.groups.has(fill.clientOrderId) && user.groups.size >= maxOrdersPerFillGroup) flushNow.push(chatId);
  if (user === undefined) {
    user = { openedAtMs: nowMs, groups: new Map() };
    state.set(chatId, user);
    if (state.size > maxUsersWithFillGroups) {
      const oldest = state.keys().next();
      if (!oldest.done && oldest.value !== chatId) flushNow.push(oldest.value);
    }
  }
  const qty = toDecimal(fill.qty);
  const price = toDecimal(fill.price);
  const fee = fill.fee === null ? null : { amount: toDecimal(fill.fee.amount), asset: fill.fee.asset };
  const group = user.groups.get(fill.clientOrderId);
  user.groups.set(
    fill.clientOrderId,
    group === undefined
      ? {
          orderId: fill.clientOrderId,
          side: fill.side,
          symbol: fill.symbol,
          purpose: fill.purpose,
          count: 1,
          totalQty: qty,
          notional: mul(qty, price),
          priceDecimals: decimalPlaces(price),
          fee,
          liquidity: fill.liquidity,
        }
      : {
          ...group,
          count: group.count + 1,
          totalQty: add(group.totalQty, qty),
          notional: add(group.notional, mul(qty, price)),
          priceDecimals: Math.max(group.priceDecimals, decimalPlaces(price)),
          fee: group.fee !== null && fee !== null && group.fee.asset === fee.asset ? { amount: add(group.fee.amount, fee.amount), asset: fee.asset } : null,
          liquidity: group.liquidity === null || fill.liquidity === null ? null : group.liquidity === fill.liquidity ? group.liquidity : 'mixed',
        },
  );
  return flushNow;
}

/** Chats whose window has passed at nowMs, oldest first. */
export function dueFillChats(state: FillGroups, nowMs: number, windowMs = fillGroupWindowMs): number[] {
  const due: number[] = [];
  for (const [chatId, user] of state) {
    if (nowMs - user.openedAtMs < windowMs) break; // opened in order: the rest are younger
    due.push(chatId);
  }
  return due;
}

/** The average price of a group, exact to a couple of digits finer than its prices (trailing zeros trimmed). */
export function averagePrice(group: FillGroup): string {
  if (isZero(group.totalQty)) return '0';
  const avg = div(group.notional, group.totalQty, group.priceDecimals + averageExtraDigits, 'half-even');
  return avg.includes('.') ? avg.replace(/\.?0+$/, '') : avg;
}
