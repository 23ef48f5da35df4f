import * as path from 'node:path';
import {
  LocalFileBackend,
  MountManager,
  RelayManager,
  chooseAttacher,
  type AgentLogger,
} from '../../src/index.js';
import {
  captureLogger,
  leftoversUnder,
  type Leftovers,
  type LogLine,
  type Teardown,
} from './env.js';

export interface Stack {
  dir: string;
  backend: LocalFileBackend;
  mounts: MountManager;
  relays: RelayManager | undefined;
  lines: LogLine[];
  logger: AgentLogger;
  /** Unmounts everything and closes the backend; returns what is left on the system. */
  shutdown(): Promise<Leftovers>;
}

/** LocalFileBackend + nbdfuse/loop attacher + relays + MountManager, all under `dir`. */
export async function makeStack(
  t: Teardown,
  dir: string,
  options: { relay?: boolean; host?: string } = {},
): Promise<Stack> {
  const { logger, lines } = captureLogger();
  const runDir = path.join(dir, 'run');
  const backend = await LocalFileBackend.open({ dataDir: path.join(dir, 'data'), runDir, logger });
  const attacher = await chooseAttacher('auto', {
    runDir,
    commandTimeoutMs: 20_000,
    logger,
    nbdTimeoutSeconds: 30,
    allowModprobe: false,
  });
  const relays =
    options.relay === false
      ? undefined
      : new RelayManager({ runDir, holdMs: 60_000, startTimeoutMs: 20_000, logger });
  const mounts = new MountManager({
    host: options.host ?? 'h1',
    backend,
    attacher,
    relays,
    stateDir: path.join(dir, 'state'),
    mountRoot: path.join(dir, 'mnt'),
    logger,
  });
  await mounts.recover();
  let done = false;
  const shutdown = async (): Promise<Leftovers> => {
    if (!done) {
      done = true;
      await mounts.unmountAll();
      await mounts.close();
      await backend.close();
    }
    return leftoversUnder(dir);
  };
  t.teardown(async () => {
    try {
      await shutdown();
    } catch {
      // tempDir's cleanup removes whatever is left
    }
  });
  return { dir, backend, mounts, relays, lines, logger, shutdown };
}
