export {
  MetaClient,
  sleep,
  type ListResult,
  type MetaClientOptions,
  type RequestOptions,
} from './client.js';
export {
  MapFollower,
  parseNode,
  parseTask,
  parseVolume,
  type MapChanges,
  type MapFollowerOptions,
  type MapMirror,
  type MapNode,
  type MapReplica,
  type MapSettings,
  type MapStaleReplica,
  type MapTask,
  type MapVolume,
} from './map-follower.js';
export {
  CONTROL_PLANE_HEDGE_MS,
  MetaControlPlane,
  type MetaControlPlaneOptions,
  type ReplicaReport,
} from './control-plane.js';
