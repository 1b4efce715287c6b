import pino from 'pino';

// Secrets must never reach a log line: redact every field that could carry one, wherever it is nested.
export const redactedPaths = [
  'apiKey',
  'apiSecret',
  'secret',
  'token',
  'botToken',
  'password',
  '*.apiKey',
  '*.apiSecret',
  '*.secret',
  '*.token',
  '*.botToken',
  '*.password',
  'headers["x-mbx-apikey"]',
];

export type Logger = pino.Logger;

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, redact: { paths: redactedPaths, censor: '[redacted]' } });
}

/** A logger that drops everything: for tests and benchmarks that assert on behaviour, not output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
