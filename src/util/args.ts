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

export async function untilSignal(runSeconds: number): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string): void => resolve(why);
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
    if (runSeconds > 0) setTimeout(() => done(`ran ${runSeconds} s`), runSeconds * 1000).unref();
  });
}
