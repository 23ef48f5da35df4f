// Real `ballastd meta` processes on loopback for the process tests and the benchmark.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  Fleet,
  ManagedProcess,
  ballastdProcess,
  freePort,
  waitFor,
  type TestLike,
} from '@ballast/testkit';

export interface ApiAnswer {
  status: number;
  body: unknown;
  contentType: string;
}

/** One REST call; network errors and timeouts throw (the caller decides what they mean). */
export async function callApi(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<ApiAnswer> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, contentType: res.headers.get('content-type') ?? '' };
}

export interface MetaCluster {
  fleet: Fleet;
  token: string;
  /** id -> API URL of every member started so far (removed ones included). */
  urls: Map<string, string>;
  proc(id: string): ManagedProcess;
  /** Starts a member that joins the running cluster (empty data dir, founds nothing). */
  startJoiner(id: string): Promise<string>;
  /** Waits until some member reports a leader that answers a linearizable read; returns its id. */
  waitForLeader(among?: string[], timeoutMs?: number): Promise<string>;
  call(
    id: string,
    method: string,
    path: string,
    body?: unknown,
    timeoutMs?: number,
  ): Promise<ApiAnswer>;
}

const joinerScript = fileURLToPath(new URL('../fixtures/joining-member.js', import.meta.url));

/** Starts `size` founding members of one cluster with `ballastd meta`. */
export async function startMetaCluster(
  fleet: Fleet,
  size: number,
  extraArgs: string[] = [],
): Promise<MetaCluster> {
  const token = randomBytes(16).toString('hex');
  const urls = new Map<string, string>();
  const ids = Array.from({ length: size }, (_, i) => `m${i + 1}`);
  for (const id of ids) urls.set(id, `http://127.0.0.1:${await freePort()}`);
  const peers = ids.map((id) => `${id}=${urls.get(id)!}`).join(',');
  const env = { BALLAST_TOKEN: token, BALLAST_LOG_LEVEL: 'info' };
  const procs = new Map<string, ManagedProcess>();
  for (const id of ids) {
    const p = fleet.add(
      ballastdProcess({
        role: 'meta',
        id,
        args: [
          '--id',
          id,
          '--data-dir',
          fleet.path(id),
          '--listen',
          urls.get(id)!.slice('http://'.length),
          '--peers',
          peers,
          ...extraArgs,
        ],
        env,
        logFile: fleet.path(`${id}.log`),
      }),
    );
    procs.set(id, p);
  }
  await Promise.all([...procs.values()].map((p) => p.start()));

  const call = (id: string, method: string, path: string, body?: unknown, timeoutMs?: number) =>
    callApi(urls.get(id)!, token, method, path, body, timeoutMs);

  const cluster: MetaCluster = {
    fleet,
    token,
    urls,
    proc: (id) => {
      const p = procs.get(id);
      if (!p) throw new Error(`no member ${id}`);
      return p;
    },
    startJoiner: async (id) => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      urls.set(id, url);
      const current: Record<string, string> = {};
      for (const [mid, u] of urls) current[mid] = u;
      const config = {
        id,
        dataDir: fleet.path(id),
        host: '127.0.0.1',
        port,
        peers: current,
        clusterId: 'ballast',
      };
      const p = fleet.add(
        new ManagedProcess({
          id,
          command: process.execPath,
          args: ['--enable-source-maps', joinerScript, JSON.stringify(config)],
          env: {
            ...process.env,
            ...env,
            BALLAST_PARENT_PID: String(process.pid),
          },
          logFile: fleet.path(`${id}.log`),
          readyTimeoutMs: 30_000,
          readyWhen: (_line, json) =>
            json && json.msg === 'ready' && typeof json.endpoints === 'object'
              ? json.endpoints
              : undefined,
        }),
      );
      procs.set(id, p);
      await p.start();
      return url;
    },
    waitForLeader: async (among = [...procs.keys()], timeoutMs = 30_000) => {
      let leader = '';
      await waitFor(
        'a meta leader that serves reads',
        async () => {
          for (const id of among) {
            const p = procs.get(id);
            if (!p || !p.running || p.paused) continue;
            try {
              const r = await call(id, 'GET', '/v1/cluster', undefined, 2_000);
              const b = r.body as { leader?: string | null };
              if (r.status !== 200 || !b.leader) continue;
              // A leader that can serve a read barrier (GET /v1/volumes reads through one).
              const v = await call(b.leader, 'GET', '/v1/volumes?limit=1', undefined, 2_000);
              if (v.status === 200) {
                leader = b.leader;
                return true;
              }
            } catch {
              // not up yet
            }
          }
          return false;
        },
        { timeoutMs, intervalMs: 100 },
      );
      return leader;
    },
    call,
  };
  return cluster;
}

/** A fleet tied to the test (logs printed on failure, everything stopped and removed). */
export function metaFleet(t: TestLike, prefix: string): Fleet {
  return Fleet.forTest(t, prefix);
}
