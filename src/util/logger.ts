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

const levelNames: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields of pino's own that a console line does not repeat (nor a record forwarded from another thread). */
export const pinoFields = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

/**
 * One readable line from a pino JSON record: time, level, message, then the other fields as key=value. An error's
 * stack only when `withStacks` (LOG_LEVEL=debug): a console for people, not a crash dump.
 */
export function consoleLine(json: string, withStacks: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString() : '';
  const level = levelNames[Number(record.level)] ?? String(record.level);
  const parts = [time, level, String(record.msg ?? '')];
  for (const [key, value] of Object.entries(record)) {
    if (pinoFields.has(key)) continue;
    if (key === 'err' && value !== null && typeof value === 'object') {
      const err = value as { message?: unknown; stack?: unknown };
      parts.push(`err="${String(err.message ?? '')}"`);
      if (withStacks && typeof err.stack === 'string') parts.push(`\n${err.stack}`);
      continue;
    }
    parts.push(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  return parts.filter((p) => p.length > 0).join(' ');
}

/** A logger for a terminal: the same records as createLogger's, each printed as one readable line (see consoleLine). */
export function createConsoleLogger(name: string, level: string, write: (line: string) => void): Logger {
  const withStacks = level === 'debug' || level === 'trace';
  const destination = {
    write(chunk: string): void {
      for (const json of chunk.split('\n')) if (json.length > 0) write(consoleLine(json, withStacks));
    },
  };
  return pino({ name, level, redact: { paths: redactedPaths, censor: '[redacted]' } }, destination);
}
