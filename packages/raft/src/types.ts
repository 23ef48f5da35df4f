import { ballast } from '@ballast/proto';

/**
 * The wire shape of every Raft message: a plain object the transport can hand straight to
 * `ballast.raft.RaftMessage.encode`. The core emits these and accepts them (decoded or plain).
 */
export type Message = ballast.raft.RaftMessage.$Properties;

export const EntryType = ballast.raft.EntryType;
export type EntryType = ballast.raft.EntryType;
export const ConfChangeType = ballast.raft.ConfChangeType;
export type ConfChangeType = ballast.raft.ConfChangeType;

/** A log entry. Entries are never mutated once created, so logs and messages share them. */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

export interface ConfState {
  readonly voters: string[];
  readonly learners: string[];
}

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: string;
  /** Opaque to Raft (for example the new member's peer address). */
  readonly context?: Uint8Array;
}

/** What must be on disk before any message that depends on it leaves the node. `vote` '' = none. */
export interface HardState {
  readonly term: number;
  readonly vote: string;
  readonly commit: number;
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state that is useful to log and to expose, never persisted. */
export interface SoftState {
  readonly leaderId: string | null;
  readonly role: Role;
}

/** A linearizable read is ready: serve it once `applied >= index`. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

export const NO_VOTE = '';

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NO_VOTE, commit: 0 };
export const EMPTY_CONF_STATE: ConfState = { voters: [], learners: [] };
export const EMPTY_SNAPSHOT: Snapshot = {
  metadata: { index: 0, term: 0, confState: EMPTY_CONF_STATE },
  data: new Uint8Array(0),
};

/** Bytes an entry costs against message, Ready and uncommitted-log limits (payload + header). */
export function entrySizeBytes(e: Entry): number {
  return e.data.length + 24;
}

export function payloadSizeBytes(e: Entry): number {
  return e.data.length;
}

export function isHardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * Keeps a prefix of `ents` whose total size stays within maxBytes, but always at least one
 * entry, so a single oversized entry still makes progress.
 */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySizeBytes(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySizeBytes(ents[n]!);
    if (size > maxBytes) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

const HEX = '0123456789abcdef';

/** Map key for an opaque byte context (ReadIndex request ids are short). */
export function contextKey(ctx: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ctx.length; i++) {
    const b = ctx[i]!;
    s += HEX[b >> 4]! + HEX[b & 15]!;
  }
  return s;
}

export function sortedIds(ids: Iterable<string>): string[] {
  return [...ids].sort();
}
