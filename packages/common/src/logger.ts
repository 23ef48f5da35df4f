import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export interface LoggerSettings {
  /** Process role and id, e.g. `meta/m1`; becomes the `name` field of every line. */
  name: string;
  level?: string;
  /** Pretty output; defaults to true when stdout is a terminal (JSON lines otherwise). */
  pretty?: boolean;
  /** Write to this file descriptor instead of stdout (tests use 2). */
  destination?: number | string;
}

// Keys that may carry secrets. Redaction keeps tokens out of logs whatever the caller logs.
const REDACT = [
  'token',
  'secret',
  'password',
  'authorization',
  '*.token',
  '*.secret',
  '*.password',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  // Named secrets of the configuration (a config dump, an options object in an error).
  'joinToken',
  'adminToken',
  'clusterSecret',
  'dataPlaneSecret',
  '*.joinToken',
  '*.adminToken',
  '*.clusterSecret',
  '*.dataPlaneSecret',
  'req.headers["x-ballast-auth"]',
  'headers["x-ballast-auth"]',
];

export function createLogger(settings: LoggerSettings): Logger {
  const pretty = settings.pretty ?? Boolean(process.stdout.isTTY);
  const options: LoggerOptions = {
    name: settings.name,
    level: settings.level ?? process.env.BALLAST_LOG_LEVEL ?? 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  if (pretty) {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  const dest = pino.destination({ dest: settings.destination ?? 1, sync: false });
  return pino(options, dest);
}
