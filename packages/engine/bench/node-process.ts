// Runs one storage node (startStorageNode, as `ballastd node` will) until SIGTERM: for the bench
// entry point and the end-to-end tests. argv[2] is a JSON file: a StorageNodeConfig plus
// `replicas` to ensure at start (what the cluster map will tell a node) and `logLevel`.
// Prints one JSON line {"msg":"ready","endpoints":{...}} on stdout once it serves.
import { readFileSync } from 'node:fs';
import { createLogger } from '@ballast/common';
import { startStorageNode, type StorageNodeConfig } from '@ballast/node';

interface LauncherConfig extends StorageNodeConfig {
  logLevel?: string;
  replicas?: Array<{ volumeId: string; sizeBytes: number; chunkSizeBytes?: number }>;
}

const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: node-process.js CONFIG.json\n');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8')) as LauncherConfig;
const log = createLogger({
  name: `node/${config.id}`,
  level: config.logLevel ?? 'info',
  pretty: false,
});

// Die with the parent (a test or the bench server), whatever happens to it.
const parentPid = Number(process.env.BALLAST_PARENT_PID ?? 0);
if (parentPid > 0) {
  setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch {
      process.exit(0);
    }
  }, 500).unref();
}

const node = await startStorageNode(config, log);
for (const r of config.replicas ?? []) {
  await node.replicas.ensure(r.volumeId, {
    sizeBytes: r.sizeBytes,
    ...(r.chunkSizeBytes ? { chunkSizeBytes: r.chunkSizeBytes } : {}),
  });
}
// Written directly (not through the logger) so it appears whatever the log level.
process.stdout.write(
  `${JSON.stringify({ msg: 'ready', id: config.id, endpoints: node.endpoints })}\n`,
);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  node.close().then(
    () => {
      log.flush();
      setImmediate(() => process.exit(0));
    },
    (err: unknown) => {
      log.error({ err }, 'error during shutdown');
      log.flush();
      setImmediate(() => process.exit(1));
    },
  );
});
