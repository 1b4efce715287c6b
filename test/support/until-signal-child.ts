import { setTimeout as sleep } from 'node:timers/promises';
import { untilSignal } from '../../src/util/args.js';

// A service's shape in miniature: wait for a signal, then a slow clean stop (1 s, as closing a log can take under
// load), then exit 0. until-signal.test.ts signals it again during that stop.

// A service's open sockets keep its process alive; here a timer does (signal listeners do not).
const alive = setInterval(() => undefined, 60_000);
process.stdout.write('waiting\n');
const why = await untilSignal(0);
process.stdout.write(`stopping (${why})\n`);
await sleep(1_000);
process.stdout.write('stopped\n');
clearInterval(alive);
