import { setTimeout as sleep } from 'node:timers/promises';
import { listenForStop } from '../../src/util/args.js';

// A service's shape in miniature: listen for a stop, set up (SETUP_MS, 0 unless given), say it is ready ("waiting"),
// wait for the stop, then a slow clean stop (1 s, as closing a log can take under load), then exit 0.
// until-signal.test.ts signals it during the setup, and again during the stop.

// A service's open sockets keep its process alive; here a timer does (signal listeners do not).
const alive = setInterval(() => undefined, 60_000);
const stop = listenForStop();
process.stdout.write('setting up\n');
await sleep(Number(process.env.SETUP_MS ?? 0));
process.stdout.write('waiting\n');
const why = await stop.until(0);
process.stdout.write(`stopping (${why})\n`);
await sleep(1_000);
process.stdout.write('stopped\n');
clearInterval(alive);
