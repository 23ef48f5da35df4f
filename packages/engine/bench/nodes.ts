// Starts storage-node processes (bench/node-process.ts) on fixed loopback ports, so a killed node
// comes back at the same address. Used by the bench entry point and the end-to-end tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, freePort } from '@ballast/testkit';

export interface NodeProcess {
  id: string;
  address: string;
  dataDir: string;
  process: ManagedProcess;
}

export interface StartNodesOptions {
  dir: string;
  count: number;
  clusterId: string;
  secret: string;
  /** Replicas every node creates at start (the stand-in for what the map tells a node). */
  replicas: Array<{ volumeId: string; sizeBytes: number; chunkSizeBytes: number }>;
  /** Node i holds the replicas when this returns true (default: every node). */
  holds?: (index: number) => boolean;
  logLevel?: string;
  /** Scrub off unless set: benchmarks should not compete with it. */
  scrubBytesPerSecond?: number;
}

const launcher = new URL('./node-process.js', import.meta.url).pathname;
/** Extra Node options for the node processes (profiling: `--cpu-prof --cpu-prof-dir=DIR`). */
const nodeArgs = (process.env.BALLAST_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');

export async function startNodes(options: StartNodesOptions): Promise<NodeProcess[]> {
  const nodes: NodeProcess[] = [];
  try {
    for (let i = 0; i < options.count; i++) {
      const id = `n${i + 1}`;
      const dataDir = join(options.dir, id);
      mkdirSync(dataDir, { recursive: true });
      const port = await freePort();
      const address = `127.0.0.1:${port}`;
      const configPath = join(options.dir, `${id}.json`);
      writeFileSync(
        configPath,
        JSON.stringify({
          id,
          dataDir,
          listen: address,
          clusterId: options.clusterId,
          dataPlaneSecret: options.secret,
          scrubBytesPerSecond: options.scrubBytesPerSecond ?? 0,
          logLevel: options.logLevel ?? 'warn',
          replicas: options.holds === undefined || options.holds(i) ? options.replicas : [],
        }),
      );
      const proc = new ManagedProcess({
        id,
        command: process.execPath,
        args: [...nodeArgs, launcher, configPath],
        env: { ...process.env, BALLAST_PARENT_PID: String(process.pid) },
        logFile: join(options.dir, `${id}.log`),
        readyWhen: (_line, json) => (json?.msg === 'ready' ? json.endpoints : undefined),
        readyTimeoutMs: 60_000,
      });
      nodes.push({ id, address, dataDir, process: proc });
      await proc.start();
    }
  } catch (err) {
    await stopNodes(nodes);
    throw err;
  }
  return nodes;
}

export async function stopNodes(nodes: readonly NodeProcess[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.process.stop(10_000).catch(() => undefined)));
}
