import { formatSize } from '@ballast/common';
import type { Labels, NodeRecord, Settings } from './schemas.js';

/**
 * The rules deciding whether a node may hold a replica. Placement (before proposing) and the
 * state machine (re-validating when a command is applied) both use these, so they cannot drift.
 */

/** Reads a label without ever reaching into Object.prototype (`constructor` is a valid key). */
export function labelValue(labels: Labels, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

/** A node's zone: its `zone` label, or '' when it has none (such nodes share one zone). */
export function zoneOf(node: NodeRecord): string {
  return labelValue(node.labels, 'zone') ?? '';
}

export function describeZone(zone: string): string {
  return zone === '' ? '(no zone label)' : zone;
}

/**
 * A node's failure domain below the zone. Nodes without a `host` label are their own host. The
 * zone is part of the key, so a host label reused in two zones cannot couple them.
 */
export function hostKeyOf(node: NodeRecord): string {
  return `${zoneOf(node)}/${labelValue(node.labels, 'host') ?? `node:${node.id}`}`;
}

export function matchesSelector(labels: Labels, selector: Labels): boolean {
  for (const key of Object.keys(selector)) {
    if (labelValue(labels, key) !== selector[key]) return false;
  }
  return true;
}

export function describeSelector(selector: Labels): string {
  return Object.keys(selector)
    .sort()
    .map((k) => `${k}=${selector[k]}`)
    .join(',');
}

/** Bytes a node may promise to replicas (thin provisioning: may exceed the disk). */
export function schedulableBytes(node: NodeRecord, settings: Settings): number {
  return Math.floor(node.capacityBytes * (settings.overProvisionPercent / 100));
}

export function freeBytes(node: NodeRecord, provisionedBytes: number, settings: Settings): number {
  return schedulableBytes(node, settings) - provisionedBytes;
}

/** A node is alive if it is neither down nor removed: its replicas can serve I/O. */
export function isLive(node: NodeRecord): boolean {
  return node.state !== 'down' && node.state !== 'removed';
}

/**
 * A node whose file system has less free space than this (64 MiB, or 2% of its capacity if
 * that is less) is full: replicas there cannot grow, copies cannot be rebuilt there.
 */
export function diskFullBelowBytes(node: NodeRecord): number {
  return Math.min(64 * 1024 * 1024, Math.floor(node.capacityBytes / 50));
}

export function isDiskFull(node: NodeRecord): boolean {
  return node.availableBytes !== undefined && node.availableBytes < diskFullBelowBytes(node);
}

/** Only `up` nodes take new replicas: not cordoned, draining, down or removed ones. */
export function isSchedulable(node: NodeRecord): boolean {
  return node.state === 'up';
}

export type IneligibleReason = 'state' | 'selector' | 'room';

export interface Ineligibility {
  reason: IneligibleReason;
  detail: string;
}

/**
 * Why a node cannot take a new replica of `sizeBytes`, or null if it can. `provisionedBytes` is
 * the sum of the sizes of the replicas it already holds.
 */
export function replicaIneligibility(
  node: NodeRecord,
  provisionedBytes: number,
  sizeBytes: number,
  selector: Labels,
  settings: Settings,
): Ineligibility | null {
  if (!isSchedulable(node)) {
    return { reason: 'state', detail: `node ${node.id} is ${node.state}` };
  }
  if (!matchesSelector(node.labels, selector)) {
    return {
      reason: 'selector',
      detail: `node ${node.id} does not match ${describeSelector(selector)}`,
    };
  }
  if (isDiskFull(node)) {
    return {
      reason: 'room',
      detail: `node ${node.id}'s disk is full (${formatSize(node.availableBytes ?? 0)} free of ${formatSize(node.capacityBytes)})`,
    };
  }
  const free = freeBytes(node, provisionedBytes, settings);
  if (free < sizeBytes) {
    return {
      reason: 'room',
      detail: `node ${node.id} has ${formatSize(Math.max(0, free))} free, needs ${formatSize(sizeBytes)}`,
    };
  }
  return null;
}
