// Turns POST /fapi/v1/order params into a validated order, with Binance's error codes for each filter.
// All filter arithmetic is on scaled integers (see decimal.ts).
import { randomBytes } from 'node:crypto';
import { formatUnits, parseDecimal } from '../model/decimal.js';
import { apiErrors } from './errors.js';
import type { NewOrderInput, SimSide, SimTimeInForce } from './matching.js';
import { checkLimitPrice, checkMarketCounterparty } from './percent-price.js';
import type { SymbolMarket } from './price-process.js';

const clientOrderIdPattern = /^[.A-Z:/a-z0-9_-]{1,36}$/;
const clientOrderIdLegal = '^[\\.A-Z\\:/a-z0-9_-]{1,36}$';

export type ResponseType = 'ACK' | 'RESULT';

const timesInForce: readonly SimTimeInForce[] = ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'];

/**
 * goodTillDate of a GTD order: mandatory with GTD, kept to the second, more than 600 s ahead and before
 * 253402300799000 (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api, -5040).
 */
const goodTillDateMinLeadMs = 600_000;
const goodTillDateMaxMs = 253_402_300_799_000;

function parseGoodTillDate(params: ReadonlyMap<string, string>, nowMs: number): number {
  const text = required(params, 'goodTillDate');
  if (!/^\d+$/.test(text)) throw apiErrors.badParamValue('goodTillDate');
  const ms = Math.floor(Number(text) / 1000) * 1000;
  if (ms <= nowMs + goodTillDateMinLeadMs || ms >= goodTillDateMaxMs) throw apiErrors.badGoodTillDate();
  return ms;
}

export function required(params: ReadonlyMap<string, string>, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '') throw apiErrors.mandatory(name);
  return value;
}

export function parseBoolParam(params: ReadonlyMap<string, string>, name: string): boolean {
  const value = params.get(name);
  if (value === undefined) return false;
  if (value === 'true' || value === 'TRUE') return true;
  if (value === 'false' || value === 'FALSE') return false;
  throw apiErrors.badParamValue(name);
}

export function parseNewOrder(params: ReadonlyMap<string, string>, market: SymbolMarket, nowMs: number): { input: NewOrderInput; respType: ResponseType } {
  const rules = market.rules;
  const sideText = required(params, 'side');
  if (sideText !== 'BUY' && sideText !== 'SELL') throw apiErrors.badSide();
  const side: SimSide = sideText;
  const typeText = required(params, 'type');
  if (typeText !== 'LIMIT' && typeText !== 'MARKET') throw apiErrors.badOrderType();

  const positionSide = params.get('positionSide');
  if (positionSide !== undefined && positionSide !== 'BOTH') throw apiErrors.badParamValue('positionSide');
  const reduceOnly = parseBoolParam(params, 'reduceOnly');
  // Contract status: only TRADING opens positions; a CLOSE symbol takes no order at all. Simplification: every other
  // status (SETTLING, PRE_SETTLE, ...) still takes reduce-only orders, so a holder can get out.
  if (rules.status === 'CLOSE') throw apiErrors.symbolClosed();
  if (rules.status !== 'TRADING' && !reduceOnly) throw apiErrors.openingPositionStatus();

  const respText = params.get('newOrderRespType') ?? 'ACK';
  if (respText !== 'ACK' && respText !== 'RESULT') throw apiErrors.badParamValue('newOrderRespType');

  const clientOrderId = params.get('newClientOrderId') ?? generatedClientOrderId();
  if (!clientOrderIdPattern.test(clientOrderId)) throw apiErrors.illegalChars('newClientOrderId', clientOrderIdLegal);

  let timeInForce: SimTimeInForce | undefined;
  let priceUnits: bigint | undefined;
  let goodTillDateMs: number | undefined;
  if (typeText === 'LIMIT') {
    const tif = timesInForce.find((t) => t === required(params, 'timeInForce'));
    if (tif === undefined) throw apiErrors.badTimeInForce();
    timeInForce = tif;
    if (tif === 'GTD') goodTillDateMs = parseGoodTillDate(params, nowMs);
    const parsed = parseDecimal(required(params, 'price'), rules.priceScale);
    if (!parsed.ok) throw parsed.reason === 'too_precise' ? apiErrors.precision() : apiErrors.mandatory('price');
    priceUnits = parsed.units;
    if (priceUnits <= 0n || priceUnits < rules.minPriceUnits) throw apiErrors.priceTooLow();
    if (priceUnits > rules.maxPriceUnits) throw apiErrors.priceTooHigh();
    if (priceUnits % rules.tickUnits !== 0n) throw apiErrors.priceNotOnTick();
    checkLimitPrice(market, side, priceUnits);
  } else if (params.has('price')) {
    throw apiErrors.notRequired('price');
  } else {
    checkMarketCounterparty(market, side);
  }

  const parsedQty = parseDecimal(required(params, 'quantity'), rules.qtyScale);
  if (!parsedQty.ok) throw parsedQty.reason === 'too_precise' ? apiErrors.precision() : apiErrors.mandatory('quantity');
  const qtyUnits = parsedQty.units;
  if (qtyUnits <= 0n) throw apiErrors.qtyNotPositive();
  if (qtyUnits < rules.minQtyUnits) throw apiErrors.qtyTooSmall();
  if (qtyUnits > rules.maxQtyUnits) throw apiErrors.qtyTooLarge();
  if (qtyUnits % rules.stepUnits !== 0n) throw apiErrors.qtyNotOnStep();
  // A MARKET order meets MARKET_LOT_SIZE too, the quantity rules of MARKET orders (Filters,
  // https://developers.binance.com/docs/derivatives/usds-margined-futures/common-definition), same codes as LOT_SIZE
  // (https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code: -4004, -4005, -4023).
  if (typeText === 'MARKET') {
    const lot = rules.marketLot;
    if (qtyUnits < lot.minQtyUnits) throw apiErrors.qtyTooSmall();
    if (qtyUnits > lot.maxQtyUnits) throw apiErrors.qtyTooLarge();
    if (qtyUnits % lot.stepUnits !== 0n) throw apiErrors.qtyNotOnStep();
  }

  if (!reduceOnly) {
    // MARKET orders are checked at the price they would take (Binance uses mark price; close enough).
    const refPrice = priceUnits ?? (side === 'BUY' ? market.top.askUnits : market.top.bidUnits);
    if (refPrice * qtyUnits < rules.minNotionalUnits) {
      throw apiErrors.minNotional(trimZeros(formatUnits(rules.minNotionalUnits, rules.priceScale + rules.qtyScale)));
    }
  }

  const input: NewOrderInput = { symbol: rules.symbol, side, type: typeText, qtyUnits, reduceOnly, clientOrderId };
  if (timeInForce !== undefined) input.timeInForce = timeInForce;
  if (priceUnits !== undefined) input.priceUnits = priceUnits;
  if (goodTillDateMs !== undefined) input.goodTillDateMs = goodTillDateMs;
  return { input, respType: respText };
}

function generatedClientOrderId(): string {
  return `sim${randomBytes(10).toString('hex')}`;
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** orderId (integer) or origClientOrderId; Binance demands one of them. */
export function parseOrderRef(params: ReadonlyMap<string, string>): { orderId?: number; clientOrderId?: string } {
  const orderIdText = params.get('orderId');
  if (orderIdText !== undefined && orderIdText !== '') {
    if (!/^\d+$/.test(orderIdText)) throw apiErrors.badParamValue('orderId');
    return { orderId: Number(orderIdText) };
  }
  const clientOrderId = params.get('origClientOrderId');
  if (clientOrderId !== undefined && clientOrderId !== '') return { clientOrderId };
  throw apiErrors.orderRefMissing();
}
