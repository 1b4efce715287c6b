// Transitional: the domain types moved to src/model/. Only src/sim/ and src/services/execution/ (being moved
// by another change) still import this file; switch them to src/model/ and delete it.
export type { BookTicker, SymbolFilters } from '../model/market.js';
export type { CancelOutcome, OrderRequest, OrderSnapshot, OrderStatus, PlaceOutcome, QueryOutcome, Side } from '../model/orders.js';
export { terminalOrderStatuses } from '../model/orders.js';
export type { PositionSnapshot } from '../model/positions.js';
export type { ProtectiveStopRequest, ProtectiveStopSnapshot, StopOutcome } from '../model/protective-stops.js';
