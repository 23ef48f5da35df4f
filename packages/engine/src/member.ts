import type { ReplicaSession } from '@ballast/session';

export type MemberState = 'active' | 'removing' | 'removed';

/** One replica of the set, as this engine sees it. */
export class Member {
  state: MemberState = 'active';
  /** Resolves once meta has committed this replica's removal from the set. */
  removal: Promise<void> | null = null;
  inFlight = 0;
  writeFailures = 0;
  readFailures = 0;
  checksumErrors = 0;
  repairs = 0;
  lastError: string | null = null;
  /** Counted in-sync by this engine after a rebuild; meta has not confirmed it yet. */
  promotionPending = false;

  constructor(
    readonly nodeId: string,
    public role: 'in-sync' | 'rebuilding',
    public session: ReplicaSession | null,
    /** The map's incarnation of this replica: its session's fence, its removal's and promotion's key. */
    readonly incarnation: number,
  ) {}
}
