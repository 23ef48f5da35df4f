// One real `ballastd meta` member for the CLI's tests, with storage nodes registered through the
// API and kept up by heartbeats from the test (no node process: the tests look at the map).
import { randomBytes } from 'node:crypto';
import { Fleet, ballastdProcess, freePort, waitFor, type TestLike } from '@ballast/testkit';

export interface MetaUnderTest {
  url: string;
  token: string;
  /** BALLAST_ENDPOINT and BALLAST_TOKEN for `ballast`. */
  env: Record<string, string>;
  fleet: Fleet;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

export async function startMeta(
  t: TestLike,
  options: { prefix: string; nodes?: string[] },
): Promise<MetaUnderTest> {
  const fleet = Fleet.forTest(t, options.prefix);
  const token = randomBytes(16).toString('hex');
  const url = `http://127.0.0.1:${await freePort()}`;
  await fleet
    .add(
      ballastdProcess({
        role: 'meta',
        id: 'm1',
        args: [
          '--id',
          'm1',
          '--data-dir',
          fleet.path('m1'),
          '--listen',
          url.slice('http://'.length),
          '--peers',
          `m1=${url}`,
        ],
        env: { BALLAST_TOKEN: token },
        logFile: fleet.path('m1.log'),
      }),
    )
    .start();
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json().catch(() => null)) as unknown };
  };
  await waitFor('meta leads', async () => (await api('GET', '/v1/volumes')).status === 200, {
    timeoutMs: 30_000,
  });
  const nodes = options.nodes ?? [];
  for (const [i, id] of nodes.entries()) {
    const r = await api('POST', '/v1/nodes', {
      id,
      address: `127.0.0.1:${i + 1}`,
      labels: { zone: `z${i + 1}`, host: id },
      capacityBytes: 2 ** 40,
    });
    if (r.status !== 201 && r.status !== 200) throw new Error(`register ${id}: ${r.status}`);
  }
  // Heartbeats keep the nodes up however slow the machine is.
  let stopped = false;
  const heartbeats = (async () => {
    while (!stopped && nodes.length > 0) {
      for (const id of nodes) await api('POST', `/v1/nodes/${id}/heartbeat`, {}).catch(() => null);
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  t.teardown(async () => {
    stopped = true;
    await heartbeats;
  });
  return { url, token, env: { BALLAST_ENDPOINT: url, BALLAST_TOKEN: token }, fleet, api };
}
