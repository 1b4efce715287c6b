// Notional and leverage brackets (GET /fapi/v1/leverageBracket,
// https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Notional-and-Leverage-Brackets):
// for each notional band, the highest initial leverage allowed, the maintenance margin ratio and the
// maintenance amount `cum` (so that maintMargin = notional × maintMarginRatio − cum is continuous across bands:
// cum_n = cum_{n−1} + notionalFloor_n × (mmr_n − mmr_{n−1})).
//
// The table is BTCUSDT's as Binance published it (125× up to 50 000 USDT, 0.4 % maintenance; 20× up to 10 M,
// 2.5 %); Binance revises these from time to time and per account (`notionalCoef`), so a live engine must read
// them, never assume them. The simulator uses this one table for every symbol: what matters here is that
// margin, maintenance and the leverage cap move with notional the way Binance's do.

export interface LeverageBracket {
  bracket: number;
  initialLeverage: number;
  notionalCap: number;
  notionalFloor: number;
  maintMarginRatio: number;
  cum: number;
}

const row = (bracket: number, initialLeverage: number, notionalFloor: number, notionalCap: number, maintMarginRatio: number, cum: number): LeverageBracket => ({
  bracket,
  initialLeverage,
  notionalCap,
  notionalFloor,
  maintMarginRatio,
  cum,
});

export const defaultBrackets: readonly LeverageBracket[] = [
  row(1, 125, 0, 50_000, 0.004, 0),
  row(2, 100, 50_000, 250_000, 0.005, 50),
  row(3, 50, 250_000, 1_000_000, 0.01, 1_300),
  row(4, 20, 1_000_000, 10_000_000, 0.025, 16_300),
  row(5, 10, 10_000_000, 20_000_000, 0.05, 266_300),
  row(6, 5, 20_000_000, 50_000_000, 0.1, 1_266_300),
  row(7, 4, 50_000_000, 100_000_000, 0.125, 2_516_300),
  row(8, 3, 100_000_000, 200_000_000, 0.15, 5_016_300),
  row(9, 2, 200_000_000, 300_000_000, 0.25, 25_016_300),
  // Binance prints the last cap as 9223372036854775807 (Long.MAX_VALUE); any bound beyond every notional will do.
  row(10, 1, 300_000_000, Number.MAX_SAFE_INTEGER, 0.5, 100_016_300),
];

/** The band a position of this (absolute) notional falls in. */
export function bracketFor(notional: number, brackets: readonly LeverageBracket[] = defaultBrackets): LeverageBracket {
  for (const b of brackets) if (notional <= b.notionalCap) return b;
  return brackets[brackets.length - 1] as LeverageBracket;
}

/** The highest leverage the symbol allows at all (its first band's). */
export function maxLeverageOf(brackets: readonly LeverageBracket[] = defaultBrackets): number {
  return brackets[0]?.initialLeverage ?? 1;
}

/** The largest notional a position may reach at this leverage: the cap of the last band that allows it. */
export function maxNotionalAt(leverage: number, brackets: readonly LeverageBracket[] = defaultBrackets): number {
  let cap = 0;
  for (const b of brackets) if (b.initialLeverage >= leverage) cap = b.notionalCap;
  return cap;
}

/** Maintenance margin of a position of this absolute notional. */
export function maintenanceMargin(notional: number, brackets: readonly LeverageBracket[] = defaultBrackets): number {
  if (notional === 0) return 0;
  const b = bracketFor(notional, brackets);
  return notional * b.maintMarginRatio - b.cum;
}
