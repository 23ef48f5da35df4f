import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ChunkStore, Replica } from '@ballast/chunkstore';
import {
  StatusCode,
  statusName,
  type DataPlaneObserver,
  type DataPlaneOp,
  type DataPlaneServer,
} from '@ballast/dataplane';

/** From 50 µs (a page-cache hit) to 5 s (a stuck disk). */
const LATENCY_BUCKETS_SECONDS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5,
];
const OPS: DataPlaneOp[] = [
  'open',
  'read',
  'write',
  'flush',
  'trim',
  'zero',
  'chunk_map',
  'read_chunk',
  'write_chunk',
];
/** The volume label of requests naming a volume this node does not hold. */
const UNKNOWN_VOLUME = '_unknown';
/** Bound on distinct volume label values (a node holds far fewer replicas than this). */
const MAX_VOLUME_LABELS = 4096;

interface VolumeChildren {
  readOps: Counter.Internal;
  readBytes: Counter.Internal;
  writeOps: Counter.Internal;
  writtenBytes: Counter.Internal;
  fenced: Counter.Internal;
  sessions: Gauge.Internal<'volume'>;
  latency: Map<DataPlaneOp, Histogram.Internal<'volume' | 'op'>>;
}

export interface CapacityInfo {
  capacityBytes: number;
  usedBytes: number;
  freeBytes: number;
  provisionedBytes: number;
}

/**
 * The node's Prometheus metrics. Data-plane counters are fed per request through the server's
 * observer (label children are cached per volume, so a request costs a few increments); chunk
 * store counters are read when Prometheus scrapes. Every name has the `ballast_node_` prefix;
 * the registry adds `node` (and `role`) to every series.
 */
export class NodeMetrics {
  readonly observer: DataPlaneObserver;
  readonly #volumes = new Map<string, VolumeChildren>();
  readonly #readOps: Counter<'volume'>;
  readonly #readBytes: Counter<'volume'>;
  readonly #writeOps: Counter<'volume'>;
  readonly #writtenBytes: Counter<'volume'>;
  readonly #fenced: Counter<'volume'>;
  readonly #errors: Counter<'volume' | 'op' | 'status'>;
  readonly #latency: Histogram<'volume' | 'op'>;
  readonly #sessions: Gauge<'volume'>;
  readonly #rejected: Counter<'reason'>;
  readonly scrubbedBytes: Counter<'volume'>;
  readonly scrubErrors: Counter<'volume'>;
  readonly scrubPasses: Counter;

  readonly #known: (volumeId: string) => boolean;
  #server: DataPlaneServer<unknown> | undefined;

  /** The server whose connection count is exported (created after the metrics, which it feeds). */
  attachServer(server: DataPlaneServer<never>): void {
    this.#server = server as unknown as DataPlaneServer<unknown>;
  }

  constructor(registry: Registry, store: ChunkStore, capacity: () => CapacityInfo) {
    const server = (): DataPlaneServer<unknown> | undefined => this.#server;
    const registers = [registry];
    this.#known = (volumeId) => {
      try {
        return store.hasReplica(volumeId);
      } catch {
        return false;
      }
    };
    this.#readOps = new Counter({
      name: 'ballast_node_read_ops_total',
      help: 'Data-plane reads served successfully',
      labelNames: ['volume'],
      registers,
    });
    this.#readBytes = new Counter({
      name: 'ballast_node_read_bytes_total',
      help: 'Bytes returned by successful data-plane reads',
      labelNames: ['volume'],
      registers,
    });
    this.#writeOps = new Counter({
      name: 'ballast_node_write_ops_total',
      help: 'Data-plane writes applied successfully',
      labelNames: ['volume'],
      registers,
    });
    this.#writtenBytes = new Counter({
      name: 'ballast_node_written_bytes_total',
      help: 'Bytes applied by successful data-plane writes',
      labelNames: ['volume'],
      registers,
    });
    this.#fenced = new Counter({
      name: 'ballast_node_fenced_requests_total',
      help: 'Requests refused because their epoch is older than the volume epoch this node persisted',
      labelNames: ['volume'],
      registers,
    });
    this.#errors = new Counter({
      name: 'ballast_node_request_errors_total',
      help: 'Data-plane requests answered with a status other than OK',
      labelNames: ['volume', 'op', 'status'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'ballast_node_request_duration_seconds',
      help: 'Time from a request being dispatched to its response being queued',
      labelNames: ['volume', 'op'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.#sessions = new Gauge({
      name: 'ballast_node_open_sessions',
      help: 'Open data-plane sessions',
      labelNames: ['volume'],
      registers,
    });
    this.#rejected = new Counter({
      name: 'ballast_node_dataplane_rejected_connections_total',
      help: 'Data-plane connections refused or closed for cause (bad hello, protocol error, limit)',
      labelNames: ['reason'],
      registers,
    });
    this.scrubbedBytes = new Counter({
      name: 'ballast_node_scrubbed_bytes_total',
      help: 'Bytes verified against their checksums by the background scrub',
      labelNames: ['volume'],
      registers,
    });
    this.scrubErrors = new Counter({
      name: 'ballast_node_scrub_errors_total',
      help: 'Bad blocks found by the background scrub',
      labelNames: ['volume'],
      registers,
    });
    this.scrubPasses = new Counter({
      name: 'ballast_node_scrub_passes_total',
      help: 'Completed scrub passes over every replica',
      registers,
    });

    // Chunk-store counters are monotonic per replica; they are turned into counter increments
    // at scrape time (a replica deleted and recreated starts again from zero).
    const seen = new Map<string, { checksumErrors: number; repairedBlocks: number }>();
    const flushLatency = new Histogram({
      name: 'ballast_node_flush_duration_seconds',
      help: 'Replica flushes (fdatasync plus the index batch), as measured by the chunk store',
      labelNames: ['volume'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    const repaired = new Counter({
      name: 'ballast_node_repaired_blocks_total',
      help: 'Blocks rewritten from a good copy',
      labelNames: ['volume'],
      registers,
    });
    new Counter({
      name: 'ballast_node_checksum_errors_total',
      help: 'Blocks that failed their checksum (on read, rebuild or scrub)',
      labelNames: ['volume'],
      registers,
      collect() {
        let replicas;
        try {
          replicas = store.replicaStats();
        } catch {
          return; // the store is closed
        }
        for (const r of replicas) {
          const prev = seen.get(r.replicaId) ?? { checksumErrors: 0, repairedBlocks: 0 };
          const c = r.counters;
          const dErr =
            c.checksumErrors >= prev.checksumErrors
              ? c.checksumErrors - prev.checksumErrors
              : c.checksumErrors;
          const dRep =
            c.repairedBlocks >= prev.repairedBlocks
              ? c.repairedBlocks - prev.repairedBlocks
              : c.repairedBlocks;
          // inc(0) too: a replica's series exist from its first scrape, so rate() and alerts
          // see 0 rather than no data before a first error.
          this.inc({ volume: r.replicaId }, dErr);
          repaired.inc({ volume: r.replicaId }, dRep);
          seen.set(r.replicaId, {
            checksumErrors: c.checksumErrors,
            repairedBlocks: c.repairedBlocks,
          });
          if (r.state === 'open') {
            try {
              for (const ms of store.replica(r.replicaId).takeFlushLatencySamples()) {
                flushLatency.observe({ volume: r.replicaId }, ms / 1000);
              }
            } catch {
              // deleted meanwhile
            }
          }
        }
      },
    });
    const gauge = (name: string, help: string, read: (c: CapacityInfo) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          try {
            this.set(read(capacity()));
          } catch {
            // the store is closed
          }
        },
      });
    };
    gauge('ballast_node_capacity_bytes', 'Capacity this node offers', (c) => c.capacityBytes);
    gauge('ballast_node_used_bytes', 'Bytes replica files occupy on disk', (c) => c.usedBytes);
    gauge('ballast_node_free_bytes', 'Capacity still free for replicas', (c) => c.freeBytes);
    gauge(
      'ballast_node_provisioned_bytes',
      'Sum of replica sizes (thin provisioning: may exceed capacity)',
      (c) => c.provisionedBytes,
    );
    new Gauge({
      name: 'ballast_node_replicas',
      help: 'Replicas on this node by state',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        try {
          for (const r of store.listReplicas()) this.inc({ state: r.state });
        } catch {
          // the store is closed
        }
      },
    });
    // Snapshots (issue 16), per replica, read at scrape time.
    const snapshotStats = (): Array<{
      volume: string;
      stats: ReturnType<Replica['snapshotStats']>;
    }> => {
      const out: Array<{ volume: string; stats: ReturnType<Replica['snapshotStats']> }> = [];
      try {
        for (const r of store.listReplicas()) {
          if (r.state !== 'open') continue;
          try {
            out.push({ volume: r.replicaId, stats: store.replica(r.replicaId).snapshotStats() });
          } catch {
            // deleted meanwhile
          }
        }
      } catch {
        // the store is closed
      }
      return out;
    };
    new Gauge({
      name: 'ballast_node_snapshots',
      help: 'Snapshots each replica holds',
      labelNames: ['volume'],
      registers,
      collect() {
        this.reset();
        for (const { volume, stats } of snapshotStats()) this.set({ volume }, stats.snapshots);
      },
    });
    new Gauge({
      name: 'ballast_node_snapshot_bytes',
      help: 'Bytes kept for snapshots (chunk versions copied before a write changed them)',
      labelNames: ['volume'],
      registers,
      collect() {
        this.reset();
        for (const { volume, stats } of snapshotStats()) this.set({ volume }, stats.keptBytes);
      },
    });
    new Gauge({
      name: 'ballast_node_snapshot_copies',
      help: 'Copy-on-write copies of chunks made for snapshots since the node started',
      labelNames: ['volume'],
      registers,
      collect() {
        this.reset();
        for (const { volume, stats } of snapshotStats()) this.set({ volume }, stats.copies);
      },
    });
    new Gauge({
      name: 'ballast_node_dataplane_connections',
      help: 'Open data-plane connections',
      registers,
      collect() {
        this.set(server()?.stats().connections ?? 0);
      },
    });

    this.observer = {
      requestCompleted: (op, requestedVolume, status, bytes, durationSeconds) => {
        if (requestedVolume === undefined) return;
        // Ids of volumes this node does not hold come from clients: one label for all of them.
        const volumeId = this.#known(requestedVolume) ? requestedVolume : UNKNOWN_VOLUME;
        const v = this.#volume(volumeId);
        if (v === undefined) return;
        if (status === StatusCode.OK) {
          if (op === 'read') {
            v.readOps.inc();
            v.readBytes.inc(bytes);
          } else if (op === 'write') {
            v.writeOps.inc();
            v.writtenBytes.inc(bytes);
          }
        } else {
          if (status === StatusCode.FENCED) v.fenced.inc();
          this.#errors.inc({ volume: volumeId, op, status: statusName(status) });
        }
        v.latency.get(op)?.observe(durationSeconds);
      },
      // Sessions open only on replicas this node holds.
      sessionOpened: (volumeId) => this.#volume(volumeId)?.sessions.inc(),
      sessionClosed: (volumeId) => this.#volume(volumeId)?.sessions.dec(),
      connectionRejected: (reason) => this.#rejected.inc({ reason }),
    };
  }

  #volume(volumeId: string): VolumeChildren | undefined {
    let v = this.#volumes.get(volumeId);
    if (v !== undefined) return v;
    // Volume ids reach here only after the store knew them (session opened or refused by a
    // known replica), but bound the label set anyway.
    if (this.#volumes.size >= MAX_VOLUME_LABELS) return undefined;
    const labels = { volume: volumeId };
    v = {
      readOps: this.#readOps.labels(labels),
      readBytes: this.#readBytes.labels(labels),
      writeOps: this.#writeOps.labels(labels),
      writtenBytes: this.#writtenBytes.labels(labels),
      fenced: this.#fenced.labels(labels),
      sessions: this.#sessions.labels(labels),
      latency: new Map(OPS.map((op) => [op, this.#latency.labels({ volume: volumeId, op })])),
    };
    this.#volumes.set(volumeId, v);
    return v;
  }
}
