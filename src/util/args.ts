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

/**
 * Resolves at the first SIGINT or SIGTERM (or after `runSeconds`, when positive) with why. The listeners stay for the
 * rest of the process: a second signal while the service closes its log is answered with a line, not with Node's
 * default (death by the signal, mid-close): with `process.once`, the first signal removed the only listener and any
 * later one killed. A CI run once saw `quant-engine all` die by SIGTERM where its test had sent one.
 */
export async function untilSignal(runSeconds: number): Promise<string> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.stderr.write(`${signal} again: already stopping (SIGKILL stops at once, without a clean close)\n`);
        return;
      }
      stopping = true;
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (runSeconds > 0)
      setTimeout(() => {
        stopping = true;
        resolve(`ran ${runSeconds} s`);
      }, runSeconds * 1000).unref();
  });
}
