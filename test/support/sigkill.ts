import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** SIGKILLs a child process (no clean shutdown) and waits until it is gone; nothing when it already exited. */
export async function sigkill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
