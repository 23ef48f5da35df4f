import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { BallastError } from '@ballast/common';
import type { PeerAddress, RaftMember } from '@ballast/raft-node';
import type { ApiContext } from '../api/index.js';
import { ClusterView, errorResponses } from '../api/schemas.js';
import type { ApplyResult } from '../map/index.js';
import type { RaftMetaStore } from '../store/raft-store.js';

/** Internal route on every member: the leader runs a membership change a follower forwarded. */
export const FORWARD_MEMBERSHIP_PATH = '/internal/v1/members';

const MemberId = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-z0-9][a-z0-9._-]*$',
  description: 'member id (lower-case letters, digits, . _ -)',
});
const ApiUrl = Type.String({
  minLength: 8,
  maxLength: 512,
  pattern: '^https?://[^/?#\\s]+/?$',
  description: "the member's API URL (scheme, host and port, no path); Raft uses /raft on it",
});

export const AddMemberBody = Type.Object(
  { id: MemberId, api: ApiUrl },
  { additionalProperties: false },
);
export type AddMemberBody = Static<typeof AddMemberBody>;

const MemberParams = Type.Object({ id: MemberId }, { additionalProperties: false });

const ForwardMembershipBody = Type.Union([
  Type.Object(
    { action: Type.Literal('add'), id: MemberId, api: ApiUrl },
    { additionalProperties: false },
  ),
  Type.Object({ action: Type.Literal('remove'), id: MemberId }, { additionalProperties: false }),
]);
type MembershipChange = Static<typeof ForwardMembershipBody>;

export interface MembershipOptions {
  member: RaftMember<ApplyResult>;
  store: RaftMetaStore;
  token: string;
  peerAddressFor(apiUrl: string): PeerAddress;
  /** How long a new learner may take to catch up before the add fails (it stays a learner). */
  catchUpTimeoutMs?: number;
  forwardTimeoutMs?: number;
}

const CATCH_UP_POLL_MS = 50;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Membership changes through the API. Each change runs on the leader (a follower forwards it to
 * the leader's internal route, as proposals are forwarded): adding puts the member in as a
 * learner with the peer address derived from its API URL, waits until its log has caught up
 * with the leader's commit index, then promotes it; removing refuses the last voter, and
 * removing the leader is left to Raft (the leader commits the change, then steps down and the
 * remaining voters elect a new one).
 */
export class MembershipService {
  readonly #o: MembershipOptions;
  readonly #catchUpTimeoutMs: number;
  readonly #forwardTimeoutMs: number;
  /** One change at a time on this member: Raft allows only one pending conf change anyway. */
  #busy = false;

  constructor(options: MembershipOptions) {
    this.#o = options;
    this.#catchUpTimeoutMs = options.catchUpTimeoutMs ?? 20_000;
    this.#forwardTimeoutMs = options.forwardTimeoutMs ?? this.#catchUpTimeoutMs + 5_000;
  }

  /** Runs the change here when leading, otherwise on the leader. */
  async change(change: MembershipChange): Promise<void> {
    if (this.#o.member.isLeader()) return this.changeAsLeader(change);
    const leader = this.#o.member.leaderHint();
    if (!leader || !leader.api || leader.id === this.#o.member.id) {
      throw new BallastError('UNAVAILABLE', 'no leader right now; retry shortly', {
        leader: null,
        safeToRetry: true,
      });
    }
    let res: Response;
    try {
      res = await fetch(leader.api.replace(/\/$/, '') + FORWARD_MEMBERSHIP_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#o.token}` },
        body: JSON.stringify(change),
        signal: AbortSignal.timeout(this.#forwardTimeoutMs),
      });
    } catch {
      throw new BallastError('UNAVAILABLE', `cannot reach the leader ${leader.id}; retry shortly`, {
        leader,
      });
    }
    if (res.ok) return;
    const body = (await res.json().catch(() => undefined)) as
      { code?: string; detail?: string; details?: { safeToRetry?: unknown } } | undefined;
    const passThrough = new Set(['INVALID_ARGUMENT', 'NOT_FOUND', 'CONFLICT', 'TIMEOUT']);
    const code = body?.code && passThrough.has(body.code) ? body.code : 'UNAVAILABLE';
    throw new BallastError(
      code as 'UNAVAILABLE',
      body?.detail ?? `the leader answered HTTP ${res.status}`,
      // The leader refused it before it entered the log: the client may simply retry.
      body?.details?.safeToRetry === true ? { leader, safeToRetry: true } : { leader },
    );
  }

  /** Only the leader runs changes (no forwarding chains). */
  async changeAsLeader(change: MembershipChange): Promise<void> {
    const member = this.#o.member;
    if (!member.isLeader()) {
      throw new BallastError('UNAVAILABLE', 'not the leader', {
        leader: member.leaderHint(),
        safeToRetry: true,
      });
    }
    if (this.#busy) {
      throw new BallastError(
        'CONFLICT',
        'another membership change is in progress; retry after it',
      );
    }
    this.#busy = true;
    try {
      if (change.action === 'add') await this.#add(change.id, change.api);
      else await this.#remove(change.id);
    } finally {
      this.#busy = false;
    }
  }

  async #add(id: string, api: string): Promise<void> {
    const member = this.#o.member;
    const address = this.#o.peerAddressFor(api);
    const existing = member.status().members.find((m) => m.id === id);
    if (existing && existing.apiUrl.replace(/\/$/, '') !== (address.apiUrl ?? '')) {
      throw new BallastError(
        'CONFLICT',
        `member ${id} already exists with API ${existing.apiUrl}; remove it first`,
      );
    }
    if (existing?.suffrage === 'voter') return; // the same add again: done already
    if (!existing) await member.addLearner(id, address);
    // Caught up: the learner holds everything committed when it was added (or later), so
    // promoting it does not leave the new quorum waiting for a member that is far behind.
    const target = member.status().commitIndex;
    const deadline = Date.now() + this.#catchUpTimeoutMs;
    for (;;) {
      const st = member.status();
      if (st.role !== 'leader') {
        throw new BallastError('UNAVAILABLE', 'lost leadership while adding the member; retry', {
          leader: st.leader,
        });
      }
      const info = st.members.find((m) => m.id === id);
      if (!info) throw new BallastError('CONFLICT', `member ${id} was removed while being added`);
      if ((info.match ?? 0) >= target) break;
      if (Date.now() > deadline) {
        throw new BallastError(
          'TIMEOUT',
          `member ${id} did not catch up within ${this.#catchUpTimeoutMs} ms (at ${info.match ?? 0} of ${target}); it stays a learner: check that it runs with --join and that ${address.peerUrl} is reachable, then add it again`,
        );
      }
      await sleep(CATCH_UP_POLL_MS);
    }
    await member.promote(id);
  }

  async #remove(id: string): Promise<void> {
    const member = this.#o.member;
    const members = member.status().members;
    const target = members.find((m) => m.id === id);
    if (!target) throw new BallastError('NOT_FOUND', `no member ${id}`);
    const voters = members.filter((m) => m.suffrage === 'voter');
    if (target.suffrage === 'voter' && voters.length === 1) {
      throw new BallastError('CONFLICT', `cannot remove ${id}: it is the last voter`);
    }
    await member.removeMember(id);
  }
}

/** Public routes (behind the admin token) and the internal forwarding route. */
export function membershipRoutes(service: MembershipService) {
  return async (app: FastifyInstance, ctx: ApiContext): Promise<void> => {
    const view = async () => {
      // The answer reflects the change: wait until this member applied everything committed.
      await ctx.store.linearizableRead().catch(() => undefined);
      return { ...ctx.store.status(), revision: ctx.store.map.revision };
    };

    app.post(
      '/v1/cluster/members',
      {
        schema: {
          body: AddMemberBody,
          tags: ['cluster'],
          summary:
            'Add a metadata member: it joins as a learner, catches up, then becomes a voter. Start it with --join first.',
          response: { 200: ClusterView, ...errorResponses },
        },
      },
      async (request) => {
        const { id, api } = request.body as AddMemberBody;
        await service.change({ action: 'add', id, api });
        return view();
      },
    );

    app.delete(
      '/v1/cluster/members/:id',
      {
        schema: {
          params: MemberParams,
          tags: ['cluster'],
          summary:
            'Remove a metadata member (refused for the last voter; removing the leader makes it step down)',
          response: { 200: ClusterView, ...errorResponses },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string };
        await service.change({ action: 'remove', id });
        return view();
      },
    );

    app.post(
      FORWARD_MEMBERSHIP_PATH,
      { schema: { hide: true, body: ForwardMembershipBody } as object },
      async (request) => {
        await service.changeAsLeader(request.body as MembershipChange);
        return { ok: true };
      },
    );
  };
}
