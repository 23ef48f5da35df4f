// A model cluster for the control loops: the real map and the real planner, with storage nodes,
// engines and time simulated from a seed. Nothing here waits on a clock or a socket.
import {
  ClusterMap,
  GiB,
  MAX_REPLICA_USAGE_REPORTS,
  TiB,
  checkInvariants,
  hostKeyOf,
  isLive,
  placeReplicas,
  planControl,
  replicaUsageReports,
  schedulableBytes,
  usedLoads,
  zoneOf,
  type ApplyResult,
  type ControlPlan,
  type PlannedCommand,
  type ReplicaUsage,
  type VolumeRecord,
} from '../../src/index.js';

/** mulberry32: small, seeded, the same sequence on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimOptions {
  seed: number;
  nodes: number;
  zones: number;
  volumes: number;
  /** Commands the leader proposes per step (one step = one control tick of 1 s). */
  commandsPerStep: number;
  /** Bytes a rebuild copies per step. */
  rebuildBytesPerStep: number;
  /** Chance that a rebuild fails (the node reports it) instead of finishing. */
  rebuildFailureRate: number;
}

export interface SimStats {
  steps: number;
  commands: number;
  refused: number;
  promoted: number;
  failedRebuilds: number;
  engineMarks: number;
  /** reportReplicaUsage commands the nodes' heartbeats caused. */
  usageReports: number;
  /** Wall time of each planControl call and the commands it returned. */
  plans: Array<{ ms: number; commands: number }>;
}

export class ControlSim {
  readonly map = new ClusterMap();
  readonly random: () => number;
  nowMs = 1_700_000_000_000;
  private logIndex = 0;
  private step = 0;
  /** Rebuild task id -> the step at which its copy is done. */
  private readonly copyDoneAt = new Map<string, number>();
  readonly stats: SimStats = {
    steps: 0,
    commands: 0,
    refused: 0,
    promoted: 0,
    failedRebuilds: 0,
    engineMarks: 0,
    usageReports: 0,
    plans: [],
  };
  lastPlan: ControlPlan | null = null;
  /** Called after every step (for invariant checks between states). */
  onStep: (() => void) | null = null;
  /** Every planned command, as applied, with its result. */
  onCommand: ((planned: PlannedCommand, result: ApplyResult) => void) | null = null;

  /**
   * Bytes written to each volume (thin: a random fraction of its size), what its in-sync
   * replicas hold; a rebuilding copy holds nothing until promoted. Drawn from a second sequence
   * so the rest of the model stays what it was before usage was modelled.
   */
  readonly usedByVolume = new Map<string, number>();
  private readonly usageRandom: () => number;

  constructor(readonly options: SimOptions) {
    this.random = prng(options.seed);
    this.usageRandom = prng(options.seed ^ 0x5eed);
  }

  apply(command: object): ApplyResult {
    return this.map.apply({ ...command, at: this.nowMs }, ++this.logIndex).result;
  }

  ok(command: object): ApplyResult & { ok: true } {
    const r = this.apply(command);
    if (!r.ok) throw new Error(`${JSON.stringify(command)} refused: ${r.error.message}`);
    return r;
  }

  nodeId(i: number): string {
    return `node-${String(i).padStart(3, '0')}`;
  }

  addNode(i: number): void {
    const zone = `zone-${i % this.options.zones}`;
    this.ok({
      type: 'registerNode',
      nodeId: this.nodeId(i),
      address: `10.${Math.floor(i / 250)}.${i % 250}.1:7100`,
      // Two nodes per host.
      labels: { zone, host: `${zone}-host-${Math.floor(i / (2 * this.options.zones))}` },
      capacityBytes: Math.floor(4 + this.random() * 12) * TiB,
      usedBytes: 0,
    });
  }

  /** The cluster: nodes, then volumes placed as the API places them; some attached. */
  build(): void {
    for (let i = 0; i < this.options.nodes; i++) this.addNode(i);
    for (let i = 0; i < this.options.volumes; i++) {
      const replicas = [1, 2, 2, 3, 3, 3, 3, 3][Math.floor(this.random() * 8)]!;
      const sizeBytes = Math.floor(1 + this.random() * 50) * GiB;
      const zoneSpread = this.random() < 0.3 ? 'required' : 'preferred';
      const placed = placeReplicas(this.map, {
        count: replicas,
        sizeBytes,
        nodeSelector: {},
        zoneSpread,
      });
      if (!placed.ok) throw new Error(`placing volume ${i}: ${placed.reason}`);
      this.ok({
        type: 'createVolume',
        volumeId: `vol-${i}`,
        name: `v${String(i).padStart(5, '0')}`,
        sizeBytes,
        chunkSizeBytes: 4 * 1024 * 1024,
        desiredReplicas: replicas,
        constraints: { nodeSelector: {}, zoneSpread },
        fs: 'ext4',
        replicaNodeIds: placed.nodeIds,
      });
      this.usedByVolume.set(`vol-${i}`, Math.floor(this.usageRandom() * (sizeBytes / GiB)) * GiB);
      if (this.random() < 0.1) {
        this.ok({
          type: 'attachVolume',
          volumeId: `vol-${i}`,
          host: `docker-${i % 7}`,
          force: false,
        });
      }
    }
  }

  /** One control tick: plan, propose, then nodes and engines act, then time passes. */
  tick(): ControlPlan {
    this.step++;
    this.heartbeats();
    const started = performance.now();
    const plan = planControl({
      map: this.map,
      nowMs: this.nowMs,
      maxCommands: this.options.commandsPerStep,
    });
    this.stats.plans.push({ ms: performance.now() - started, commands: plan.commands.length });
    this.lastPlan = plan;
    for (const planned of plan.commands) {
      const r = this.apply(planned.command);
      this.onCommand?.(planned, r);
      this.stats.commands++;
      if (!r.ok) this.stats.refused++;
    }
    this.engines();
    this.copiers();
    this.nowMs += 1000;
    this.stats.steps++;
    this.onStep?.();
    return plan;
  }

  /**
   * Nodes report their replicas' used bytes; the leader commits what replicaUsageReports finds
   * worth a log entry (new replicas, real changes), as the heartbeat route does.
   */
  heartbeats(): void {
    const byNode = new Map<string, ReplicaUsage[]>();
    for (const v of this.map.listVolumes()) {
      const used = this.usedByVolume.get(v.id) ?? 0;
      for (const r of v.replicas) {
        if (!isLive(this.map.getNode(r.nodeId)!)) continue;
        let list = byNode.get(r.nodeId);
        if (!list) byNode.set(r.nodeId, (list = []));
        list.push({ volumeId: v.id, usedBytes: r.role === 'in-sync' ? used : 0 });
      }
    }
    for (const [nodeId, reported] of byNode) {
      const changed = replicaUsageReports(this.map, nodeId, reported);
      for (let i = 0; i < changed.length; i += MAX_REPLICA_USAGE_REPORTS) {
        this.ok({
          type: 'reportReplicaUsage',
          nodeId,
          replicas: changed.slice(i, i + MAX_REPLICA_USAGE_REPORTS),
        });
        this.stats.usageReports++;
      }
    }
  }

  /** An attached volume's engine drops a replica on a down node at its next write. */
  private engines(): void {
    for (const v of this.map.listVolumes()) {
      if (!v.attachment) continue;
      for (const r of v.replicas) {
        const node = this.map.getNode(r.nodeId)!;
        if (isLive(node) || this.random() < 0.5) continue;
        const res = this.apply({
          type: 'markReplicaOutOfSync',
          volumeId: v.id,
          nodeId: r.nodeId,
          epoch: v.attachment.epoch,
          reason: 'write failed: node unreachable',
        });
        if (res.ok && res.changed) this.stats.engineMarks++;
        break;
      }
    }
  }

  /** Nodes (or engines) copying rebuilds: done after size / rate steps, then promoted. */
  private copiers(): void {
    for (const task of this.map.listTasks()) {
      if (task.kind !== 'rebuild' || task.finishedAt !== null) continue;
      const volume = this.map.getVolume(task.volumeId!);
      const target = this.map.getNode(task.nodeId!);
      if (!volume || !target || !isLive(target)) continue;
      const source = volume.replicas.some(
        (r) => r.role === 'in-sync' && isLive(this.map.getNode(r.nodeId)!),
      );
      if (!source) continue;
      let doneAt = this.copyDoneAt.get(task.id);
      if (doneAt === undefined) {
        doneAt = this.step + 1 + Math.floor(volume.sizeBytes / this.options.rebuildBytesPerStep);
        this.copyDoneAt.set(task.id, doneAt);
      }
      if (this.step < doneAt) continue;
      this.copyDoneAt.delete(task.id);
      if (this.random() < this.options.rebuildFailureRate) {
        this.ok({ type: 'finishTask', taskId: task.id, outcome: 'failed', message: 'copy failed' });
        this.stats.failedRebuilds++;
        continue;
      }
      const r = this.apply({
        type: 'promoteReplica',
        volumeId: volume.id,
        nodeId: task.nodeId!,
        epoch: volume.epoch,
      });
      if (r.ok) this.stats.promoted++;
    }
  }

  /** What is still wrong; empty when the cluster has converged. */
  problems(requireBalance: boolean): string[] {
    const out: string[] = [];
    for (const v of this.map.listVolumes()) {
      const why = this.volumeProblem(v);
      if (why) out.push(why);
      if (out.length >= 5) return out;
    }
    const open = this.map.listTasks().filter((t) => t.finishedAt === null);
    if (open.length > 0) out.push(`${open.length} unfinished task(s), e.g. ${open[0]!.id}`);
    if (requireBalance && this.lastPlan && !this.lastPlan.balanced) {
      out.push(`not balanced: ${JSON.stringify(this.lastPlan.share)}`);
    }
    return out;
  }

  volumeProblem(v: VolumeRecord): string | null {
    if (v.staleReplicas.length > 0) return `${v.name} has stale records`;
    if (v.replicas.length !== v.desiredReplicas) {
      return `${v.name} has ${v.replicas.length} replicas, wants ${v.desiredReplicas}`;
    }
    for (const r of v.replicas) {
      const node = this.map.getNode(r.nodeId)!;
      if (r.role !== 'in-sync') return `${v.name} still rebuilding on ${r.nodeId}`;
      if (node.state !== 'up') return `${v.name} has a replica on ${node.state} node ${node.id}`;
    }
    return null;
  }

  /** The spread rule: distinct hosts always; distinct zones when required or when possible. */
  spreadViolations(): string[] {
    const out: string[] = [];
    for (const v of this.map.listVolumes()) {
      const nodes = v.replicas.map((r) => this.map.getNode(r.nodeId)!);
      if (new Set(nodes.map(hostKeyOf)).size !== nodes.length) out.push(`${v.name}: shared host`);
      const zones = new Set(nodes.map(zoneOf)).size;
      if (zones !== Math.min(nodes.length, this.options.zones)) {
        out.push(`${v.name}: ${nodes.length} replicas in ${zones} zone(s)`);
      }
    }
    return out;
  }

  /**
   * Used share (what rebalance evens out) of every up node, how far the extremes are from the
   * mean, and the largest provisioned share (room for new replicas is still provisioned).
   */
  balance(): { mean: number; maxDeviation: number; maxProvisioned: number } {
    const loads = usedLoads(this.map);
    let used = 0;
    let s = 0;
    let maxProvisioned = 0;
    const shares: number[] = [];
    for (const node of this.map.listNodes()) {
      if (node.state !== 'up') continue;
      const sched = schedulableBytes(node, this.map.settings);
      used += loads.get(node.id) ?? 0;
      s += sched;
      shares.push((loads.get(node.id) ?? 0) / sched);
      maxProvisioned = Math.max(maxProvisioned, this.map.provisionedBytes(node.id) / sched);
    }
    const mean = used / s;
    return {
      mean,
      maxDeviation: Math.max(...shares.map((x) => Math.abs(x - mean))),
      maxProvisioned,
    };
  }

  /** Never fewer than one in-sync replica: the map's invariant, checked from scratch. */
  checkInvariants(): void {
    checkInvariants(this.map);
  }
}
