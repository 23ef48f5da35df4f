import { AssertionError } from '@ballast/common';
import {
  ClusterMap,
  GiB,
  checkInvariants,
  checkTransition,
  type ApplyResult,
  type Command,
  type MapEvent,
  type NodeRecord,
  type TaskRecord,
  type VolumeRecord,
} from '../../src/index.js';

/** A command as tests write it: `at` is filled in by the harness, like the leader does. */
export type Draft = Command extends infer C
  ? C extends Command
    ? Omit<C, 'at'> & { at?: number }
    : never
  : never;

/**
 * Drives a ClusterMap as the Raft log would (growing indexes, commands round-tripped through
 * JSON) and checks, after every apply, the invariants, the rules between successive states, and
 * that a refused command changed nothing.
 */
export class MapHarness {
  map: ClusterMap;
  logIndex = 0;
  clockMs = 1_700_000_000_000;
  readonly events: MapEvent[] = [];

  constructor(map = new ClusterMap()) {
    this.map = map;
    this.logIndex = map.appliedIndex;
  }

  apply(draft: Draft | unknown): ApplyResult {
    const before = this.map.snapshot();
    const withTime =
      typeof draft === 'object' && draft !== null && !('at' in draft)
        ? { ...(draft as object), at: this.clockMs++ }
        : draft;
    const entry: unknown = JSON.parse(JSON.stringify(withTime ?? null));
    const { result, event } = this.map.apply(entry, ++this.logIndex);
    const after = this.map.snapshot();
    checkInvariants(this.map);
    checkTransition(before, after);
    if (!result.ok || !result.changed) {
      if (event !== null) throw new AssertionError('an unchanged map emits no event');
      if (
        JSON.stringify({ ...before, appliedIndex: 0 }) !==
        JSON.stringify({ ...after, appliedIndex: 0 })
      ) {
        throw new AssertionError(
          `command ${JSON.stringify(entry)} was refused or a no-op yet changed the map`,
        );
      }
    } else {
      if (
        event === null ||
        event.revision !== after.revision ||
        after.revision !== before.revision + 1
      ) {
        throw new AssertionError(
          'an accepted change takes exactly the next revision and emits its event',
        );
      }
      this.events.push(event);
    }
    // The result must be plain JSON: it may cross the network to the proposer.
    if (JSON.stringify(JSON.parse(JSON.stringify(result))) !== JSON.stringify(result)) {
      throw new AssertionError('results are JSON');
    }
    return result;
  }

  ok(draft: Draft): ApplyResult & { ok: true } {
    const result = this.apply(draft);
    if (!result.ok)
      throw new Error(
        `expected ${draft.type} to succeed: ${result.error.code} ${result.error.message}`,
      );
    return result;
  }

  node(id: string): NodeRecord {
    const node = this.map.getNode(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  volume(name: string): VolumeRecord {
    const volume = this.map.getVolumeByName(name);
    if (!volume) throw new Error(`no volume ${name}`);
    return volume;
  }

  task(id: string): TaskRecord {
    const task = this.map.getTask(id);
    if (!task) throw new Error(`no task ${id}`);
    return task;
  }

  /** Registers a node with zone/host labels and 100 GiB by default. */
  addNode(id: string, labels: Record<string, string> = {}, capacityBytes = 100 * GiB): NodeRecord {
    this.ok({
      type: 'registerNode',
      nodeId: id,
      address: `${id}.test:7100`,
      labels,
      capacityBytes,
      usedBytes: 0,
    });
    return this.node(id);
  }

  createVolume(
    name: string,
    nodeIds: string[],
    opts: {
      sizeBytes?: number;
      zoneSpread?: 'required' | 'preferred';
      nodeSelector?: Record<string, string>;
    } = {},
  ): VolumeRecord {
    this.ok({
      type: 'createVolume',
      volumeId: `vol-${name}`,
      name,
      sizeBytes: opts.sizeBytes ?? 1 * GiB,
      chunkSizeBytes: 4 * 1024 * 1024,
      desiredReplicas: nodeIds.length,
      constraints: {
        nodeSelector: opts.nodeSelector ?? {},
        zoneSpread: opts.zoneSpread ?? 'preferred',
      },
      fs: 'ext4',
      replicaNodeIds: nodeIds,
    });
    return this.volume(name);
  }
}
