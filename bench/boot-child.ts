import { startEngineUnderTest } from './engine-under-test.js';

// One restart of the execution service in a fresh process (forked by boot.ts): from the call to
// startExecutionService until it is ready, on the log and paper exchange named in the environment.

const keyPrefix = process.env.BENCH_BOOT_PREFIX ?? '';
const restBaseUrl = process.env.BENCH_BOOT_REST_URL ?? '';
const wsBaseUrl = process.env.BENCH_BOOT_WS_URL ?? '';

const t = performance.now();
const engine = await startEngineUnderTest({ restBaseUrl, wsBaseUrl }, keyPrefix, { stopsOutOfReach: false });
process.send?.({ readyMs: Math.round(performance.now() - t), replayedEvents: engine.service.replayedEvents });
process.on('message', () => {
  engine.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
