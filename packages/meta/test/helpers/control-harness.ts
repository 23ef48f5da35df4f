import { planControl, type ControlPlan, type TaskRecord } from '../../src/index.js';
import { MapHarness, type Draft } from './map-harness.js';

/**
 * Drives the control planner over a MapHarness (so every apply is checked for the map's
 * invariants): `tick` plans and applies what the leader would propose; `completeRebuilds` plays
 * the storage nodes and engines, promoting each rebuilding replica at the volume's epoch.
 */
export class ControlHarness extends MapHarness {
  tickMs = 1000;
  lastPlan: ControlPlan | null = null;

  tick(maxCommands = 100): ControlPlan {
    const plan = planControl({ map: this.map, nowMs: this.clockMs, maxCommands });
    this.lastPlan = plan;
    for (const planned of plan.commands) this.apply(planned.command as Draft);
    this.clockMs += this.tickMs;
    return plan;
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
