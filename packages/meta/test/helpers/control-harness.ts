import {
  MAX_REPLICA_USAGE_REPORTS,
  planControl,
  replicaUsageReports,
  type ControlPlan,
  type ReplicaUsage,
  type TaskRecord,
} from '../../src/index.js';
import { MapHarness, type Draft } from './map-harness.js';

/**
 * Drives the control planner over a MapHarness (so every apply is checked for the map's
 * invariants): `tick` plays the nodes' heartbeats (replica usage, when a test models it), plans
 * and applies what the leader would propose; `completeRebuilds` plays the storage nodes and
 * engines, promoting each rebuilding replica at the volume's epoch.
 */
export class ControlHarness extends MapHarness {
  tickMs = 1000;
  lastPlan: ControlPlan | null = null;
  /**
   * The model of written data: volume name -> bytes each in-sync replica holds. A rebuilding
   * replica holds nothing yet (its node reports 0). Volumes not in here are never reported.
   */
  readonly usedByVolume = new Map<string, number>();

  tick(maxCommands = 100): ControlPlan {
    this.reportUsage();
    const plan = planControl({ map: this.map, nowMs: this.clockMs, maxCommands });
    this.lastPlan = plan;
    for (const planned of plan.commands) this.apply(planned.command as Draft);
    this.clockMs += this.tickMs;
    return plan;
  }

  /**
   * Every node's heartbeat, as the leader handles it: the figures replicaUsageReports finds
   * worth a log entry go through reportReplicaUsage. Returns the commands applied.
   */
  reportUsage(): number {
    if (this.usedByVolume.size === 0) return 0;
    const byNode = new Map<string, ReplicaUsage[]>();
    for (const v of this.map.listVolumes()) {
      const used = this.usedByVolume.get(v.name);
      if (used === undefined) continue;
      for (const r of v.replicas) {
        const list = byNode.get(r.nodeId) ?? [];
        list.push({ volumeId: v.id, usedBytes: r.role === 'in-sync' ? used : 0 });
        byNode.set(r.nodeId, list);
      }
    }
    let applied = 0;
    for (const [nodeId, reported] of [...byNode].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const changed = replicaUsageReports(this.map, nodeId, reported);
      for (let i = 0; i < changed.length; i += MAX_REPLICA_USAGE_REPORTS) {
        this.ok({
          type: 'reportReplicaUsage',
          nodeId,
          replicas: changed.slice(i, i + MAX_REPLICA_USAGE_REPORTS),
        });
        applied++;
      }
    }
    return applied;
  }

  openTasks(kind?: TaskRecord['kind']): TaskRecord[] {
    return this.map
      .listTasks()
      .filter((t) => t.finishedAt === null && (kind === undefined || t.kind === kind));
  }

  /** Promotes every rebuilding replica that has an open rebuild task, as its copier would. */
  completeRebuilds(): number {
    let promoted = 0;
    for (const task of this.openTasks('rebuild')) {
      const volume = this.map.getVolume(task.volumeId!);
      if (!volume) continue;
      const r = this.apply({
        type: 'promoteReplica',
        volumeId: volume.id,
        nodeId: task.nodeId!,
        epoch: volume.epoch,
      });
      if (r.ok) promoted++;
    }
    return promoted;
  }

  /** Ticks (completing rebuilds after each) until a plan proposes nothing; returns the ticks. */
  settle(maxTicks = 100, rebuild = true): number {
    for (let i = 1; i <= maxTicks; i++) {
      const plan = this.tick();
      if (rebuild) this.completeRebuilds();
      if (plan.commands.length === 0 && (!rebuild || this.openTasks('rebuild').length === 0)) {
        return i;
      }
    }
    throw new Error(`no quiet plan after ${maxTicks} ticks`);
  }

  replicaNodes(name: string): string[] {
    return this.volume(name)
      .replicas.map((r) => r.nodeId)
      .sort();
  }
}
