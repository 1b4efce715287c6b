// Binance-style API errors: HTTP status plus the {"code","msg"} body the SDK surfaces to the adapter.

export class SimApiError extends Error {
  readonly httpStatus: number;
  readonly code: number;
  /** Answered with an empty body (no {code,msg}): how Binance answers a path it does not serve. */
  readonly bodyless: boolean;

  constructor(httpStatus: number, code: number, msg: string, bodyless = false) {
    super(msg);
    this.httpStatus = httpStatus;
    this.code = code;
    this.bodyless = bodyless;
  }

  toBody(): { code: number; msg: string } {
    return { code: this.code, msg: this.message };
  }
}

const bad = (code: number, msg: string): SimApiError => new SimApiError(400, code, msg);

export const apiErrors = {
  /**
   * A path Binance does not serve: HTTP 404 with no Binance error body ("HTTP status code: 404, error code: no code
   * found and error message: no message found", https://github.com/rotki/rotki/issues/3664; plain 404s in
   * https://github.com/binance/binance-api-postman/issues/154). The message (method and path) goes to the request log only.
   */
  unknownPath: (method: string, path: string) => new SimApiError(404, 0, `no such endpoint: ${method} ${path}`, true),
  serviceUnavailable: () => new SimApiError(503, -1001, 'Internal error; unable to process your request. Please try again.'),
  /**
   * -1008 Request Throttled, system-level protection that spares reduce-only/close-position orders
   * (https://developers.binance.com/en/docs/products/derivatives-trading-usds-futures/error-code). Seen as HTTP 503 on
   * POST /fapi/v1/order (https://github.com/banbox/banbot/issues/114, where the order was in fact placed): a client must
   * treat it as execution unknown, and our adapter does (5xx).
   */
  requestThrottled: () =>
    new SimApiError(503, -1008, 'Request throttled by system-level protection. Reduce-only/close-position orders are exempt. Please try again.'),
  tooManyRequests: () =>
    new SimApiError(
      429,
      -1003,
      'Too many requests; current limit is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API.',
    ),
  timestampOutside: () => bad(-1021, 'Timestamp for this request is outside of the recvWindow.'),
  timestampAhead: () => bad(-1021, "Timestamp for this request was 1000ms ahead of the server's time."),
  badSignature: () => bad(-1022, 'Signature for this request is not valid.'),
  apiKeyFormat: () => new SimApiError(401, -2014, 'API-key format invalid.'),
  rejectedKey: () => new SimApiError(401, -2015, 'Invalid API-key, IP, or permissions for action.'),
  illegalChars: (param: string, legal: string) => bad(-1100, `Illegal characters found in parameter '${param}'; legal range is '${legal}'.`),
  mandatory: (param: string) => bad(-1102, `Mandatory parameter '${param}' was not sent, was empty/null, or malformed.`),
  orderRefMissing: () => bad(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"),
  notRequired: (param: string) => bad(-1106, `Parameter '${param}' sent when not required.`),
  precision: () => bad(-1111, 'Precision is over the maximum defined for this asset.'),
  badTimeInForce: () => bad(-1115, 'Invalid timeInForce.'),
  badOrderType: () => bad(-1116, 'Invalid orderType.'),
  badSide: () => bad(-1117, 'Invalid side.'),
  badSymbol: () => bad(-1121, 'Invalid symbol.'),
  badParamValue: (param: string) => bad(-1130, `Data sent for parameter '${param}' is not valid.`),
  unknownOrderCancel: () => bad(-2011, 'Unknown order sent.'),
  orderDoesNotExist: () => bad(-2013, 'Order does not exist.'),
  reduceOnlyRejected: () => bad(-2022, 'ReduceOnly Order is rejected.'),
  // https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code (-4131 MARKET_ORDER_REJECT)
  marketOrderRejected: () => bad(-4131, "The counterparty's best price does not meet the PERCENT_PRICE filter limit."),
  priceTooLow: () => bad(-4001, 'Price less than 0.'),
  priceTooHigh: () => bad(-4002, 'Price greater than max price.'),
  qtyNotPositive: () => bad(-4003, 'Quantity less than or equal to zero.'),
  qtyTooSmall: () => bad(-4004, 'Quantity less than min quantity.'),
  qtyTooLarge: () => bad(-4005, 'Quantity greater than max quantity.'),
  priceNotOnTick: () => bad(-4014, 'Price not increased by tick size.'),
  // PERCENT_PRICE, https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code
  priceAboveMultiplierUp: () => bad(-4016, 'Price is higher than mark price multiplier cap.'),
  priceBelowMultiplierDown: () => bad(-4024, 'Price is lower than mark price multiplier floor.'),
  qtyNotOnStep: () => bad(-4023, 'Quantity not increased by step size.'),
  // Contract status (https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code, -4140 / -4141)
  openingPositionStatus: () => bad(-4140, 'Invalid symbol status for opening position.'),
  symbolClosed: () => bad(-4141, 'Symbol is closed.'),
  duplicateClientId: () => bad(-4116, 'ClientOrderId is duplicated.'),
  wouldTriggerImmediately: () => bad(-2021, 'Order would immediately trigger.'),
  minNotional: (notional: string) => bad(-4164, `Order's notional must be no smaller than ${notional} (unless you choose reduce only).`),
  // https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code (-5021 FOK_ORDER_REJECT, -5040 FUTURE_GOOD_TILL_DATE)
  fokRejected: () => bad(-5021, 'Due to the order could not be filled immediately, the FOK order has been rejected.'),
  badGoodTillDate: () =>
    bad(-5040, 'The goodTillDate timestamp must be greater than the current time plus 600 seconds and smaller than 253402300799000 (UTC 9999-12-31 23:59:59)'),
  postOnlyRejected: () => bad(-5022, 'Due to the order could not be executed as maker, the Post Only order will be rejected.'),
  listenKeyMissing: () => bad(-1125, 'This listenKey does not exist.'),
};
