// An account's margin configuration and state as the exchange reports it, for the account preflight
// (src/core/preflight.ts): position mode, multi-assets mode, available balance, leverage brackets and each
// position's liquidation price. Decimal strings as the exchange prints them.

/** One notional band of a symbol (GET /fapi/v1/leverageBracket). */
export interface LeverageBracketInfo {
  initialLeverage: number;
  notionalFloor: string;
  notionalCap: string;
  maintMarginRatio: string;
  /** Maintenance amount: maintMargin = notional × maintMarginRatio − cum. */
  cum: string;
}

export interface PositionRisk {
  symbol: string;
  positionAmt: string;
  /** "0" when the position cannot be liquidated. */
  liquidationPrice: string;
  markPrice: string;
}

/**
 * An account setting changed on the exchange, as the user-data stream tells it. ACCOUNT_CONFIG_UPDATE
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Account-Configuration-Update-previous-Leverage-Update):
 * `ac` a symbol's leverage, `ai.j` the multi-assets margin mode. ACCOUNT_UPDATE with reason `m` MARGIN_TYPE_CHANGE
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Balance-and-Position-Update:
 * "pushed ... including changes on balances, positions, or margin type"): a symbol's margin type, its position entry's
 * `mt` (isolated or cross). Someone changed it by hand, or another program.
 */
export type AccountConfigChange =
  { kind: 'leverage'; symbol: string; leverage: number } | { kind: 'multi_assets'; on: boolean } | { kind: 'margin_type'; symbol: string; isolated: boolean };

export interface AccountMarginState {
  /** Hedge mode (GET /fapi/v1/positionSide/dual); the engine trades one-way only. */
  dualSidePosition: boolean;
  /** Multi-assets margin (GET /fapi/v1/multiAssetsMargin); the engine margins in USDT only. */
  multiAssetsMargin: boolean;
  /**
   * BNB fee discount (GET /fapi/v1/feeBurn): commissions are then paid in BNB whenever the futures wallet holds some,
   * and the engine books commissions in USDT only.
   */
  feeBurn: boolean;
  /** USDT available for new margin (GET /fapi/v3/balance). */
  availableBalanceUsd: string;
  /** Per symbol, its brackets lowest band first. */
  brackets: Record<string, LeverageBracketInfo[]>;
  /** Open positions with their liquidation prices (GET /fapi/v3/positionRisk). */
  positions: PositionRisk[];
}

export type MarginType = 'CROSSED' | 'ISOLATED';

/** Result of a configuration change: done (or already so), refused with Binance's code, or not known. */
export type SettingOutcome = { kind: 'ok' } | { kind: 'rejected'; code: number; message: string } | { kind: 'unknown'; reason: string };
