import { GrammyError, HttpError } from 'grammy';

// Errors from grammY can carry the bot token (the request URL inside a network error) and request payloads.
// What we log of an error is rebuilt here from safe fields, with every known secret scrubbed out.

export interface SafeError {
  name: string;
  message: string;
  method?: string;
  errorCode?: number;
  description?: string;
}

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('[redacted]');
  // A token-shaped string (bot<digits>:<secret>) is redacted even when it is not one we know.
  return out.replace(/\d{5,}:[A-Za-z0-9_-]{20,}/g, '[redacted]');
}

export function safeError(error: unknown, secrets: readonly string[]): SafeError {
  if (error instanceof GrammyError) {
    return {
      name: 'GrammyError',
      message: scrub(error.message, secrets),
      method: error.method,
      errorCode: error.error_code,
      description: scrub(error.description, secrets),
    };
  }
  // HttpError's own message is already free of the token; its `error` (the network error) is not: left out.
  if (error instanceof HttpError) return { name: 'HttpError', message: scrub(error.message, secrets) };
  if (error instanceof Error) return { name: error.name, message: scrub(error.message, secrets) };
  return { name: 'unknown', message: scrub(String(error), secrets) };
}
