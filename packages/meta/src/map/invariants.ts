import { assert } from '@ballast/common';
import type { ClusterMapReader } from './cluster-map.js';
import { volumeHealth } from './health.js';
import { MAX_REPLICA_SET_SIZE } from './limits.js';
import type { ClusterMapSnapshot, VolumeRecord } from './schemas.js';

/**
 * The map's invariants, checked from scratch (no trust in the incremental indexes). Tests run it
 * after every apply; a Raft member may run it after restoring a snapshot. A failure is a bug and
 * throws an AssertionError.
 */
export function checkInvariants(map: ClusterMapReader): void {
  const nodes = map.listNodes();
  const nodeIds = new Set(nodes.map((n) => n.id));
  assert(nodeIds.size === nodes.length, 'node ids are unique');
  for (const node of nodes) {
    const expected =
      node.state === 'removed'
        ? 'removed'
        : !node.reachable
          ? 'down'
          : node.scheduling === 'active'
            ? 'up'
            : node.scheduling;
    assert(node.state === expected, `node ${node.id} state ${node.state} matches its parts`);
    assert(node.usedBytes <= node.capacityBytes, `node ${node.id} used <= capacity`);
  }

  const names = new Set<string>();
  const provisioned = new Map<string, number>();
  for (const volume of map.listVolumes()) {
    assert(!names.has(volume.name), `volume name ${volume.name} is unique`);
    names.add(volume.name);
    assert(map.getVolumeByName(volume.name) === volume, `name index finds ${volume.name}`);
    assert(map.getVolume(volume.id) === volume, `id index finds ${volume.id}`);

    const replicaNodes = volume.replicas.map((r) => r.nodeId);
    assert(
      new Set(replicaNodes).size === replicaNodes.length,
      `${volume.name}: no node twice in the replica set`,
    );
    assert(volume.replicas.length <= MAX_REPLICA_SET_SIZE, `${volume.name}: replica set bounded`);
    assert(
      volume.replicas.some((r) => r.role === 'in-sync'),
      `${volume.name}: at least one in-sync replica (the last one is never removed)`,
    );
    for (const replica of volume.replicas) {
      const node = map.getNode(replica.nodeId);
      assert(node !== undefined, `${volume.name}: replica on existing node ${replica.nodeId}`);
      assert(node.state !== 'removed', `${volume.name}: no replica on removed node ${node.id}`);
      provisioned.set(node.id, (provisioned.get(node.id) ?? 0) + volume.sizeBytes);
    }
    for (const stale of volume.staleReplicas) {
      assert(
        !replicaNodes.includes(stale.nodeId),
        `${volume.name}: ${stale.nodeId} not both member and stale`,
      );
      assert(
        map.getNode(stale.nodeId)?.state !== 'removed',
        `${volume.name}: no stale record on a removed node`,
      );
    }
    assert(
      volume.attachment === null || volume.attachment.epoch === volume.epoch,
      `${volume.name}: the attachment holds the current epoch`,
    );
    const holders = new Set([
      ...volume.replicas.map((r) => r.nodeId),
      ...volume.staleReplicas.map((r) => r.nodeId),
    ]);
    for (const snap of volume.snapshots ?? []) {
      assert(
        snap.nodeIds.every((n) => holders.has(n)),
        `${volume.name}: snapshot ${snap.name} is held only by nodes with a copy of the volume`,
      );
    }
    if (volume.seed) {
      assert(
        volume.source !== undefined &&
          volume.attachment === null &&
          volume.replicas.every((r) => r.role === 'rebuilding'),
        `${volume.name}: a clone being copied has a source, no attachment and no in-sync replica`,
      );
    }
    if (volume.revert) {
      assert(
        volume.attachment === null && volume.revert.epoch === volume.epoch,
        `${volume.name}: a revert runs on a detached volume at its current epoch`,
      );
      assert(
        (volume.snapshots ?? []).some(
          (s) => s.id === volume.revert!.snapshotId && s.state === 'ready',
        ),
        `${volume.name}: a revert's snapshot exists and is ready`,
      );
    }
    const health = volumeHealth(volume, (id) => map.getNode(id));
    assert(
      health.state === volume.state && health.stateReason === volume.stateReason,
      `${volume.name}: stored state ${volume.state} matches its replicas (${health.state})`,
    );
  }
  for (const node of nodes) {
    assert(
      map.provisionedBytes(node.id) === (provisioned.get(node.id) ?? 0),
      `node ${node.id} provisioned bytes index is consistent`,
    );
  }
  for (const task of map.listTasks()) {
    assert(task.doneBytes <= task.totalBytes, `task ${task.id} progress within total`);
    assert(
      (task.finishedAt === null) === (task.state === 'pending' || task.state === 'running'),
      `task ${task.id} finishedAt matches its state`,
    );
  }
}

/**
 * Rules between two successive states of the same map: epochs never decrease, revisions and
 * applied indexes never go back, removed nodes stay removed, and a volume id never changes name.
 */
/**
 * D17: the copy of a volume on one node only ever moves to higher incarnations (its node refuses
 * sessions of lower ones), and a member keeps its incarnation while it stays a member (a
 * promotion does not change it, or the engine's session would be refused).
 */
function checkIncarnations(before: VolumeRecord, after: VolumeRecord): void {
  const incarnationOf = (v: VolumeRecord, nodeId: string): number | undefined => {
    const member = v.replicas.find((r) => r.nodeId === nodeId);
    if (member !== undefined) return member.incarnation ?? 0;
    const stale = v.staleReplicas.find((r) => r.nodeId === nodeId);
    return stale === undefined ? undefined : (stale.incarnation ?? 0);
  };
  for (const r of after.replicas) {
    const old = before.replicas.find((b) => b.nodeId === r.nodeId);
    if (old !== undefined) {
      assert(
        (old.incarnation ?? 0) === (r.incarnation ?? 0),
        `${after.name}: the member on ${r.nodeId} keeps its incarnation`,
      );
    }
  }
  for (const id of new Set([...after.replicas, ...after.staleReplicas].map((r) => r.nodeId))) {
    const was = incarnationOf(before, id);
    const now = incarnationOf(after, id);
    if (was !== undefined && now !== undefined) {
      assert(
        now >= was,
        `${after.name}: the copy on ${id} never goes back to an older incarnation`,
      );
    }
  }
}

export function checkTransition(before: ClusterMapSnapshot, after: ClusterMapSnapshot): void {
  assert(after.revision >= before.revision, 'revision never decreases');
  assert(after.appliedIndex >= before.appliedIndex, 'applied index never decreases');
  const afterVolumes = new Map(after.volumes.map((v) => [v.id, v]));
  for (const volume of before.volumes) {
    const next = afterVolumes.get(volume.id);
    if (!next) continue;
    assert(next.epoch >= volume.epoch, `${volume.name}: epoch never decreases`);
    assert(next.name === volume.name, `${volume.id}: name never changes`);
    assert(next.sizeBytes >= volume.sizeBytes, `${volume.name}: size never shrinks`);
    checkIncarnations(volume, next);
  }
  const afterNodes = new Map(after.nodes.map((n) => [n.id, n]));
  for (const node of before.nodes) {
    const next = afterNodes.get(node.id);
    assert(next !== undefined, `node ${node.id} is never forgotten (ids are never reused)`);
    if (node.state === 'removed') assert(next.state === 'removed', `node ${node.id} stays removed`);
  }
  if (after.revision === before.revision) {
    assert(
      JSON.stringify({ ...after, appliedIndex: 0 }) ===
        JSON.stringify({ ...before, appliedIndex: 0 }),
      'an unchanged revision means an unchanged map',
    );
  }
}
