// Whether an engine that claimed a log is certainly not running any more: a claim names its process by host name and
// pid (src/log/sqlite-writer.ts, src/services/execution/redis-writer.ts). A SIGKILLed engine leaves its claim behind,
// and the next start must not wait for it to go stale.

/** Whether a process with this pid exists on this host (EPERM: it does, another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the claim's process is gone: on this host, no process has its pid, or this process has it (a container
 * restarted: the engine is pid 1 again, and its last run's claim names pid 1 on the same host name; a process
 * claims its log once, so a claim naming this very process is an earlier run's). On another host nothing is known.
 */
export function claimantGone(claimant: { host: string; pid: number }, host: string): boolean {
  return claimant.host === host && (claimant.pid === process.pid || !processAlive(claimant.pid));
}
