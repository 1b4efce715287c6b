import { setTimeout as sleep } from 'node:timers/promises';

/** Between two routes of the load (ms). */
const flipEveryMs = 500;

/**
 * Load for the zombie tests: a signals route every half second whose target weight flips sign (0.3, -0.3) on every
 * symbol, so every session keeps placing orders. `send` appends the round's route; `stop` ends the load after the
 * route in flight.
 */
export function flippingLoad(send: (round: number, weight: number) => Promise<unknown>): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    for (let round = 1; running; round += 1) {
      await send(round, round % 2 === 0 ? 0.3 : -0.3);
      await sleep(flipEveryMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}
