import './numbers.js';
import { ballast } from '../gen/messages.js';
import { FrameRegistry } from './frame.js';

/** Frame type numbers. Requests are even-numbered from 10 and their responses follow them. */
export const FrameType = {
  ServerHello: 1,
  ClientHello: 2,
  HelloResponse: 3,
  OpenSession: 10,
  OpenSessionResponse: 11,
  CloseSession: 12,
  Read: 20,
  ReadResponse: 21,
  Write: 22,
  WriteResponse: 23,
  Flush: 24,
  FlushResponse: 25,
  Trim: 26,
  TrimResponse: 27,
  GetChunkMap: 30,
  GetChunkMapResponse: 31,
  ReadChunk: 32,
  ReadChunkResponse: 33,
  WriteChunk: 34,
  WriteChunkResponse: 35,
  Snapshot: 36,
  SnapshotResponse: 37,
  ReadSnapshot: 38,
  ReadSnapshotResponse: 39,
  ErrorNotice: 63,
  Raft: 64,
  NodeHeartbeat: 80,
  NodeHeartbeatResponse: 81,
} as const;

export type FrameTypeName = keyof typeof FrameType;

const dp = ballast.dataplane;

/** Every frame type Ballast sends on a stream, with the protobuf message that is its header. */
export function createRegistry(): FrameRegistry {
  return new FrameRegistry()
    .register(FrameType.ServerHello, 'ServerHello', dp.ServerHello)
    .register(FrameType.ClientHello, 'ClientHello', dp.ClientHello)
    .register(FrameType.HelloResponse, 'HelloResponse', dp.HelloResponse)
    .register(FrameType.OpenSession, 'OpenSession', dp.OpenSession)
    .register(FrameType.OpenSessionResponse, 'OpenSessionResponse', dp.OpenSessionResponse)
    .register(FrameType.CloseSession, 'CloseSession', dp.CloseSession)
    .register(FrameType.Read, 'ReadRequest', dp.ReadRequest)
    .register(FrameType.ReadResponse, 'ReadResponse', dp.ReadResponse)
    .register(FrameType.Write, 'WriteRequest', dp.WriteRequest)
    .register(FrameType.WriteResponse, 'WriteResponse', dp.WriteResponse)
    .register(FrameType.Flush, 'FlushRequest', dp.FlushRequest)
    .register(FrameType.FlushResponse, 'FlushResponse', dp.FlushResponse)
    .register(FrameType.Trim, 'TrimRequest', dp.TrimRequest)
    .register(FrameType.TrimResponse, 'TrimResponse', dp.TrimResponse)
    .register(FrameType.GetChunkMap, 'GetChunkMapRequest', dp.GetChunkMapRequest)
    .register(FrameType.GetChunkMapResponse, 'GetChunkMapResponse', dp.GetChunkMapResponse)
    .register(FrameType.ReadChunk, 'ReadChunkRequest', dp.ReadChunkRequest)
    .register(FrameType.ReadChunkResponse, 'ReadChunkResponse', dp.ReadChunkResponse)
    .register(FrameType.WriteChunk, 'WriteChunkRequest', dp.WriteChunkRequest)
    .register(FrameType.WriteChunkResponse, 'WriteChunkResponse', dp.WriteChunkResponse)
    .register(FrameType.Snapshot, 'SnapshotRequest', dp.SnapshotRequest)
    .register(FrameType.SnapshotResponse, 'SnapshotResponse', dp.SnapshotResponse)
    .register(FrameType.ReadSnapshot, 'ReadSnapshotRequest', dp.ReadSnapshotRequest)
    .register(FrameType.ReadSnapshotResponse, 'ReadSnapshotResponse', dp.ReadSnapshotResponse)
    .register(FrameType.ErrorNotice, 'ErrorNotice', dp.ErrorNotice)
    .register(FrameType.Raft, 'RaftMessage', ballast.raft.RaftMessage)
    .register(FrameType.NodeHeartbeat, 'NodeHeartbeat', ballast.node.NodeHeartbeat)
    .register(
      FrameType.NodeHeartbeatResponse,
      'NodeHeartbeatResponse',
      ballast.node.NodeHeartbeatResponse,
    );
}
