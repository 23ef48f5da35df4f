import { BallastError, createLogger, type Logger } from '@ballast/common';

export interface Running {
  /** Endpoints announced in the `ready` line (urls, sockets), for humans and the testkit. */
  endpoints: Record<string, string>;
  close(): Promise<void>;
}

export interface DaemonContext {
  log: Logger;
  /** Aborted when shutdown starts. */
  signal: AbortSignal;
}

const SHUTDOWN_GRACE_MS = 15_000;
const PARENT_CHECK_MS = 1_000;

/**
 * Runs one server role until SIGTERM/SIGINT: start it, announce `ready` with its endpoints on the
 * log (the testkit and `ballast dev up` wait for that line), shut down gracefully with a bound,
 * and exit non-zero with a clear message when start-up fails.
 */
export async function runDaemon(
  name: string,
  settings: { logLevel: string; logPretty?: boolean | undefined; parentPid?: number | undefined },
  start: (ctx: DaemonContext) => Promise<Running>,
): Promise<void> {
  const log = createLogger({ name, level: settings.logLevel, pretty: settings.logPretty });
  const abort = new AbortController();
  let running: Running | undefined;
  let stopping = false;

  const shutdown = async (reason: string, code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    abort.abort();
    log.info({ reason }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ graceMs: SHUTDOWN_GRACE_MS }, 'shutdown took too long; exiting');
      process.exit(code || 1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    try {
      await running?.close();
    } catch (err) {
      log.error({ err }, 'error during shutdown');
      code = code || 1;
    }
    log.info('stopped');
    log.flush();
    setImmediate(() => process.exit(code));
  };

  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.once('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    log.flush();
    process.exit(70);
  });
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled rejection');
    log.flush();
    process.exit(70);
  });

  const parentPid =
    settings.parentPid ??
    (process.env.BALLAST_PARENT_PID ? Number(process.env.BALLAST_PARENT_PID) : undefined);
  if (parentPid) {
    setInterval(() => {
      try {
        process.kill(parentPid, 0);
      } catch {
        void shutdown(`parent ${parentPid} is gone`, 0);
      }
    }, PARENT_CHECK_MS).unref();
  }

  try {
    running = await start({ log, signal: abort.signal });
  } catch (err) {
    const message =
      err instanceof BallastError ? err.message : ((err as Error).stack ?? String(err));
    log.fatal({ code: (err as BallastError).code }, `failed to start: ${message}`);
    log.flush();
    setImmediate(() => process.exit(1));
    return;
  }
  log.info({ endpoints: running.endpoints }, 'ready');
}
