// A one-shot command whose output is piped into a reader that stops early (`quant-engine cli inspect wal | head`)
// gets EPIPE on its next write. Unhandled, Node printed a stack trace and exited 1 although nothing went wrong: the
// reader has what it wanted. Such a command now ends there, quietly, with the exit code it had so far (0 if none).
// Only one-shot commands (cli, backtest, doctor) install this: a service's output is its log, and the service goes on.

let installed = false;

export function endQuietlyOnClosedPipe(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
}
