import { RequestNotSentError } from '../sign-guard.js';
import { BudgetRefusal } from '../binance/own-requests.js';

// Errors crossing between the engine thread and the adapter's thread. Structured clone keeps an Error's message but
// not its class, and callers test classes (`instanceof RequestNotSentError` means "nothing was sent"), so an error
// travels as its name, message, stack and own fields, and is re-created on the other side as the class of that name.

export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** Own enumerable fields that clone (BudgetRefusal's retryAfterMs, a Redis error's code). */
  fields?: Record<string, unknown>;
}

/** Error classes re-created by name; any other name arrives as a plain Error carrying that name. */
const knownClasses: Record<string, { prototype: Error }> = {
  Error,
  TypeError,
  RangeError,
  RequestNotSentError,
  BudgetRefusal,
};

const cloneable = (value: unknown): boolean => value === null || ['string', 'number', 'boolean', 'undefined', 'bigint'].includes(typeof value);

export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) if (key !== 'name' && cloneable(value)) fields[key] = value;
  return { name: error.name, message: error.message, ...(error.stack !== undefined && { stack: error.stack }), fields };
}

/** The error again, as its own class when it is a known one (the constructor is not run: the fields are the sender's). */
export function fromWireError(wire: WireError): Error {
  const error = Object.create((knownClasses[wire.name] ?? Error).prototype) as Error;
  Object.assign(error, wire.fields ?? {});
  Object.defineProperty(error, 'message', { value: wire.message, writable: true, configurable: true });
  // An own `name`, as the project's error classes have (a class field), unless the class's prototype already says it.
  if (error.name !== wire.name) Object.defineProperty(error, 'name', { value: wire.name, writable: true, configurable: true, enumerable: true });
  if (wire.stack !== undefined) Object.defineProperty(error, 'stack', { value: wire.stack, writable: true, configurable: true });
  return error;
}
