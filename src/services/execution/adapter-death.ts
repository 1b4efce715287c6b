import type { Logger } from '../../util/logger.js';

/**
 * What a service does when its exchange adapter's thread dies (threaded/connector.ts): what it sent meanwhile is
 * unknown and its streams are gone, so, as for any state it cannot trust (service.ts's default onFatal), it exits and
 * its supervisor boots it again from the log, which reconciles every unknown order with the exchange.
 */
export function exitOnAdapterDeath(logger: Logger): (error: Error) => void {
  return (error) => {
    logger.fatal({ err: error }, 'exchange adapter thread died; exiting to boot again from the log');
    process.exit(1);
  };
}
