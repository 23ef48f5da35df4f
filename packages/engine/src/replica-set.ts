import { assert } from '@ballast/common';
import type { Member } from './member.js';

/** Bound on replicas an operation can track: one bit per leg in its masks. */
export const MAX_TARGETS = 30;

/**
 * The replicas of the volume as one engine sees them: every member it opened, the ones taking
 * I/O (active) and, of those, the in-sync ones. The arrays are replaced, never changed in place,
 * so an operation keeps the set it was dispatched with.
 */
export class ReplicaSet {
  readonly members: Member[] = [];
  active: Member[] = [];
  activeInSync: Member[] = [];
  private readCursor = 0;

  constructor(private readonly preferred: ReadonlySet<string>) {}

  find(nodeId: string): Member | undefined {
    return this.members.find((m) => m.nodeId === nodeId);
  }

  add(member: Member): void {
    this.members.push(member);
  }

  /** After any change of a member's state, role or session. */
  recompute(): void {
    this.active = this.members.filter((m) => m.state === 'active' && m.session !== null);
    assert(this.active.length <= MAX_TARGETS, 'more replicas than an operation can track');
    this.activeInSync = this.active.filter((m) => m.role === 'in-sync');
  }

  /**
   * The only in-sync replica still taking I/O. Dropping it cannot let I/O go on elsewhere: it
   * would stop the volume (meta keeps it in the set, and the engine fails every request).
   */
  isLastInSync(m: Member): boolean {
    return this.activeInSync.length === 1 && this.activeInSync[0] === m;
  }

  /**
   * The in-sync replica a read goes to next: one on this host first, else the least loaded
   * (ties rotate so equal replicas share the reads); never one in `tried`.
   */
  pickForRead(tried: readonly Member[] | null): Member | null {
    const candidates = this.activeInSync;
    if (this.preferred.size > 0) {
      for (const m of candidates) {
        if (this.preferred.has(m.nodeId) && (tried === null || !tried.includes(m))) return m;
      }
    }
    const n = candidates.length;
    if (n === 0) return null;
    const startAt = this.readCursor++ % n;
    let best: Member | null = null;
    for (let k = 0; k < n; k++) {
      const m = candidates[(startAt + k) % n]!;
      if (tried !== null && tried.includes(m)) continue;
      if (best === null || m.inFlight < best.inFlight) best = m;
    }
    return best;
  }

  /** Node ids by role, for status and tests. */
  view(): { inSync: string[]; rebuilding: string[]; leaving: string[] } {
    return {
      inSync: this.activeInSync.map((m) => m.nodeId),
      rebuilding: this.active.filter((m) => m.role === 'rebuilding').map((m) => m.nodeId),
      leaving: this.members.filter((m) => m.state !== 'active').map((m) => m.nodeId),
    };
  }
}
