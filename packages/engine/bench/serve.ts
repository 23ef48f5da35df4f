// Serves one replicated volume (a VolumeEngine over the TCP data plane) through @ballast/nbd on a
// unix socket: the benchmark's target (c) and the agent stand-in of the end-to-end tests.
//
// Standalone (starts its own storage-node processes and an in-process cluster map):
//   node dist/bench/serve.js --socket /tmp/vol.sock --start-nodes 3 --replicas 3 --size 1GiB
// Against a running cluster (meta's REST API; the volume must be attached already):
//   node dist/bench/serve.js --socket /tmp/vol.sock --meta-url http://127.0.0.1:7000 \
//     --token $T --volume-name pgdata --secret-file /etc/ballast/secret
//
// Prints one JSON line {"ready":true,"socket":...,"nodePids":[...],"epoch":...} when it serves,
// then serves until SIGTERM (a clean detach: NBD connections drain, the engine flushes).
//
// Snapshots (the snapshot benchmark, bench/src/snapshots.ts):
//   --snapshots N          before serving, take N snapshots through the engine, writing
//                          --snapshot-writes K random 4 KiB blocks (default 4) before each, so
//                          the snapshots are not all empty
//   --snapshot-every-ms MS while serving, take a snapshot every MS (the next one starts MS after
//                          the previous one started, or at once if it took longer) and record
//                          its write pause; on SIGTERM the list goes to --pause-file as JSON;
//                          with --snapshot-on-signal they run only between one SIGUSR1 and
//                          the next (the harness brackets its measurement with them)
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BallastError, createLogger, parseSize } from '@ballast/common';
import {
  DirectControlPlane,
  DirectMetaStore,
  type Command,
  type NodeRecord,
  type VolumeRecord,
} from '@ballast/meta';
import { NbdServer } from '@ballast/nbd';
import { startStorageNode, type StorageNode } from '@ballast/node';
import { remoteSessionFactory } from '@ballast/dataplane';
import { LocalSession } from '@ballast/session';
import { MetaControlPlane } from '@ballast/meta-client';
import { VolumeEngine, type ControlPlane } from '../src/index.js';
import { startNodes, stopNodes, type NodeProcess } from './nodes.js';

const USAGE = `usage: serve.js --socket PATH (--start-nodes N [--replicas R] [--size S] [--chunk-size C] [--dir D]
                  | --meta-url URL --token T --volume-name NAME (--secret S | --secret-file F))
       [--export-name NAME] [--cluster-id ID] [--no-multi-conn] [--no-batch-while-busy]
       [--replica-timeout-ms MS] [--in-process-node]
       [--prefer-node ID] [--log-level LEVEL]
       [--snapshots N [--snapshot-writes K]] [--snapshot-every-ms MS [--snapshot-on-signal] --pause-file F]
`;

const { values } = parseArgs({
  options: {
    socket: { type: 'string' },
    'start-nodes': { type: 'string' },
    replicas: { type: 'string' },
    size: { type: 'string', default: '1GiB' },
    'chunk-size': { type: 'string', default: '4MiB' },
    dir: { type: 'string' },
    'meta-url': { type: 'string' },
    token: { type: 'string' },
    'volume-name': { type: 'string' },
    secret: { type: 'string' },
    'secret-file': { type: 'string' },
    'export-name': { type: 'string', default: '' },
    'cluster-id': { type: 'string', default: 'ballast' },
    'no-multi-conn': { type: 'boolean', default: false },
    'no-batch-while-busy': { type: 'boolean', default: false },
    'replica-timeout-ms': { type: 'string', default: '10000' },
    'prefer-node': { type: 'string', multiple: true },
    'in-process-node': { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'warn' },
    snapshots: { type: 'string', default: '0' },
    'snapshot-writes': { type: 'string', default: '4' },
    'snapshot-every-ms': { type: 'string' },
    'pause-file': { type: 'string' },
    'snapshot-on-signal': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help || values.socket === undefined) {
  process.stdout.write(USAGE);
  process.exit(values.help ? 0 : 2);
}

const startupSnapshots = Number(values.snapshots);
const snapshotWrites = Number(values['snapshot-writes']);
const snapshotEveryMs =
  values['snapshot-every-ms'] === undefined ? 0 : Number(values['snapshot-every-ms']);
if (
  !Number.isInteger(startupSnapshots) ||
  startupSnapshots < 0 ||
  !Number.isInteger(snapshotWrites) ||
  snapshotWrites < 0 ||
  !Number.isInteger(snapshotEveryMs) ||
  snapshotEveryMs < 0
) {
  process.stderr.write(
    `--snapshots, --snapshot-writes and --snapshot-every-ms must be non-negative integers\n${USAGE}`,
  );
  process.exit(2);
}

const log = createLogger({
  name: 'engine/serve',
  level: values['log-level']!,
  pretty: false,
  destination: 2,
});
const clusterId = values['cluster-id']!;
let nodes: NodeProcess[] = [];
let scratch: string | undefined;
let control: ControlPlane;
let volume: VolumeRecord;
let addresses: Map<string, string>;
let secret: string;

async function jsonGet<T>(url: string, token: string): Promise<T> {
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as T & { detail?: string; code?: string };
  if (!response.ok) {
    throw new BallastError('UNAVAILABLE', `GET ${url}: ${response.status} ${body.detail ?? ''}`);
  }
  return body;
}

if (values['start-nodes'] !== undefined) {
  const count = Number(values['start-nodes']);
  const replicas = Number(values.replicas ?? count);
  if (
    !Number.isInteger(count) ||
    count < 1 ||
    !Number.isInteger(replicas) ||
    replicas < 1 ||
    replicas > count
  ) {
    process.stderr.write(`--start-nodes must be >= 1 and --replicas 1..start-nodes\n${USAGE}`);
    process.exit(2);
  }
  const sizeBytes = parseSize(values.size!, '--size');
  const chunkSizeBytes = parseSize(values['chunk-size']!, '--chunk-size');
  scratch = values.dir ?? mkdtempSync(join(tmpdir(), 'ballast-serve-'));
  secret = randomBytes(32).toString('hex');
  const volumeId = 'bench-vol';
  nodes = await startNodes({
    dir: scratch,
    count,
    clusterId,
    secret,
    replicas: [{ volumeId, sizeBytes, chunkSizeBytes }],
    holds: (i) => i < replicas,
  });
  const meta = new DirectMetaStore();
  const propose = async (command: Command): Promise<void> => {
    const result = await meta.propose(command);
    if (!result.ok) throw new BallastError(result.error.code, result.error.message);
  };
  for (const [i, n] of nodes.entries()) {
    await propose({
      type: 'registerNode',
      at: Date.now(),
      nodeId: n.id,
      address: n.address,
      labels: { zone: 'local', host: `bench-host-${i + 1}` },
      capacityBytes: 2 ** 42,
      usedBytes: 0,
    });
  }
  await propose({
    type: 'createVolume',
    at: Date.now(),
    volumeId,
    name: 'bench',
    sizeBytes,
    chunkSizeBytes,
    desiredReplicas: replicas,
    constraints: { nodeSelector: {}, zoneSpread: 'preferred' },
    fs: 'ext4',
    replicaNodeIds: nodes.slice(0, replicas).map((n) => n.id),
  });
  await propose({
    type: 'attachVolume',
    at: Date.now(),
    volumeId,
    host: 'bench-agent',
    force: false,
  });
  volume = meta.map.getVolume(volumeId)!;
  addresses = new Map(nodes.map((n) => [n.id, n.address]));
  control = new DirectControlPlane(meta);
} else {
  const metaUrl = values['meta-url'];
  const token = values.token;
  const name = values['volume-name'];
  if (metaUrl === undefined || token === undefined || name === undefined) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  secret =
    values.secret ??
    (values['secret-file']
      ? readFileSync(values['secret-file'], 'utf8').replace(/\r?\n$/, '')
      : '');
  if (secret === '') {
    process.stderr.write('--secret or --secret-file is required with --meta-url\n');
    process.exit(2);
  }
  volume = await jsonGet<VolumeRecord>(`${metaUrl}/v1/volumes/${encodeURIComponent(name)}`, token);
  addresses = new Map();
  for (const r of volume.replicas) {
    const node = await jsonGet<NodeRecord>(
      `${metaUrl}/v1/nodes/${encodeURIComponent(r.nodeId)}`,
      token,
    );
    addresses.set(node.id, node.address);
  }
  control = new MetaControlPlane({ apiUrls: [metaUrl], token });
}

if (volume.attachment === null) {
  process.stderr.write(`volume ${volume.name} is not attached\n`);
  process.exit(1);
}
const replicaTimeoutMs = Number(values['replica-timeout-ms']);
// The agent's embedded node (`ballastd agent --node-data-dir`): the first storage node runs
// inside this process and the engine reaches its replica through the node's handler
// (LocalSession, what the agent uses), with no socket; the other replicas stay on the
// data plane. The node process created its replica and is stopped first (it holds the store's lock),
// then the same node is started here from its config.
let inProcess: StorageNode | undefined;
if (values['in-process-node'] && nodes.length > 0) {
  const n1 = nodes[0]!;
  await n1.process.stop(10_000);
  const {
    replicas: _replicas,
    logLevel: _logLevel,
    ...config
  } = JSON.parse(readFileSync(join(scratch!, 'n1.json'), 'utf8')) as Parameters<
    typeof startStorageNode
  >[0] & { replicas?: unknown; logLevel?: unknown };
  inProcess = await startStorageNode(config, log);
}
const remote = remoteSessionFactory({
  addressOf: (nodeId) => {
    const address = addresses.get(nodeId);
    if (address === undefined) throw new BallastError('NOT_FOUND', `no address for ${nodeId}`);
    return address;
  },
  clusterId,
  clientId: 'bench-agent',
  secret,
  requestTimeoutMs: replicaTimeoutMs * 2,
  batchWhileBusy: !values['no-batch-while-busy'],
});
const engine = await VolumeEngine.open({
  volume,
  epoch: volume.attachment.epoch,
  connect: (nodeId, session) =>
    inProcess !== undefined && nodeId === 'n1'
      ? LocalSession.open(nodeId, inProcess.replicaStore, session, {
          clientId: 'bench-agent',
          remoteAddress: 'in-process',
        })
      : remote(nodeId, session),
  controlPlane: control,
  replicaTimeoutMs,
  // Reads prefer the local replica, as the agent's engine would with its own node.
  preferredNodeIds: values['prefer-node'] ?? (inProcess !== undefined ? ['n1'] : []),
  logger: log,
});

// Snapshots taken before serving: K random 4 KiB writes, then a snapshot, N times.
let nextSeq = 1;
let setup: Record<string, number> | undefined;
if (startupSnapshots > 0) {
  const started = performance.now();
  const blocks = Math.floor(engine.sizeBytes / 4096);
  const pauses: number[] = [];
  for (let i = 0; i < startupSnapshots; i++) {
    await Promise.all(
      Array.from({ length: snapshotWrites }, () =>
        engine.writeAt(randomInt(blocks) * 4096, randomBytes(4096)),
      ),
    );
    pauses.push((await engine.snapshot(nextSeq++)).pauseMs);
  }
  engine.takeSnapshotPauses();
  pauses.sort((a, b) => a - b);
  setup = {
    snapshots: startupSnapshots,
    writesPerSnapshot: snapshotWrites,
    setupMs: Math.round(performance.now() - started),
    pauseP50Ms: quantile(pauses, 0.5),
    pauseP99Ms: quantile(pauses, 0.99),
  };
  process.stderr.write(`${JSON.stringify({ startupSnapshots: setup })}\n`);
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const exportName = values['export-name']!;
const server = new NbdServer();
server.addExport(exportName || 'volume', engine, {
  description: `ballast volume ${volume.name}`,
  multiConn: !values['no-multi-conn'],
});
await server.listenUnix(values.socket, { defaultExport: exportName || 'volume' });
process.stdout.write(
  `${JSON.stringify({
    ready: true,
    socket: values.socket,
    volume: volume.name,
    epoch: volume.attachment.epoch,
    replicas: volume.replicas.map((r) => r.nodeId),
    // A node running in this process has no pid of its own (its CPU counts as this process's).
    nodePids: nodes
      .filter((n) => inProcess === undefined || n.id !== 'n1')
      .map((n) => n.process.pid),
    ...(setup !== undefined ? { startupSnapshots: setup } : {}),
  })}\n`,
);

// Periodic snapshots while serving: one at a time, each started `snapshotEveryMs` after the
// previous one started (at once when that one took longer).
interface PauseRecord {
  seq: number;
  /** Wall-clock ms when the snapshot call started and when it resolved. */
  startMs: number;
  endMs: number;
  pauseMs: number;
}
let stopping = false;
const periodic: PauseRecord[] = [];
const periodicErrors: string[] = [];
let snapshotTimer: NodeJS.Timeout | undefined;
let snapshotRunning: Promise<void> | undefined;
function scheduleSnapshot(delayMs: number): void {
  snapshotTimer = setTimeout(() => {
    const seq = nextSeq++;
    const startMs = Date.now();
    snapshotRunning = engine.snapshot(seq).then(
      (r) => {
        periodic.push({ seq, startMs, endMs: Date.now(), pauseMs: r.pauseMs });
      },
      (err: unknown) => {
        periodicErrors.push(`${seq}: ${(err as Error).message}`);
      },
    );
    void snapshotRunning.then(() => {
      snapshotRunning = undefined;
      if (!stopping && periodicOn) {
        scheduleSnapshot(Math.max(0, snapshotEveryMs - (Date.now() - startMs)));
      }
    });
  }, delayMs);
}
let periodicOn = snapshotEveryMs > 0 && !values['snapshot-on-signal'];
if (periodicOn) scheduleSnapshot(snapshotEveryMs);
if (snapshotEveryMs > 0 && values['snapshot-on-signal']) {
  // SIGUSR1 starts periodic snapshots, the next one stops them, and so on.
  process.on('SIGUSR1', () => {
    periodicOn = !periodicOn;
    if (!periodicOn) clearTimeout(snapshotTimer);
    else if (snapshotRunning === undefined) scheduleSnapshot(snapshotEveryMs);
  });
}

async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  let code = 0;
  clearTimeout(snapshotTimer);
  await snapshotRunning;
  engine.takeSnapshotPauses();
  if (values['pause-file'] !== undefined) {
    writeFileSync(
      values['pause-file'],
      JSON.stringify({ everyMs: snapshotEveryMs, pauses: periodic, errors: periodicErrors }),
    );
  }
  try {
    await server.close();
    await engine.close();
    process.stderr.write(`${JSON.stringify({ engineStats: summary() })}\n`);
  } catch (err) {
    log.error({ err }, 'error while stopping');
    code = 1;
  }
  await inProcess?.close();
  await stopNodes(nodes);
  if (scratch !== undefined && values.dir === undefined)
    rmSync(scratch, { recursive: true, force: true });
  process.exit(code);
}

function summary(): unknown {
  const s = engine.stats();
  return {
    state: s.state,
    ops: s.ops,
    readFallbacks: s.readFallbacks,
    readRepairs: s.readRepairs,
    replicaWriteFailures: s.replicaWriteFailures,
    replicasMarkedOutOfSync: s.replicasMarkedOutOfSync,
    replicas: s.replicas.map((r) => ({ nodeId: r.nodeId, role: r.role, state: r.state })),
  };
}

// The testkit's process hook would SIGKILL the nodes and exit at once on these signals; this
// process stops them gracefully itself (its exit hook still kills them if this process dies).
process.removeAllListeners('SIGTERM');
process.removeAllListeners('SIGINT');
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
// SIGUSR2: print the engine's counters without stopping.
process.on('SIGUSR2', () =>
  process.stderr.write(`${JSON.stringify({ engineStats: summary() })}\n`),
);
