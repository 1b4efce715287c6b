/** `--name value` and `--flag` pairs → record; unknown shapes are left to the caller to reject. */
export function parseFlags(argv: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === undefined || !arg.startsWith('--')) throw new Error(`unexpected argument: ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (inline !== undefined) flags[name] = inline;
    else if (argv[i + 1] !== undefined && !argv[i + 1]?.startsWith('--')) flags[name] = argv[++i] ?? '';
    else flags[name] = 'true';
  }
  return flags;
}

/** A service's stop: asked for by a signal, or due after a run of a set length. */
export interface StopLatch {
  /** Resolves with why the service stops: the first SIGINT or SIGTERM (also one that came before), or `runSeconds` after this call when positive. */
  until(runSeconds: number): Promise<string>;
}

/**
 * Listens for SIGINT and SIGTERM from now on: a service calls it first, before its setup, and awaits `until` once set
 * up. The listeners stay for the rest of the process: a second signal while the service closes its log is answered
 * with a line, not with Node's default (death by the signal, mid-close): with `process.once`, the first signal removed
 * the only listener and any later one killed. And they are there from the start: a signal before them (a Ctrl-C during
 * a slow start, or a test's SIGTERM on reading the "ready" line printed just before them, since a pipe's write is
 * synchronous on Linux) got Node's default too. A CI run once saw `quant-engine all` die by SIGTERM where its test had
 * sent one, and another a test's child die the same way (test/util/until-signal.test.ts).
 */
export function listenForStop(): StopLatch {
  let stopping = false;
  let signalled: string | null = null;
  let wake: ((why: string) => void) | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`${signal} again: already stopping (SIGKILL stops at once, without a clean close)\n`);
      return;
    }
    stopping = true;
    signalled = signal;
    wake?.(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    until(runSeconds) {
      if (signalled !== null) return Promise.resolve(signalled);
      return new Promise((resolve) => {
        wake = resolve;
        if (runSeconds > 0)
          setTimeout(() => {
            if (stopping) return;
            stopping = true;
            resolve(`ran ${runSeconds} s`);
          }, runSeconds * 1000).unref();
      });
    },
  };
}
