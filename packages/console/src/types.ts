// The shapes of the REST API's answers the console reads (packages/meta/src/api/schemas.ts).
// Written out here rather than imported: the page is bundled for the browser and must not pull
// in meta's server code.

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  details?: Record<string, unknown>;
}

export interface NodeView {
  id: string;
  address: string;
  labels: Record<string, string>;
  capacityBytes: number;
  usedBytes: number;
  availableBytes?: number;
  state: 'up' | 'down' | 'cordoned' | 'draining' | 'removed';
  scheduling: 'active' | 'cordoned' | 'draining';
  reachable: boolean;
  stateSince: number;
  stateReason: string;
  registeredAt: number;
  provisionedBytes?: number;
  schedulableBytes?: number;
  replicaCount?: number;
  lastHeartbeatAt?: number | null;
  silentMs?: number | null;
}

export interface Replica {
  nodeId: string;
  role: 'in-sync' | 'rebuilding';
  since: number;
  usedBytes?: number;
}

export interface StaleReplica {
  nodeId: string;
  since: number;
  epoch: number;
  reason: string;
}

export interface Attachment {
  host: string;
  epoch: number;
  since: number;
  mountPath?: string;
}

export interface VolumeView {
  id: string;
  name: string;
  sizeBytes: number;
  chunkSizeBytes: number;
  desiredReplicas: number;
  constraints: { nodeSelector: Record<string, string>; zoneSpread: 'required' | 'preferred' };
  fs: 'ext4' | 'xfs';
  state: 'healthy' | 'degraded' | 'faulted';
  stateReason: string;
  replicas: Replica[];
  staleReplicas: StaleReplica[];
  epoch: number;
  attachment: Attachment | null;
  createdAt: number;
  engine?: { host: string; state: 'failed' | 'recovering' | 'recovered'; since: number };
}

export interface TaskView {
  id: string;
  kind: 'rebuild' | 'move' | 'delete' | 'drain';
  volumeId: string | null;
  nodeId: string | null;
  sourceNodeId: string | null;
  state: 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  doneBytes: number;
  totalBytes: number;
  message: string;
  createdAt: number;
  startedAt?: number;
  updatedAt: number;
  finishedAt: number | null;
  bytesPerSecond?: number;
}

export interface ClusterView {
  members: Array<{ id: string; api: string; role: string }>;
  leader: string | null;
  term: number;
  commitIndex: number;
  revision: number;
}

export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
  revision: number;
}

export type MapChange =
  | { kind: 'node'; id: string; value: NodeView }
  | { kind: 'volume'; id: string; value: VolumeView | null }
  | { kind: 'task'; id: string; value: TaskView | null }
  | { kind: 'settings'; id: 'settings'; value: Record<string, unknown> };

export interface MapEvent {
  revision: number;
  logIndex: number;
  at: number;
  command: string;
  changes: MapChange[];
}

export type WatchMessage =
  | { type: 'event'; event: MapEvent }
  | { type: 'synced'; revision: number }
  | { type: 'reset' }
  | { type: 'error'; problem: Problem };

export interface VolumeExplanation {
  name: string;
  state: string;
  stateReason: string;
  events: Array<{ at: number | null; text: string }>;
  next: Array<{ loop: string; text: string; until: number | null }>;
  actions: string[];
}

export interface HostView {
  id: string;
  lastHeartbeatAt: number | null;
  silentMs: number;
  alive: boolean;
  attachedVolumes: string[];
}
