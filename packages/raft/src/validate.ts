import { RaftError } from './errors.js';
import { EntryType, type ConfState, type Entry, type Message, type Snapshot } from './types.js';

/** A message from the network once checked: every field present, typed and in range. */
export type Body =
  | {
      kind: 'requestVote';
      lastLogIndex: number;
      lastLogTerm: number;
      preVote: boolean;
      leaderTransfer: boolean;
    }
  | { kind: 'requestVoteResponse'; granted: boolean; preVote: boolean }
  | {
      kind: 'appendEntries';
      prevLogIndex: number;
      prevLogTerm: number;
      entries: Entry[];
      leaderCommit: number;
    }
  | {
      kind: 'appendEntriesResponse';
      success: boolean;
      matchIndex: number;
      rejectIndex: number;
      rejectHint: number;
    }
  | { kind: 'heartbeat'; commit: number; context: Uint8Array }
  | { kind: 'heartbeatResponse'; context: Uint8Array }
  | { kind: 'installSnapshot'; snapshot: Snapshot }
  | { kind: 'installSnapshotResponse'; index: number; success: boolean }
  | { kind: 'timeoutNow' }
  | { kind: 'readIndex'; context: Uint8Array }
  | { kind: 'readIndexResponse'; index: number; context: Uint8Array; ok: boolean };

export interface InboundMessage {
  readonly from: string;
  readonly to: string;
  readonly term: number;
  readonly body: Body;
}

const BODY_KEYS = [
  'requestVote',
  'requestVoteResponse',
  'appendEntries',
  'appendEntriesResponse',
  'heartbeat',
  'heartbeatResponse',
  'installSnapshot',
  'installSnapshotResponse',
  'timeoutNow',
  'readIndex',
  'readIndexResponse',
] as const;

/** Bounds that keep a hostile message from making the core allocate without limit. */
const MAX_ENTRIES_PER_MESSAGE = 1_000_000;
const MAX_MEMBERS = 1024;
const EMPTY = new Uint8Array(0);

function bad(reason: string): never {
  throw new RaftError('invalid-message', `invalid raft message: ${reason}`);
}

type Fields = Record<string, unknown>;

function u64(obj: Fields, key: string): number {
  const v = obj[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    bad(`${key} must be a non-negative safe integer`);
  }
  return v;
}

function bool(obj: Fields, key: string): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') bad(`${key} must be a boolean`);
  return v;
}

function bytes(obj: Fields, key: string): Uint8Array {
  const v = obj[key];
  if (v === undefined || v === null) return EMPTY;
  if (!(v instanceof Uint8Array)) bad(`${key} must be bytes`);
  return v;
}

function str(obj: Fields, key: string): string {
  const v = obj[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') bad(`${key} must be a string`);
  return v;
}

function sub(obj: Fields, key: string): Fields {
  const v = obj[key];
  if (typeof v !== 'object' || v === null) bad(`${key} must be an object`);
  return v as Fields;
}

function ids(obj: Fields, key: string): string[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_MEMBERS) bad(`${key} must be a list of member ids`);
  const out: string[] = [];
  for (const id of v) {
    if (typeof id !== 'string' || id.length === 0) bad(`${key} holds an invalid member id`);
    out.push(id);
  }
  if (new Set(out).size !== out.length) bad(`${key} repeats a member id`);
  return out;
}

function confState(obj: Fields): ConfState {
  const voters = ids(obj, 'voters');
  const learners = ids(obj, 'learners');
  if (learners.some((id) => voters.includes(id))) bad('a member is both voter and learner');
  return { voters, learners };
}

function entries(obj: Fields, prevLogIndex: number, prevLogTerm: number, term: number): Entry[] {
  const v = obj['entries'];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_ENTRIES_PER_MESSAGE) bad('entries must be a list');
  const out: Entry[] = new Array<Entry>(v.length);
  let lastTerm = prevLogTerm;
  for (let i = 0; i < v.length; i++) {
    const raw = v[i] as unknown;
    if (typeof raw !== 'object' || raw === null) bad('entry must be an object');
    const e = raw as Fields;
    const index = u64(e, 'index');
    const entryTerm = u64(e, 'term');
    const type = e['type'] ?? EntryType.ENTRY_NORMAL;
    if (index !== prevLogIndex + 1 + i) bad('entries must follow prev_log_index contiguously');
    // Terms never decrease along a log and never exceed the sender's term.
    if (entryTerm < lastTerm || entryTerm > term || entryTerm === 0) bad('entry term out of order');
    if (type !== EntryType.ENTRY_NORMAL && type !== EntryType.ENTRY_CONF_CHANGE) {
      bad('unknown entry type');
    }
    lastTerm = entryTerm;
    out[i] = { term: entryTerm, index, type: type as EntryType, data: bytes(e, 'data') };
  }
  return out;
}

function body(kind: (typeof BODY_KEYS)[number], b: Fields, term: number): Body {
  switch (kind) {
    case 'requestVote':
      return {
        kind,
        lastLogIndex: u64(b, 'lastLogIndex'),
        lastLogTerm: u64(b, 'lastLogTerm'),
        preVote: bool(b, 'preVote'),
        leaderTransfer: bool(b, 'leaderTransfer'),
      };
    case 'requestVoteResponse':
      return { kind, granted: bool(b, 'granted'), preVote: bool(b, 'preVote') };
    case 'appendEntries': {
      const prevLogIndex = u64(b, 'prevLogIndex');
      const prevLogTerm = u64(b, 'prevLogTerm');
      if (prevLogTerm > term) bad('prev_log_term beyond the message term');
      return {
        kind,
        prevLogIndex,
        prevLogTerm,
        entries: entries(b, prevLogIndex, prevLogTerm, term),
        leaderCommit: u64(b, 'leaderCommit'),
      };
    }
    case 'appendEntriesResponse':
      return {
        kind,
        success: bool(b, 'success'),
        matchIndex: u64(b, 'matchIndex'),
        rejectIndex: u64(b, 'rejectIndex'),
        rejectHint: u64(b, 'rejectHint'),
      };
    case 'heartbeat':
      return { kind, commit: u64(b, 'commit'), context: bytes(b, 'context') };
    case 'heartbeatResponse':
      return { kind, context: bytes(b, 'context') };
    case 'installSnapshot': {
      const md = sub(b, 'metadata');
      const index = u64(md, 'index');
      const snapTerm = u64(md, 'term');
      if (index === 0 || snapTerm === 0 || snapTerm > term) bad('snapshot metadata out of range');
      // The core takes whole snapshots; splitting into chunks is the transport's business.
      if (u64(b, 'offset') !== 0 || !bool(b, 'done')) bad('snapshot chunk must be reassembled');
      const cs = md['confState'];
      return {
        kind,
        snapshot: {
          metadata: {
            index,
            term: snapTerm,
            confState:
              cs === undefined || cs === null
                ? { voters: [], learners: [] }
                : confState(sub(md, 'confState')),
          },
          data: bytes(b, 'data'),
        },
      };
    }
    case 'installSnapshotResponse':
      return { kind, index: u64(b, 'index'), success: bool(b, 'success') };
    case 'timeoutNow':
      return { kind };
    case 'readIndex':
      return { kind, context: bytes(b, 'context') };
    case 'readIndexResponse':
      return {
        kind,
        index: u64(b, 'index'),
        context: bytes(b, 'context'),
        ok: bool(b, 'ok'),
      };
  }
}

/**
 * Checks a message that came from the network and turns it into the core's typed form. Throws
 * RaftError('invalid-message') and changes nothing when anything is off.
 */
export function parseMessage(raw: Message, selfId: string, clusterId: string): InboundMessage {
  if (typeof raw !== 'object' || raw === null) bad('not an object');
  const m = raw as unknown as Fields;
  const from = str(m, 'from');
  const to = str(m, 'to');
  if (from.length === 0) bad('missing sender');
  if (from === selfId) bad('message from this member to itself');
  if (to !== selfId) bad(`addressed to ${JSON.stringify(to)}, this member is ${selfId}`);
  if (str(m, 'clusterId') !== clusterId) {
    bad(`cluster id ${JSON.stringify(str(m, 'clusterId'))} is not ${JSON.stringify(clusterId)}`);
  }
  const term = u64(m, 'term');
  let kind: (typeof BODY_KEYS)[number] | undefined;
  for (const k of BODY_KEYS) {
    if (m[k] !== undefined && m[k] !== null) {
      if (kind !== undefined) bad('more than one body');
      kind = k;
    }
  }
  if (kind === undefined) bad('no body');
  return { from, to, term, body: body(kind, sub(m, kind), term) };
}
