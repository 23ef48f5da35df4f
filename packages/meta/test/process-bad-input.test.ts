// Bad input against a real 3-member `ballastd meta` cluster: every malformed request gets a 4xx
// problem+json, nothing in the map changes, no member crashes; garbage on a member's /raft
// endpoint (unauthenticated, or authenticated and then undecodable frames) closes that
// connection and the cluster keeps committing.
import { createHmac, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import t from 'tap';
import WebSocket from 'ws';
import { registerFakeNodes } from './helpers/fake-nodes.js';
import { metaFleet, startMetaCluster, type MetaCluster } from './helpers/real-cluster.js';

async function mapState(cluster: MetaCluster, id: string): Promise<string> {
  const v = await cluster.call(id, 'GET', '/v1/volumes?limit=1000');
  const n = await cluster.call(id, 'GET', '/v1/nodes?limit=1000');
  const c = await cluster.call(id, 'GET', '/v1/cluster');
  const strip = (items: Array<Record<string, unknown>>) =>
    items.map((x) => ({
      ...x,
      lastHeartbeatAt: undefined,
      silentMs: undefined,
      reachable: undefined,
    }));
  return JSON.stringify({
    volumes: (v.body as { items: Array<Record<string, unknown>> }).items,
    nodes: strip((n.body as { items: Array<Record<string, unknown>> }).items),
    revision: (c.body as { revision: number }).revision,
    members: (c.body as { members: unknown[] }).members,
  });
}

/** Raw bytes to a port; resolves with what came back once the server closes the connection. */
function rawExchange(port: number, payload: Buffer, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(payload));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server did not close the connection'));
    }, timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

t.test('malformed API requests and /raft garbage change nothing', async (t) => {
  const fleet = metaFleet(t, 'meta-bad-input-');
  const cluster = await startMetaCluster(fleet, 3);
  const leader = await cluster.waitForLeader();
  await registerFakeNodes(cluster, leader);
  const created = await cluster.call(leader, 'POST', '/v1/volumes', { name: 'keep', size: '1GiB' });
  t.equal(created.status, 201, JSON.stringify(created.body));
  const follower = [...cluster.urls.keys()].find((id) => id !== leader)!;
  const before = await mapState(cluster, leader);

  const huge = JSON.stringify({
    name: 'big',
    size: '1GiB',
    nodeSelector: { k: 'x'.repeat(70_000) },
  });
  const cases: Array<[string, string, string | object | undefined, string?]> = [
    ['POST', '/v1/volumes', '{"name": "x", "size": '],
    ['POST', '/v1/volumes', { name: 5, size: '1GiB' }],
    ['POST', '/v1/volumes', { name: 'x', size: '1GiB', bogus: true }],
    ['POST', '/v1/volumes', { name: 'x', size: '-3GiB' }],
    ['POST', '/v1/volumes', huge],
    ['POST', '/v1/volumes', '[]'],
    ['POST', '/v1/volumes/keep/attach', { host: ['a'] }],
    ['POST', '/v1/volumes/keep/detach', { host: 'a', epoch: 'one' }],
    ['PUT', '/v1/nodes/node-a/labels', { labels: 'zone=a' }],
    ['POST', '/v1/nodes', { id: 'n', address: 12, capacityBytes: 1 }],
    ['POST', '/v1/cluster/members', { id: 'm9' }],
    ['POST', '/v1/cluster/members', { id: 'M 9', api: 'http://127.0.0.1:9' }],
    ['POST', '/v1/cluster/members', { id: 'm9', api: 'ftp://127.0.0.1:9' }],
    ['POST', '/v1/cluster/members', { id: 'm9', api: 'http://127.0.0.1:9/x', extra: 1 }],
    ['POST', '/v1/cluster/members', '{{{'],
    ['DELETE', '/v1/cluster/members/m9', undefined],
    ['DELETE', '/v1/cluster/members/BAD%20ID', undefined],
    ['POST', '/internal/v1/members', { action: 'explode', id: 'm1' }],
    ['POST', '/internal/v1/propose', { command: { type: 'deleteVolume' } }],
    ['POST', '/internal/v1/propose', { command: 'x' }],
  ];
  for (const target of [leader, follower]) {
    for (const [method, path, body] of cases) {
      const r = await cluster.call(target, method, path, body);
      const label = `${target} ${method} ${path} ${typeof body === 'string' ? body.slice(0, 40) : JSON.stringify(body)?.slice(0, 60)}`;
      t.ok(r.status >= 400 && r.status < 500, `${label} -> 4xx (got ${r.status})`);
      t.match(r.contentType, /application\/problem\+json/, `${label}: problem+json`);
      t.type((r.body as { code?: unknown }).code, 'string', `${label}: has a code`);
    }
    const noToken = await fetch(cluster.urls.get(target)! + '/v1/cluster/members', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'm9', api: 'http://127.0.0.1:9' }),
    });
    t.equal(noToken.status, 401, 'membership needs the admin token');
    const textBody = await fetch(cluster.urls.get(target)! + '/v1/volumes', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${cluster.token}` },
      body: 'name=x',
    });
    t.ok(
      textBody.status >= 400 && textBody.status < 500,
      `a body that is not JSON is refused (got ${textBody.status})`,
    );
  }

  // /raft garbage on the leader's port.
  const port = Number(new URL(cluster.urls.get(leader)!).port);
  const notHttp = await rawExchange(port, randomBytes(4096));
  t.notMatch(notHttp, /200 OK/, 'random bytes get no success answer');
  const forged = await rawExchange(
    port,
    Buffer.from(
      'GET /raft HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
        'x-ballast-cluster: ballast\r\nx-ballast-from: m9\r\nx-ballast-to: ' +
        leader +
        '\r\nx-ballast-auth: v1=00\r\n\r\n',
    ),
  );
  t.match(forged, /^HTTP\/1\.1 40[13]/, 'a forged Raft handshake is refused');

  // A peer that authenticates (the secret defaults to the admin token) and sends garbage frames.
  const from = follower;
  const proof = createHmac('sha256', cluster.token)
    .update(`ballast-raft-v1\nballast\n${from}\n${leader}`)
    .digest('hex');
  const closeCode = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/raft`, {
      headers: {
        'x-ballast-cluster': 'ballast',
        'x-ballast-from': from,
        'x-ballast-to': leader,
        'x-ballast-auth': `v1=${proof}`,
      },
    });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('garbage frames did not close the connection'));
    }, 10_000);
    ws.on('open', () => ws.send(randomBytes(512)));
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  t.equal(closeCode, 1008, 'undecodable Raft frames close the connection (policy violation)');

  // Nothing changed, nobody crashed, and the cluster still commits.
  for (const id of cluster.urls.keys()) t.ok(cluster.proc(id).running, `${id} is still running`);
  t.equal(await mapState(cluster, leader), before, 'the map is unchanged');
  const stillLeader = await cluster.waitForLeader();
  const after = await cluster.call(follower, 'POST', '/v1/volumes', {
    name: 'after',
    size: '1GiB',
  });
  t.equal(after.status, 201, `a write still commits: ${JSON.stringify(after.body)}`);
  t.ok(stillLeader, 'a leader serves');
});
