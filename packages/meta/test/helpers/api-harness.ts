import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { BallastError } from '@ballast/common';
import {
  buildApi,
  DirectMetaStore,
  GiB,
  NodeLiveness,
  type ApiOptions,
  type ApplyResult,
  type ClusterMapReader,
  type ClusterStatus,
  type DirectMetaStoreOptions,
  type Command,
  type LeaderHint,
  type MetaStore,
  type WatchListener,
  type WatchSubscription,
} from '../../src/index.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface ApiHarness {
  app: FastifyInstance;
  store: DirectMetaStore;
  liveness: NodeLiveness;
  clock: { nowMs: number };
  /** inject with the token. */
  call(
    method: InjectOptions['method'],
    url: string,
    payload?: unknown,
  ): Promise<LightMyRequestResponse>;
  /** The map as JSON without the applied index (refused commands still consume log indexes). */
  mapState(): string;
}

/**
 * A real API over a DirectMetaStore, with a settable clock and sequential ids so tests are
 * deterministic. The app is closed when the test ends.
 */
export async function startApi(
  t: Teardown,
  options: Partial<ApiOptions> = {},
  storeOptions: DirectMetaStoreOptions = {},
): Promise<ApiHarness> {
  const clock = { nowMs: 1_700_000_000_000 };
  const store = new DirectMetaStore({
    clock: () => clock.nowMs,
    apiUrl: 'http://meta-1.test:7000',
    ...storeOptions,
  });
  const counters = { node: 0, volume: 0, task: 0, snapshot: 0 };
  const liveness = options.liveness ?? new NodeLiveness();
  const app = await buildApi({
    store,
    token: TOKEN,
    clock: () => clock.nowMs,
    newId: (kind) => `${kind}-${++counters[kind]}`,
    liveness,
    ...options,
  });
  t.teardown(async () => {
    // In-process websockets (injectWS) never finish a close handshake; drop them so that ws's
    // 30 s close timers do not keep the test process alive.
    for (const client of app.websocketServer.clients) client.terminate();
    await app.close();
  });
  return {
    app,
    store,
    liveness,
    clock,
    call: (method, url, payload) =>
      app.inject({
        method,
        url,
        headers: AUTH,
        ...(payload === undefined ? {} : { payload: payload as object }),
      }),
    mapState: () => JSON.stringify({ ...store.map.snapshot(), appliedIndex: 0 }),
  };
}

/** Registers nodes n1..nN in zones z1..zN (round robin over `zones`), 100 GiB each. */
export async function addNodes(api: ApiHarness, count: number, zones = count): Promise<void> {
  for (let i = 1; i <= count; i++) {
    const res = await api.call('POST', '/v1/nodes', {
      id: `n${i}`,
      address: `10.0.0.${i}:7100`,
      labels: { zone: `z${((i - 1) % zones) + 1}`, host: `h${i}` },
      capacityBytes: 100 * GiB,
    });
    if (res.statusCode !== 201) throw new Error(`register n${i}: ${res.statusCode} ${res.body}`);
  }
}

/**
 * A MetaStore with no leader: reads of the local map work, everything that needs the log or a
 * linearizable read fails with UNAVAILABLE, as a Raft member does during an election. A test
 * double for that condition only (the Raft-backed store does not exist yet).
 */
export class LeaderlessStore implements MetaStore {
  constructor(private readonly inner: DirectMetaStore) {}
  get map(): ClusterMapReader {
    return this.inner.map;
  }
  async propose(_command: Command): Promise<ApplyResult> {
    throw new BallastError('UNAVAILABLE', 'no leader: an election is in progress', {
      leader: null,
    });
  }
  async linearizableRead(): Promise<void> {
    throw new BallastError('UNAVAILABLE', 'no leader: an election is in progress', {
      leader: null,
    });
  }
  watch(fromRevision: number, listener: WatchListener): WatchSubscription {
    return this.inner.watch(fromRevision, listener);
  }
  status(): ClusterStatus {
    return {
      ...this.inner.status(),
      leader: null,
      members: this.inner.status().members.map((m) => ({ ...m, role: 'candidate' as const })),
    };
  }
  isLeader(): boolean {
    return false;
  }
  leaderHint(): LeaderHint | null {
    return null;
  }
  leaderSinceMs(): number | null {
    return null;
  }
}

export function isProblem(
  res: LightMyRequestResponse,
  status: number,
  code: string,
): string | null {
  if (res.statusCode !== status) return `status ${res.statusCode}, expected ${status}: ${res.body}`;
  if (!String(res.headers['content-type']).startsWith('application/problem+json')) {
    return `content-type ${res.headers['content-type']}`;
  }
  const body = res.json() as Record<string, unknown>;
  for (const key of ['type', 'title', 'detail', 'code']) {
    if (typeof body[key] !== 'string') return `problem without ${key}: ${res.body}`;
  }
  if (body.status !== status) return `problem status ${String(body.status)}`;
  if (body.code !== code)
    return `code ${String(body.code)}, expected ${code}: ${String(body.detail)}`;
  return null;
}
