// pino, as JSON for machines; human-readable when attached to a terminal. Secrets are
// redacted by path wherever they could appear in a log line.
import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export const REDACTED_PATHS = [
  'secret', '*.secret', 'previousSecret', '*.previousSecret', 'password', '*.password',
  // API keys and the encryption key, e.g. in a logged Config.
  'apiKey', '*.apiKey', 'encryptionKey', '*.encryptionKey',
  'authorization', 'headers.authorization', '*.headers.authorization',
  'req.headers["x-hub-signature-256"]', 'headers["x-hub-signature-256"]', '*.headers["x-hub-signature-256"]',
  'req.headers["webhook-signature"]', 'headers["webhook-signature"]', '*.headers["webhook-signature"]',
  // A subscription's custom header values may be credentials.
  'subscription.headers', '*.subscription.headers',
];

export function createLogger(level: LogLevel, options: { pretty?: boolean; destination?: pino.DestinationStream } = {}): Logger {
  const pretty = options.pretty ?? (process.stdout.isTTY === true && !options.destination);
  const base = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { service: 'hookd' } };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } });
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}
