import type { Message } from '../types.js';

/** One-line description of a Raft message, for traces. */
export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} t${m.term ?? 0}`;
  if (m.requestVote) {
    const b = m.requestVote;
    return `${head} ${b.preVote ? 'PreVote' : 'Vote'}${b.leaderTransfer ? '(transfer)' : ''} last=${b.lastLogIndex ?? 0}/t${b.lastLogTerm ?? 0}`;
  }
  if (m.requestVoteResponse) {
    const b = m.requestVoteResponse;
    return `${head} ${b.preVote ? 'PreVoteResp' : 'VoteResp'} ${b.granted ? 'granted' : 'rejected'}`;
  }
  if (m.appendEntries) {
    const b = m.appendEntries;
    const n = b.entries?.length ?? 0;
    const range = n > 0 ? ` [${b.entries![0]!.index}..${b.entries![n - 1]!.index}]` : '';
    return `${head} App prev=${b.prevLogIndex ?? 0}/t${b.prevLogTerm ?? 0} n=${n}${range} commit=${b.leaderCommit ?? 0}`;
  }
  if (m.appendEntriesResponse) {
    const b = m.appendEntriesResponse;
    return b.success
      ? `${head} AppResp ok match=${b.matchIndex ?? 0}`
      : `${head} AppResp reject idx=${b.rejectIndex ?? 0} hint=${b.rejectHint ?? 0}`;
  }
  if (m.heartbeat) {
    return `${head} Heartbeat commit=${m.heartbeat.commit ?? 0} ctx=${m.heartbeat.context?.length ?? 0}B`;
  }
  if (m.heartbeatResponse) return `${head} HeartbeatResp`;
  if (m.installSnapshot) {
    const md = m.installSnapshot.metadata;
    return `${head} Snapshot idx=${md?.index ?? 0}/t${md?.term ?? 0}`;
  }
  if (m.installSnapshotResponse) {
    const b = m.installSnapshotResponse;
    return `${head} SnapshotResp ${b.success ? 'ok' : 'fail'} idx=${b.index ?? 0}`;
  }
  if (m.timeoutNow) return `${head} TimeoutNow`;
  if (m.readIndex) return `${head} ReadIndex`;
  if (m.readIndexResponse) {
    const b = m.readIndexResponse;
    return `${head} ReadIndexResp ${b.ok ? 'ok' : 'refused'} idx=${b.index ?? 0}`;
  }
  return `${head} (no body)`;
}

type Detail = string | Message;

/**
 * The last events of a run, kept in a ring buffer and formatted only when printed (a passing
 * run never pays for the strings).
 */
export class Trace {
  private readonly times: number[];
  private readonly details: Detail[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.times = new Array<number>(capacity);
    this.details = new Array<Detail>(capacity);
  }

  add(time: number, detail: Detail): void {
    if (this.capacity === 0) return;
    this.times[this.next] = time;
    this.details[this.next] = detail;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  lines(): string[] {
    const out: string[] = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) {
      const k = (start + i) % this.capacity;
      const d = this.details[k]!;
      out.push(`@${this.times[k]} ${typeof d === 'string' ? d : 'deliver ' + describeMessage(d)}`);
    }
    return out;
  }
}
