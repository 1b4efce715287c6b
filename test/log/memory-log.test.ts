import { openMemoryLog } from '../../src/log/memory-log.js';
import { contractLimits, logContract } from './contract.js';

logContract('in-memory', async () => {
  const log = openMemoryLog({ limits: contractLimits });
  // One process, one memory: a "second handle" is the same log (close is a no-op).
  return { log, reopen: () => Promise.resolve(log), cleanup: async () => {} };
});
