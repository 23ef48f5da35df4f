// The control loops simulated (see runControlScenario): the real map and the real planner run;
// storage nodes and engines are modelled (rebuilds take time and sometimes fail, engines drop
// replicas on down nodes). Nodes fail (one comes back within the grace period), nodes are added,
// nodes are drained. The loops must converge within a bounded number of ticks with the spread
// rule kept, never below one in-sync replica, never below the desired count while moving healthy
// volumes, and used capacity (volumes are thin: each holds a random fraction of its size) within
// the margin after rebalancing, with no node promised more than it may be.
import type { Test } from 'tap';
import { GiB } from '../../src/index.js';
import { ControlSim } from './control-sim.js';

type Tap = Test;

export interface ControlModel {
  seed: number;
  /** How to replay a failure, printed with the seed. */
  replay: string;
  nodes: number;
  volumes: number;
}

const GRACE_MS = 60_000;
const MAX_STEPS_PER_PHASE = 1500;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}

export async function runControlScenario(t: Tap, model: ControlModel): Promise<void> {
  const { seed, replay } = model;
  t.comment(`seed ${seed} (${replay})`);
  t.teardown(() => {
    if (t.passing()) return;
    console.error(`control simulation failed with seed ${seed}; ${replay}`);
  });
  const sim = new ControlSim({
    seed: seed,
    nodes: model.nodes,
    zones: 5,
    volumes: model.volumes,
    commandsPerStep: 64,
    rebuildBytesPerStep: 10 * GiB,
    rebuildFailureRate: 0.02,
  });
  sim.build();
  sim.ok({
    type: 'updateSettings',
    replicaReplacementGraceMs: GRACE_MS,
    maxConcurrentMoves: 64,
    rebalanceMarginPercent: 10,
  });
  sim.checkInvariants();

  let minInSyncSeen = Infinity;
  let belowDesired: string[] = [];
  let guardDesired = false;
  sim.onStep = () => {
    for (const v of sim.map.listVolumes()) {
      const inSync = v.replicas.filter((r) => r.role === 'in-sync').length;
      minInSyncSeen = Math.min(minInSyncSeen, inSync);
      if (guardDesired && inSync < v.desiredReplicas && belowDesired.length < 5) {
        belowDesired.push(
          `${v.name} at step ${sim.stats.steps}: ${inSync} of ${v.desiredReplicas}`,
        );
      }
    }
    if (sim.stats.steps % 50 === 0) sim.checkInvariants();
  };

  /** Ticks until nothing is left to do; returns the ticks it took. */
  const converge = (phase: string, requireBalance: boolean, during?: (step: number) => void) => {
    for (let step = 1; step <= MAX_STEPS_PER_PHASE; step++) {
      during?.(step);
      const plan = sim.tick();
      if (plan.commands.length === 0 && sim.problems(requireBalance).length === 0) {
        t.comment(`${phase}: converged in ${step} ticks`);
        sim.checkInvariants();
        return step;
      }
    }
    t.fail(
      `${phase}: not converged after ${MAX_STEPS_PER_PHASE} ticks: ${sim.problems(requireBalance).join('; ')} (${replay})`,
    );
    return MAX_STEPS_PER_PHASE;
  };

  // The model starts balanced by placement; settle it (nothing should be needed).
  converge('start', true);
  t.same(sim.spreadViolations(), [], 'placement spread every volume over distinct zones');

  // Phase 1: five nodes fail, two in one zone; one of them comes back within the grace period.
  // Five nodes at fixed places in the id range (two share a zone for 100 nodes).
  const scaled = (i: number) => sim.nodeId(Math.floor((i * model.nodes) / 100));
  const failed = [3, 8, 41, 57, 90].map(scaled);
  const returning = failed[2]!;
  for (const id of failed) sim.ok({ type: 'setNodeState', nodeId: id, action: 'down' });
  const lostOnReturning = sim.map.volumesOnNode(returning).length;
  // Volumes whose every in-sync replica was on a node that never comes back are lost to any
  // system; their owners delete them. (Those on the returning node come back with it.)
  const gone = new Set(failed.filter((x) => x !== returning));
  let deleted = 0;
  for (const v of sim.map.listVolumes()) {
    if (!v.replicas.every((r) => r.role !== 'in-sync' || gone.has(r.nodeId))) continue;
    if (v.attachment) sim.ok({ type: 'detachVolume', volumeId: v.id, host: 'x', force: true });
    sim.ok({ type: 'deleteVolume', volumeId: v.id });
    deleted++;
  }
  t.comment(`${deleted} single-copy volumes lost with the failed nodes were deleted`);
  const volumeCount = sim.map.listVolumes().length;
  // Copies the returning node gets back: whole (idle volume, no attach since) or by delta.
  const rejoined = { whole: 0, delta: 0 };
  sim.onCommand = (planned, result) => {
    const c = planned.command;
    if (c.type !== 'addReplica' || c.nodeId !== returning || !result.ok) return;
    const volume = result.value as { replicas: Array<{ nodeId: string; role: string }> };
    const role = volume.replicas.find((r) => r.nodeId === returning)?.role;
    if (role === 'in-sync') rejoined.whole++;
    else rejoined.delta++;
  };
  converge('node failures', true, (step) => {
    if (step === 20) sim.ok({ type: 'setNodeState', nodeId: returning, action: 'up' });
  });
  sim.onCommand = null;
  t.ok(rejoined.delta > 0, `the returning node caught up by ${rejoined.delta} delta rebuilds`);
  t.ok(rejoined.whole > 0, `and took back ${rejoined.whole} copies of idle volumes as they were`);
  t.ok(
    sim.map.volumesOnNode(returning).length >= lostOnReturning / 2,
    `it kept most of its ${lostOnReturning} replicas (${sim.map.volumesOnNode(returning).length} now)`,
  );
  for (const id of failed.filter((x) => x !== returning)) {
    t.equal(sim.map.volumesOnNode(id).length, 0, `${id}: every replica replaced`);
    t.ok(sim.apply({ type: 'setNodeState', nodeId: id, action: 'remove' }).ok, `${id} removable`);
  }

  // Phase 2: ten empty nodes join; rebalance fills them, add-then-remove.
  const added = Math.max(2, Math.floor(model.nodes / 10));
  for (let i = model.nodes; i < model.nodes + added; i++) sim.addNode(i);
  t.ok(sim.balance().maxDeviation > 0.1, 'the new nodes unbalance the cluster');
  guardDesired = true;
  converge(`${added} nodes added`, true);

  // Phase 3: three nodes drained, then removed.
  const drained = [scaled(12), scaled(66), sim.nodeId(model.nodes + 1)];
  for (const id of drained) sim.ok({ type: 'setNodeState', nodeId: id, action: 'drain' });
  converge('three nodes drained', true);
  for (const id of drained) {
    t.equal(sim.map.volumesOnNode(id).length, 0, `${id} is empty`);
    t.ok(sim.apply({ type: 'setNodeState', nodeId: id, action: 'remove' }).ok, `${id} removed`);
  }
  const drains = sim.map.listTasks().filter((x) => x.kind === 'drain');
  t.equal(drains.length, 3);
  t.ok(
    drains.every((x) => x.state === 'succeeded'),
    'every drain task succeeded',
  );

  // Final state.
  t.same(belowDesired, [], 'healthy volumes never went below their desired in-sync count');
  t.ok(minInSyncSeen >= 1, 'never below one in-sync replica');
  t.same(sim.spreadViolations().slice(0, 10), [], 'the spread rule is kept');
  const balance = sim.balance();
  t.ok(
    balance.maxDeviation <= 0.1,
    `every node within 10 points of the mean used share ${(100 * balance.mean).toFixed(1)}% (worst ${(100 * balance.maxDeviation).toFixed(1)})`,
  );
  t.ok(
    balance.maxProvisioned <= 1,
    `no node provisioned beyond its schedulable bytes (largest share ${(100 * balance.maxProvisioned).toFixed(1)}%)`,
  );
  t.same(sim.problems(true), [], 'converged');
  t.equal(sim.map.listVolumes().length, volumeCount, 'no volume was lost to the loops');

  const plans = sim.stats.plans;
  const perPlan = plans.map((p) => p.ms).sort((a, b) => a - b);
  const perDecision = plans
    .filter((p) => p.commands > 0)
    .map((p) => p.ms / p.commands)
    .sort((a, b) => a - b);
  t.comment(
    `${sim.stats.steps} ticks, ${sim.stats.commands} commands (${sim.stats.refused} refused), ` +
      `${sim.stats.promoted} rebuilds promoted, ${sim.stats.failedRebuilds} failed, ` +
      `${sim.stats.engineMarks} replicas dropped by engines, ` +
      `${sim.stats.usageReports} usage reports committed`,
  );
  t.comment(
    `planner per tick (${model.volumes} volumes): p50 ${percentile(perPlan, 50).toFixed(2)} ms, ` +
      `p99 ${percentile(perPlan, 99).toFixed(2)} ms; per decision p50 ` +
      `${percentile(perDecision, 50).toFixed(3)} ms, p99 ${percentile(perDecision, 99).toFixed(3)} ms`,
  );
  t.ok(sim.stats.refused <= sim.stats.commands / 10, 'few planned commands are refused');
  belowDesired = [];
}
