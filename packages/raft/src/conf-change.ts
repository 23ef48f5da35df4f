import { ballast } from '@ballast/proto';
import { RaftError } from './errors.js';
import {
  ConfChangeType,
  EntryType,
  type ConfChange,
  type Entry,
  type HardState,
  NO_VOTE,
} from './types.js';

const CONF_CHANGE_TYPES = new Set<number>([
  ConfChangeType.CONF_ADD_VOTER,
  ConfChangeType.CONF_REMOVE_NODE,
  ConfChangeType.CONF_ADD_LEARNER,
]);

export function validateConfChange(cc: ConfChange): ConfChange {
  if (typeof cc !== 'object' || cc === null) {
    throw new RaftError('invalid-conf-change', 'conf change must be an object');
  }
  if (!CONF_CHANGE_TYPES.has(cc.type)) {
    throw new RaftError('invalid-conf-change', `unknown conf change type ${String(cc.type)}`);
  }
  if (typeof cc.nodeId !== 'string' || cc.nodeId.length === 0) {
    throw new RaftError('invalid-conf-change', 'conf change needs a node id');
  }
  if (cc.context !== undefined && !(cc.context instanceof Uint8Array)) {
    throw new RaftError('invalid-conf-change', 'conf change context must be bytes');
  }
  return cc;
}

/** The bytes of a conf change entry (ballast.raft.ConfChange). */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  validateConfChange(cc);
  return ballast.raft.ConfChange.encode({
    type: cc.type,
    nodeId: cc.nodeId,
    context: cc.context ?? new Uint8Array(0),
  }).finish();
}

/** Decodes a conf change entry's data; throws RaftError('invalid-conf-change') on garbage. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  let decoded: ballast.raft.ConfChange;
  try {
    decoded = ballast.raft.ConfChange.decode(data);
  } catch (err) {
    throw new RaftError('invalid-conf-change', `undecodable conf change: ${String(err)}`);
  }
  return validateConfChange({
    type: decoded.type,
    nodeId: decoded.nodeId,
    context: decoded.context,
  });
}

export function isConfChangeEntry(e: Entry): boolean {
  return e.type === EntryType.ENTRY_CONF_CHANGE;
}

/**
 * The log every founding member starts with: one committed "add voter" per member at term 1,
 * in the same order everywhere (as etcd's bootstrap does). The application applies them like
 * any conf change, so members that join later learn the founding configuration by replaying
 * the same entries (or from a snapshot).
 */
export function bootstrapEntries(voters: readonly string[]): {
  entries: Entry[];
  hardState: HardState;
} {
  const ids = [...new Set(voters)].sort();
  if (ids.length === 0 || ids.length !== voters.length || ids.some((id) => id.length === 0)) {
    throw new RaftError('invalid-argument', 'bootstrap needs distinct, non-empty member ids');
  }
  const entries = ids.map((nodeId, i) => ({
    term: 1,
    index: i + 1,
    type: EntryType.ENTRY_CONF_CHANGE,
    data: encodeConfChange({ type: ConfChangeType.CONF_ADD_VOTER, nodeId }),
  }));
  return { entries, hardState: { term: 1, vote: NO_VOTE, commit: entries.length } };
}
