import type { CommandType } from '../contract/commands.js';
import { parsedCommandIfKnown } from '../contract/commands.js';
import type { Input } from './decide.js';

// Control first: in a batch of inputs decided together that holds a signals.route (a fan-out to many users), the
// commands that make a session safer (stop, a tighter stop-loss, pause, an operator halt) are decided before the
// rest, so a /stop read in the same batch as a fan-out to every user is never decided behind it. A batch without a
// fan-out keeps its order.
//
// A user's own commands keep their order: a control command moves forward only past other users' commands,
// never past an earlier command of its own user (a session.start then a session.stop of one user stay in that
// order; the stop of a user still moves ahead of a signals.route the signal producer sent for that user, which is
// the point). Everything that is not a command, or cannot be read, keeps its place among the rest.

export const controlCommandTypes: ReadonlySet<CommandType> = new Set<CommandType>([
  'session.stop',
  'session.exit',
  'session.set_stoploss',
  'session.pause',
  'admin.halt_all',
]);

/** The sender and type of a command input, as far as its JSON can be read cheaply (decide validates it fully). */
function senderAndType(input: Input): { userId: string; type: string } | null {
  if (input.kind !== 'command') return null;
  // Read already (the service's command gate parses every delivery first): a route to 1 000 users is ~10 KB of JSON,
  // parsed again here for every batch it came in with (1.4 s in a 90 s sweep phase at 10 000 sessions).
  const known = parsedCommandIfKnown(input.delivery);
  if (known !== null) return { userId: known.userId, type: known.type };
  try {
    const json: unknown = JSON.parse(input.delivery.raw);
    if (typeof json !== 'object' || json === null) return null;
    const { userId, type } = json as { userId?: unknown; type?: unknown };
    return typeof userId === 'string' && typeof type === 'string' ? { userId, type } : null;
  } catch {
    return null;
  }
}

/**
 * Whether a command input was sent by one of `sourceIds` (the configured signal sources): the engine queues their
 * commands behind control work (Engine.submitCommands). Read as senderAndType reads it, so from the command gate's
 * parse where there was one.
 */
export function sentBySignalSource(input: Input, sourceIds: ReadonlySet<string>): boolean {
  if (input.kind !== 'command' || sourceIds.size === 0) return false;
  const sender = senderAndType(input);
  return sender !== null && sourceIds.has(sender.userId);
}

/**
 * Whether an input may be a signals.route, without parsing it: a batch with none keeps its order, and parsing every
 * command twice (here, then in decide) was a tenth of a command's cost. Only a route written with an escaped
 * type ("signals\u002eroute") slips past: it is decided all the same, in arrival order, as it would be if it came
 * alone; signal sources are configured (signalSourceIds), not anyone.
 */
function mayBeFanOut(input: Input): boolean {
  return input.kind === 'command' && input.delivery.raw.includes('signals.route');
}

/** The batch with control commands first, each user's own commands in their order (stable otherwise). */
export function controlFirst(inputs: readonly Input[]): Input[] {
  if (inputs.length < 2 || !inputs.some(mayBeFanOut)) return [...inputs];
  const control: Input[] = [];
  const rest: Input[] = [];
  /** Users with a command already left among the rest: their later commands stay behind it. */
  const usersInRest = new Set<string>();
  let fanOut = false;
  for (const input of inputs) {
    const command = senderAndType(input);
    if (command?.type === 'signals.route') fanOut = true;
    if (command && controlCommandTypes.has(command.type as CommandType) && !usersInRest.has(command.userId)) {
      control.push(input);
      continue;
    }
    if (command) usersInRest.add(command.userId);
    rest.push(input);
  }
  // Only a fan-out is worth jumping: a batch without a signals.route keeps its order (reads and starts are cheap).
  return control.length === 0 || !fanOut ? [...inputs] : [...control, ...rest];
}
