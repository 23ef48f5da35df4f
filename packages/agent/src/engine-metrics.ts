import type { Metric, Registry } from 'prom-client';
import {
  LATENCY_BUCKETS_SECONDS,
  type EngineStats,
  type HistogramSnapshot,
  type OpKind,
} from '@ballast/engine';

const OPS: readonly OpKind[] = ['read', 'write', 'trim', 'zero', 'flush', 'snapshot'];
/** Totals of detached volumes are kept so counters never go back; bounded. */
const MAX_RETIRED_VOLUMES = 1024;

interface Totals {
  ops: Record<OpKind, { ops: number; bytes: number; errors: number }>;
  latency: Record<OpKind, { counts: number[]; sumSeconds: number; count: number }>;
  replicaWriteFailures: number;
  replicasMarkedOutOfSync: number;
  readRepairs: number;
  readFallbacks: number;
  rebuildCopiedBytes: number;
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

type MetricType = 'counter' | 'gauge' | 'histogram';

/**
 * Prometheus metrics of the volume engines, read from `VolumeEngine.stats()` at scrape time (the
 * engine keeps plain counters and fixed-bucket histograms; nothing on the I/O path touches
 * prom-client). Counters of a volume continue across detach and attach: the totals of a closed
 * engine are folded into the volume's base.
 */
export class EngineMetrics {
  private readonly retired = new Map<string, Totals>();
  private readonly names: string[] = [];

  constructor(
    private readonly registry: Registry,
    private readonly liveEngines: () => Array<{ volume: string; stats: EngineStats }>,
  ) {
    const perOp = (pick: (t: Totals, op: OpKind) => number) => (): MetricValue[] =>
      this.totals().flatMap(({ volume, totals }) =>
        OPS.map((op) => ({ value: pick(totals, op), labels: { volume, op } })),
      );
    const perVolume = (pick: (t: Totals) => number) => (): MetricValue[] =>
      this.totals().map(({ volume, totals }) => ({ value: pick(totals), labels: { volume } }));
    this.add(
      'ballast_agent_volume_ops_total',
      'Completed block requests',
      'counter',
      perOp((t, op) => t.ops[op].ops),
    );
    this.add(
      'ballast_agent_volume_bytes_total',
      'Bytes read, written, trimmed or zeroed',
      'counter',
      perOp((t, op) => t.ops[op].bytes),
    );
    this.add(
      'ballast_agent_volume_errors_total',
      'Block requests that failed',
      'counter',
      perOp((t, op) => t.ops[op].errors),
    );
    this.add(
      'ballast_agent_volume_op_duration_seconds',
      'Block request latency in the engine',
      'histogram',
      () =>
        this.totals().flatMap(({ volume, totals }) =>
          OPS.flatMap((op) =>
            histogramValues(
              'ballast_agent_volume_op_duration_seconds',
              { volume, op },
              totals.latency[op],
            ),
          ),
        ),
    );
    this.add(
      'ballast_agent_volume_replica_write_failures_total',
      'Writes a replica failed (it then leaves the in-sync set)',
      'counter',
      perVolume((t) => t.replicaWriteFailures),
    );
    this.add(
      'ballast_agent_volume_replicas_marked_out_of_sync_total',
      "Replicas meta removed from the in-sync set on this engine's request",
      'counter',
      perVolume((t) => t.replicasMarkedOutOfSync),
    );
    this.add(
      'ballast_agent_volume_read_repairs_total',
      'Ranges rewritten on a replica from a good copy after a checksum mismatch',
      'counter',
      perVolume((t) => t.readRepairs),
    );
    this.add(
      'ballast_agent_volume_read_fallbacks_total',
      'Reads served by another replica after one failed',
      'counter',
      perVolume((t) => t.readFallbacks),
    );
    this.add(
      'ballast_agent_volume_in_flight',
      'Block requests in flight in the engine',
      'gauge',
      () =>
        this.liveEngines().map(({ volume, stats }) => ({
          value: stats.inFlight,
          labels: { volume },
        })),
    );
    this.add(
      'ballast_agent_volume_replicas',
      "Replicas an attached volume's engine writes to, by role",
      'gauge',
      () =>
        this.liveEngines().flatMap(({ volume, stats }) =>
          (['in-sync', 'rebuilding'] as const).map((role) => ({
            value: stats.replicas.filter((r) => r.role === role && r.state === 'active').length,
            labels: { volume, role },
          })),
        ),
    );
    this.add(
      'ballast_agent_volume_rebuild_remaining_chunks',
      "Chunks the engine's running rebuilds still have to copy (0 when none runs)",
      'gauge',
      () =>
        this.liveEngines().map(({ volume, stats }) => ({
          value: stats.rebuild.remainingChunks,
          labels: { volume },
        })),
    );
    this.add(
      'ballast_agent_volume_rebuild_copied_bytes_total',
      'Bytes copied into rebuilding replicas by the engine',
      'counter',
      perVolume((t) => t.rebuildCopiedBytes),
    );
    this.add(
      'ballast_agent_volume_size_bytes',
      'Size an attached volume is served at (after an online resize: once every replica grew)',
      'gauge',
      () =>
        this.liveEngines().map(({ volume, stats }) => ({
          value: stats.sizeBytes,
          labels: { volume },
        })),
    );
    this.add('ballast_agent_volumes_attached', 'Volumes this agent serves', 'gauge', () => [
      { value: this.liveEngines().length, labels: {} },
    ]);
  }

  /** Folds the final counters of a closed engine into the volume's totals. */
  retire(volume: string, stats: EngineStats): void {
    const base = this.retired.get(volume) ?? emptyTotals();
    this.retired.delete(volume);
    addStats(base, stats);
    this.retired.set(volume, base);
    while (this.retired.size > MAX_RETIRED_VOLUMES) {
      this.retired.delete(this.retired.keys().next().value!);
    }
  }

  /** Unregisters every metric (the backend is closing). */
  close(): void {
    for (const name of this.names) this.registry.removeSingleMetric(name);
  }

  private totals(): Array<{ volume: string; totals: Totals }> {
    const out = new Map<string, Totals>();
    for (const [volume, base] of this.retired) out.set(volume, cloneTotals(base));
    for (const { volume, stats } of this.liveEngines()) {
      const t = out.get(volume) ?? emptyTotals();
      addStats(t, stats);
      out.set(volume, t);
    }
    return [...out.entries()].map(([volume, totals]) => ({ volume, totals }));
  }

  private add(name: string, help: string, type: MetricType, values: () => MetricValue[]): void {
    const metric = {
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
      reset: () => undefined,
    };
    this.registry.registerMetric(metric as unknown as Metric);
    this.names.push(name);
  }
}

function histogramValues(
  name: string,
  labels: Record<string, string>,
  h: { counts: number[]; sumSeconds: number; count: number },
): MetricValue[] {
  const out: MetricValue[] = [];
  let cumulative = 0;
  LATENCY_BUCKETS_SECONDS.forEach((le, i) => {
    cumulative += h.counts[i] ?? 0;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
  });
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
  out.push({ metricName: `${name}_sum`, labels, value: h.sumSeconds });
  out.push({ metricName: `${name}_count`, labels, value: h.count });
  return out;
}

function emptyTotals(): Totals {
  const ops = {} as Totals['ops'];
  const latency = {} as Totals['latency'];
  for (const op of OPS) {
    ops[op] = { ops: 0, bytes: 0, errors: 0 };
    latency[op] = { counts: [], sumSeconds: 0, count: 0 };
  }
  return {
    ops,
    latency,
    replicaWriteFailures: 0,
    replicasMarkedOutOfSync: 0,
    readRepairs: 0,
    readFallbacks: 0,
    rebuildCopiedBytes: 0,
  };
}

function cloneTotals(t: Totals): Totals {
  const c = emptyTotals();
  for (const op of OPS) {
    c.ops[op] = { ...t.ops[op] };
    c.latency[op] = { ...t.latency[op], counts: [...t.latency[op].counts] };
  }
  c.replicaWriteFailures = t.replicaWriteFailures;
  c.replicasMarkedOutOfSync = t.replicasMarkedOutOfSync;
  c.readRepairs = t.readRepairs;
  c.readFallbacks = t.readFallbacks;
  c.rebuildCopiedBytes = t.rebuildCopiedBytes;
  return c;
}

function addStats(t: Totals, s: EngineStats): void {
  for (const op of OPS) {
    t.ops[op].ops += s.ops[op].ops;
    t.ops[op].bytes += s.ops[op].bytes;
    t.ops[op].errors += s.ops[op].errors;
    addHistogram(t.latency[op], s.latency[op]);
  }
  t.replicaWriteFailures += s.replicaWriteFailures;
  t.replicasMarkedOutOfSync += s.replicasMarkedOutOfSync;
  t.readRepairs += s.readRepairs;
  t.readFallbacks += s.readFallbacks;
  t.rebuildCopiedBytes += s.rebuild.copiedBytes;
}

function addHistogram(
  into: { counts: number[]; sumSeconds: number; count: number },
  from: HistogramSnapshot,
): void {
  from.counts.forEach((n, i) => (into.counts[i] = (into.counts[i] ?? 0) + n));
  into.sumSeconds += from.sumSeconds;
  into.count += from.count;
}
