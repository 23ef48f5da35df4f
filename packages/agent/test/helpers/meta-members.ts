// A replicated metadata service for process tests: `ballastd meta` members founding one Raft
// cluster on loopback (as users deploy it), and the test's own REST client for it. The client
// behaves like an operator's tool against several members: it talks to one member (a follower
// at first), takes a leader-only call to the leader a follower names in its 503, moves on from a
// member that does not answer, and retries through an election for a bounded time.
import { Fleet, ManagedProcess, ballastdProcess, freePort, waitFor } from '@ballast/testkit';

/** How long one REST call keeps retrying through elections and dead members. */
const CALL_RETRY_MS = 90_000;
/** Bound on the attempts of one call, whatever the deadline. */
const CALL_MAX_ATTEMPTS = 400;
/** Bound on one HTTP attempt: a SIGSTOPped or dying member must not hold a call. */
const ATTEMPT_TIMEOUT_MS = 10_000;
const BACKOFF_MIN_MS = 50;
const BACKOFF_MAX_MS = 500;
/** Unavailable (no leader, or a leader-only route on a follower), bad gateway, timeout. */
const RETRIED_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

export interface ApiReply<T> {
  status: number;
  body: T;
  /** The member that answered. */
  member: string;
}

export interface LeaderView {
  id: string;
  term: number;
}

interface ClusterStatus {
  members: Array<{ id: string; api: string; role: string }>;
  leader: string | null;
  term: number;
  commitIndex: number;
  revision: number;
}

export interface MetaMembersOptions {
  /** Member ids, e.g. ['m1', 'm2', 'm3']. */
  ids: string[];
  token: string;
  /** Flags every member gets after --id, --data-dir, --listen and --peers. */
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}

export class MetaMembers {
  readonly ids: readonly string[];
  readonly urls = new Map<string, string>();
  readonly procs = new Map<string, ManagedProcess>();
  readonly #token: string;
  /** The member calls start at; it changes only when it does not answer. */
  #home: string;

  private constructor(ids: string[], token: string) {
    this.ids = ids;
    this.#token = token;
    this.#home = ids[0]!;
  }

  /** Starts every member (data under the fleet's dir, logs in <id>.log) and waits for a leader. */
  static async start(fleet: Fleet, options: MetaMembersOptions): Promise<MetaMembers> {
    const members = new MetaMembers(options.ids, options.token);
    for (const id of options.ids) members.urls.set(id, `http://127.0.0.1:${await freePort()}`);
    const peers = options.ids.map((id) => `${id}=${members.urls.get(id)!}`).join(',');
    for (const id of options.ids) {
      const proc = fleet.add(
        ballastdProcess({
          role: 'meta',
          id,
          args: [
            '--id',
            id,
            '--data-dir',
            fleet.path(id),
            '--listen',
            members.urls.get(id)!.slice('http://'.length),
            '--peers',
            peers,
            ...(options.extraArgs ?? []),
          ],
          env: { BALLAST_TOKEN: options.token, ...options.env },
          logFile: fleet.path(`${id}.log`),
          readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
        }),
      );
      members.procs.set(id, proc);
    }
    await Promise.all([...members.procs.values()].map((p) => p.start()));
    const leader = await members.waitForLeader('a first meta leader');
    // The test talks to a follower, as a client that knows every member may: its reads are
    // served there (ReadIndex), its writes forwarded to the leader.
    members.#home = members.#next(leader.id);
    return members;
  }

  /** Every member's URL, comma-separated (the --meta flag of nodes and agents). */
  get urlList(): string {
    return this.ids.map((id) => this.urls.get(id)!).join(',');
  }

  /** Members whose process runs (not killed, not stopped). */
  get live(): string[] {
    return this.ids.filter((id) => {
      const p = this.procs.get(id)!;
      return p.running && !p.paused;
    });
  }

  /** One attempt at one member; network errors and timeouts throw. */
  async callMember<T>(
    id: string,
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = ATTEMPT_TIMEOUT_MS,
  ): Promise<ApiReply<T>> {
    const url = this.urls.get(id);
    if (url === undefined) throw new Error(`no meta member ${id}`);
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed as T, member: id };
  }

  /**
   * A call to the metadata service, whichever member answers. Reads are linearizable on every
   * member and followers forward writes, so any member will do; a 502, 503 or 504 (no leader
   * yet, a leader-only route on a follower, a proposal cut short by a leader's death) or a member
   * that does not answer is retried elsewhere until
   * CALL_RETRY_MS. The test's writes are idempotent (settings, node states) or made while the
   * cluster is stable, so a retried write whose first attempt landed does no harm. Any other
   * answer is returned as it is.
   */
  async call<T>(method: string, path: string, body?: unknown): Promise<ApiReply<T>> {
    const deadline = Date.now() + CALL_RETRY_MS;
    let lastProblem = 'no attempt made';
    let target = this.#home;
    for (let attempt = 0; attempt < CALL_MAX_ATTEMPTS && Date.now() < deadline; attempt++) {
      try {
        const reply = await this.callMember<T>(
          target,
          method,
          path,
          body,
          Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now())),
        );
        if (!RETRIED_STATUSES.has(reply.status)) return reply;
        lastProblem = `${target} answered ${reply.status}: ${JSON.stringify(reply.body)}`;
        const hinted = leaderHint(reply.body);
        const hintedId = [...this.urls].find(([, url]) => url === hinted)?.[0];
        // A follower named the leader: this call goes there at once (unless it named itself).
        if (hintedId !== undefined && hintedId !== target) {
          target = hintedId;
          continue;
        }
      } catch (err) {
        lastProblem = `${target}: ${(err as Error).message}`;
      }
      // The home member does not answer (or has no leader): later calls start at the next one.
      if (target === this.#home) this.#home = this.#next(target);
      target = this.#home;
      await sleep(Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 4)));
    }
    throw new Error(`meta did not answer ${method} ${path}: ${lastProblem}`);
  }

  /** `call`, and an error unless the answer is 2xx. */
  async ok<T>(method: string, path: string, body?: unknown): Promise<T> {
    const reply = await this.call<T>(method, path, body);
    if (reply.status < 200 || reply.status > 299) {
      throw new Error(
        `${method} ${path} on ${reply.member}: ${reply.status} ${JSON.stringify(reply.body)}`,
      );
    }
    return reply.body;
  }

  /**
   * Waits until a running member is leader and serves a linearizable read, as every running
   * member sees it, and returns it with its term.
   */
  async waitForLeader(what: string, timeoutMs = 120_000): Promise<LeaderView> {
    return waitFor(
      what,
      async () => {
        const live = this.live;
        const views = await Promise.all(
          live.map((id) =>
            this.callMember<ClusterStatus>(id, 'GET', '/v1/cluster', undefined, 5_000).catch(
              () => undefined,
            ),
          ),
        );
        const leader = views[0]?.body.leader;
        if (
          leader === null ||
          leader === undefined ||
          !live.includes(leader) ||
          views.some((v) => v === undefined || v.status !== 200 || v.body.leader !== leader)
        ) {
          return undefined;
        }
        // A read barrier only passes on a leader that a majority still follows.
        const read = await this.callMember(leader, 'GET', '/v1/volumes?limit=1', undefined, 5_000);
        if (read.status !== 200) return undefined;
        const term = views.find((v) => v!.member === leader)!.body.term;
        return { id: leader, term };
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  /** The member's own view of the cluster (members, leader, term, commit index, revision). */
  async status(id: string): Promise<ClusterStatus> {
    const reply = await this.callMember<ClusterStatus>(id, 'GET', '/v1/cluster');
    if (reply.status !== 200) throw new Error(`${id}: GET /v1/cluster ${reply.status}`);
    return reply.body;
  }

  #next(id: string): string {
    const i = this.ids.indexOf(id);
    return this.ids[(i + 1) % this.ids.length]!;
  }
}

function leaderHint(body: unknown): string | undefined {
  const details = (body as { details?: { leader?: { api?: unknown } | null } } | undefined)
    ?.details;
  const api = details?.leader?.api;
  return typeof api === 'string' ? api.replace(/\/+$/, '') : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
