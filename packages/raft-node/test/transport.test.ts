import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import t, { type Test } from 'tap';
import { createLogger } from '@ballast/common';
import { ballast } from '@ballast/proto';
import { RaftError, type Message } from '@ballast/raft';
import { freePort, waitFor } from '@ballast/testkit';
import { WebSocket, WebSocketServer } from 'ws';
import { RaftMetrics } from '../src/metrics.js';
import {
  HEADER_AUTH,
  HEADER_CLUSTER,
  HEADER_FROM,
  HEADER_TO,
  RaftTransport,
  raftAuthToken,
  type TransportOptions,
} from '../src/transport.js';

const SECRET = 'test-secret-0123456789';
const log = createLogger({ name: 'transport-test', level: 'silent', pretty: false });

interface Node {
  transport: RaftTransport;
  metrics: RaftMetrics;
  received: Message[];
  unreachable: string[];
  snapshots: Array<{ peer: string; ok: boolean }>;
  url: string;
  /** When set, the handler throws this for every message (to test invalid-message handling). */
  throwOnMessage?: Error;
}

async function node(
  t: Test,
  id: string,
  options: Partial<TransportOptions> & { port?: number } = {},
): Promise<Node> {
  const metrics = new RaftMetrics();
  const transport = new RaftTransport({
    clusterId: 'c1',
    memberId: id,
    secret: SECRET,
    logger: log,
    metrics,
    reconnectInitialDelayMs: 20,
    reconnectMaxDelayMs: 200,
    ...options,
  });
  const n: Node = {
    transport,
    metrics,
    received: [],
    unreachable: [],
    snapshots: [],
    url: '',
  };
  transport.setHandler({
    onMessage: (m) => {
      if (n.throwOnMessage) throw n.throwOnMessage;
      n.received.push(m);
    },
    onUnreachable: (p) => n.unreachable.push(p),
    onSnapshotStatus: (peer, ok) => n.snapshots.push({ peer, ok }),
  });
  n.url = await transport.listen({ port: options.port ?? 0 });
  t.teardown(() => transport.close());
  return n;
}

function heartbeat(from: string, to: string, commit: number, clusterId = 'c1'): Message {
  return { clusterId, from, to, term: 3, heartbeat: { commit, context: new Uint8Array(0) } };
}

async function counterValue(
  metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get();
  let sum = 0;
  for (const v of values) {
    if (Object.entries(labels).every(([k, want]) => v.labels[k] === want)) sum += v.value;
  }
  return sum;
}

/** An authenticated raw client, as a peer `from` would connect to `to`. */
function rawClient(
  url: string,
  from: string,
  to: string,
  clusterId = 'c1',
  secret = SECRET,
): WebSocket {
  return new WebSocket(url, {
    headers: {
      [HEADER_CLUSTER]: clusterId,
      [HEADER_FROM]: from,
      [HEADER_TO]: to,
      [HEADER_AUTH]: raftAuthToken(secret, clusterId, from, to),
    },
  });
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

/** The HTTP status a handshake is refused with. */
function refusedWith(ws: WebSocket): Promise<number> {
  ws.on('error', () => undefined); // terminate() during the handshake reports an error
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => reject(new Error('handshake unexpectedly accepted')));
  });
}

t.test('messages flow both ways and decode to what was sent', async (t) => {
  const a = await node(t, 'm1');
  const b = await node(t, 'm2');
  a.transport.setPeer('m2', b.url);
  b.transport.setPeer('m1', a.url);
  a.transport.send([heartbeat('m1', 'm2', 7)]);
  b.transport.send([
    {
      clusterId: 'c1',
      from: 'm2',
      to: 'm1',
      term: 3,
      appendEntriesResponse: { success: true, matchIndex: 42 },
    },
  ]);
  await waitFor('delivery', () => a.received.length === 1 && b.received.length === 1);
  t.equal(b.received[0]!.from, 'm1');
  t.equal(Number(b.received[0]!.heartbeat!.commit), 7);
  t.equal(Number(a.received[0]!.appendEntriesResponse!.matchIndex), 42);
  t.same(a.transport.peerStats()['m2'], { connected: true, queuedMessages: 0, queuedBytes: 0 });
});

t.test(
  'reconnects with backoff after the peer restarts; reports it unreachable meanwhile',
  async (t) => {
    const a = await node(t, 'm1');
    const port = await freePort();
    let b = await node(t, 'm2', { port });
    a.transport.setPeer('m2', b.url);
    a.transport.send([heartbeat('m1', 'm2', 1)]);
    await waitFor('first delivery', () => b.received.length === 1);
    await b.transport.close();
    // While m2 is down, sends queue (bounded) and m1 hears that m2 is unreachable.
    a.transport.send([heartbeat('m1', 'm2', 2)]);
    await waitFor('unreachable report', () => a.unreachable.includes('m2'));
    await waitFor(
      'a failed reconnect attempt',
      async () =>
        (await counterValue(a.metrics.peerConnects, { peer: 'm2', outcome: 'failed' })) >= 1,
    );
    b = await node(t, 'm2', { port });
    // The queued message and new ones arrive on the new connection.
    a.transport.send([heartbeat('m1', 'm2', 3)]);
    await waitFor('delivery after restart', () =>
      b.received.some((m) => Number(m.heartbeat?.commit) === 3),
    );
    t.ok(
      b.received.some((m) => Number(m.heartbeat?.commit) === 2),
      'the message queued while the peer was down was delivered',
    );
    t.ok(a.transport.peerStats()['m2']!.connected);
  },
);

t.test('send queues are bounded; old non-critical messages go first', async (t) => {
  const port = await freePort(); // nothing listens here yet
  const a = await node(t, 'm1', {
    maxQueueMessages: 100,
    maxQueueBytes: 64 * 1024,
    reconnectInitialDelayMs: 5000,
    reconnectMaxDelayMs: 5000,
  });
  a.transport.setPeer('m2', `ws://127.0.0.1:${port}/raft`);
  for (let i = 0; i < 50; i++) a.transport.send([heartbeat('m1', 'm2', i)]);
  a.transport.send([
    {
      clusterId: 'c1',
      from: 'm1',
      to: 'm2',
      term: 4,
      requestVote: { lastLogIndex: 9, lastLogTerm: 3 },
    },
  ]);
  for (let i = 50; i < 10_000; i++) a.transport.send([heartbeat('m1', 'm2', i)]);
  const stats = a.transport.peerStats()['m2']!;
  t.ok(stats.queuedMessages <= 100, `queue holds ${stats.queuedMessages} <= 100 messages`);
  const dropped = await counterValue(a.metrics.peerDropped, { peer: 'm2', reason: 'queue-full' });
  t.equal(
    dropped + stats.queuedMessages,
    10_001,
    'every message is either queued or counted as dropped',
  );
  // Large messages hit the byte bound.
  const big: Message = {
    clusterId: 'c1',
    from: 'm1',
    to: 'm2',
    term: 3,
    appendEntries: {
      prevLogIndex: 1,
      prevLogTerm: 1,
      leaderCommit: 1,
      entries: [{ index: 2, term: 3, type: 0, data: randomBytes(20_000) }],
    },
  };
  for (let i = 0; i < 20; i++) a.transport.send([big]);
  t.ok(a.transport.peerStats()['m2']!.queuedBytes <= 64 * 1024, 'byte bound holds');
  // The peer comes up: the vote survived the flood of heartbeats.
  const b = await node(t, 'm2', { port });
  a.transport.setPeer('m2', b.url); // same URL: keeps the queue
  await waitFor('queued messages delivered', () => b.received.some((m) => m.requestVote), {
    timeoutMs: 20_000,
  });
  t.pass('the critical message was kept and delivered');
});

t.test('stale messages are dropped rather than sent', async (t) => {
  const port = await freePort();
  const a = await node(t, 'm1', {
    maxMessageAgeMs: 1,
    reconnectInitialDelayMs: 50,
    reconnectMaxDelayMs: 50,
  });
  a.transport.setPeer('m2', `ws://127.0.0.1:${port}/raft`);
  a.transport.send([heartbeat('m1', 'm2', 1)]);
  await waitFor('connect failure', () => a.unreachable.length > 0);
  await new Promise((r) => setTimeout(r, 20)); // let the queued heartbeat age past 1 ms
  const b = await node(t, 'm2', { port });
  a.transport.send([
    {
      clusterId: 'c1',
      from: 'm1',
      to: 'm2',
      term: 4,
      requestVote: { lastLogIndex: 1, lastLogTerm: 1 },
    },
  ]);
  await waitFor('the vote request arrives', () => b.received.some((m) => m.requestVote));
  t.notOk(
    b.received.some((m) => m.heartbeat),
    'the stale heartbeat was not sent',
  );
  t.ok((await counterValue(a.metrics.peerDropped, { reason: 'stale' })) >= 1);
});

t.test('handshakes are authenticated: secret, cluster, addressee', async (t) => {
  const a = await node(t, 'm1');
  t.equal(await refusedWith(rawClient(a.url, 'm2', 'm1', 'c1', 'wrong-secret-0123456789')), 401);
  t.equal(await refusedWith(rawClient(a.url, 'm2', 'm1', 'other-cluster')), 403);
  t.equal(await refusedWith(rawClient(a.url, 'm2', 'm9')), 403);
  // A token for another sender does not work for this one.
  const forged = new WebSocket(a.url, {
    headers: {
      [HEADER_CLUSTER]: 'c1',
      [HEADER_FROM]: 'm3',
      [HEADER_TO]: 'm1',
      [HEADER_AUTH]: raftAuthToken(SECRET, 'c1', 'm2', 'm1'),
    },
  });
  t.equal(await refusedWith(forged), 401);
  t.equal(await refusedWith(new WebSocket(a.url)), 403, 'no headers at all');
  t.equal(await counterValue(a.metrics.connectionsRejected, { reason: 'bad-auth' }), 2);
  t.equal(await counterValue(a.metrics.connectionsRejected, { reason: 'cluster-mismatch' }), 2);
  // A transport of another cluster cannot connect either.
  const other = new RaftTransport({
    clusterId: 'c2',
    memberId: 'm2',
    secret: SECRET,
    logger: log,
    metrics: new RaftMetrics(),
  });
  t.teardown(() => other.close());
  other.setHandler({
    onMessage: () => undefined,
    onUnreachable: () => undefined,
    onSnapshotStatus: () => undefined,
  });
  other.setPeer('m1', a.url);
  other.send([heartbeat('m2', 'm1', 1, 'c2')]);
  await waitFor(
    'another refusal',
    async () =>
      (await counterValue(a.metrics.connectionsRejected, { reason: 'cluster-mismatch' })) >= 3,
  );
  t.equal(a.received.length, 0, 'nothing was delivered');
});

t.test('a message of another cluster is dropped and counted; the connection stays', async (t) => {
  const a = await node(t, 'm1');
  const ws = rawClient(a.url, 'm2', 'm1');
  await opened(ws);
  t.teardown(() => ws.terminate());
  ws.send(ballast.raft.RaftMessage.encode(heartbeat('m2', 'm1', 5, 'other')).finish());
  ws.send(ballast.raft.RaftMessage.encode(heartbeat('m2', 'm1', 6)).finish());
  await waitFor('the good message', () => a.received.length === 1);
  t.equal(Number(a.received[0]!.heartbeat!.commit), 6);
  t.equal(await counterValue(a.metrics.messagesRejected, { reason: 'cluster-mismatch' }), 1);
  t.equal(ws.readyState, WebSocket.OPEN, 'connection still open');
});

t.test('garbage closes that connection and changes nothing else', async (t) => {
  const a = await node(t, 'm1', { maxFrameBytes: 256 * 1024, snapshotChunkBytes: 64 * 1024 });
  const cases: Array<[string, (ws: WebSocket) => void, string]> = [
    [
      'random bytes',
      (ws) => ws.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02])),
      'undecodable',
    ],
    ['a text frame', (ws) => ws.send('hello'), 'text-frame'],
    [
      'a message claiming another sender',
      (ws) => ws.send(ballast.raft.RaftMessage.encode(heartbeat('m3', 'm1', 1)).finish()),
      'wrong-sender',
    ],
  ];
  for (const [name, act, reason] of cases) {
    const ws = rawClient(a.url, 'm2', 'm1');
    await opened(ws);
    const code = closed(ws);
    act(ws);
    t.equal(await code, 1008, `${name}: closed with 1008`);
    t.equal(await counterValue(a.metrics.connectionsRejected, { reason }), 1, `${name}: counted`);
  }
  // Truncated frames: a valid message cut short.
  const full = ballast.raft.RaftMessage.encode(heartbeat('m2', 'm1', 123456)).finish();
  let truncatedClosed = 0;
  for (let cut = 1; cut < full.length; cut++) {
    const ws = rawClient(a.url, 'm2', 'm1');
    await opened(ws);
    const code = closed(ws);
    ws.send(full.subarray(0, cut));
    // Some prefixes decode to a valid (shorter) message; the rest must close the connection.
    const result = await Promise.race([code, new Promise((r) => setTimeout(() => r('open'), 50))]);
    if (result === 1008) truncatedClosed++;
    ws.terminate();
  }
  t.ok(truncatedClosed > 0, `${truncatedClosed} truncated frames closed their connection`);
  // Oversized frame: ws refuses it (1009) before we see it.
  const ws = rawClient(a.url, 'm2', 'm1');
  await opened(ws);
  const code = closed(ws);
  ws.send(Buffer.alloc(300 * 1024));
  t.equal(await code, 1009, 'an oversized frame closes with 1009');
  // A decodable message the core refuses is counted, and the connection stays.
  a.throwOnMessage = new RaftError('invalid-message', 'bad');
  const ws2 = rawClient(a.url, 'm2', 'm1');
  await opened(ws2);
  t.teardown(() => ws2.terminate());
  ws2.send(ballast.raft.RaftMessage.encode(heartbeat('m2', 'm1', 1)).finish());
  await waitFor(
    'counted',
    async () =>
      (await counterValue(a.metrics.messagesRejected, { reason: 'invalid-message' })) === 1,
  );
  t.equal(ws2.readyState, WebSocket.OPEN);
  a.throwOnMessage = undefined;
  // After all that, a well-behaved peer still gets through.
  const b = await node(t, 'm2');
  b.transport.setPeer('m1', a.url);
  b.transport.send([heartbeat('m2', 'm1', 99)]);
  await waitFor('good delivery', () => a.received.some((m) => Number(m.heartbeat?.commit) === 99));
  t.pass('transport still serves other connections');
});

t.test('large snapshots travel in chunks and arrive whole', async (t) => {
  const chunk = 64 * 1024;
  // A small socket high-water mark: the sender must pause and resume as the socket drains.
  const a = await node(t, 'm1', {
    snapshotChunkBytes: chunk,
    maxFrameBytes: 256 * 1024,
    socketHighWaterBytes: 100 * 1024,
  });
  const b = await node(t, 'm2', { snapshotChunkBytes: chunk, maxFrameBytes: 256 * 1024 });
  a.transport.setPeer('m2', b.url);
  const data = randomBytes(1024 * 1024 + 333);
  const snap: Message = {
    clusterId: 'c1',
    from: 'm1',
    to: 'm2',
    term: 7,
    installSnapshot: {
      metadata: { index: 500, term: 6, confState: { voters: ['m1', 'm2'], learners: [] } },
      offset: 0,
      data,
      done: true,
    },
  };
  a.transport.send([snap, heartbeat('m1', 'm2', 1)]);
  await waitFor('snapshot delivered', () => b.received.some((m) => m.installSnapshot));
  const got = b.received.find((m) => m.installSnapshot)!.installSnapshot!;
  t.equal(Number(got.offset), 0);
  t.equal(got.done, true);
  t.equal(Number(got.metadata!.index), 500);
  t.ok(Buffer.from(got.data!).equals(data), 'reassembled bytes are identical');
  t.ok(
    (await counterValue(a.metrics.messagesSent)) >= Math.ceil(data.length / chunk),
    'sent as many frames as chunks',
  );
  await waitFor('sender reports success', () => a.snapshots.some((s) => s.peer === 'm2' && s.ok));
  t.ok(
    b.received.some((m) => m.heartbeat),
    'other messages still flow',
  );
});

t.test('snapshot chunks out of order are dropped; a dead peer fails the send', async (t) => {
  const a = await node(t, 'm1', { snapshotChunkBytes: 1024, maxFrameBytes: 128 * 1024 });
  const ws = rawClient(a.url, 'm2', 'm1');
  await opened(ws);
  t.teardown(() => ws.terminate());
  const meta = { index: 10, term: 2, confState: { voters: ['m1'], learners: [] } };
  const chunk = (offset: number, bytes: number, done: boolean) =>
    ballast.raft.RaftMessage.encode({
      clusterId: 'c1',
      from: 'm2',
      to: 'm1',
      term: 2,
      installSnapshot: { metadata: meta, offset, data: Buffer.alloc(bytes, 1), done },
    }).finish();
  ws.send(chunk(0, 100, false));
  ws.send(chunk(200, 100, true)); // skips 100..199
  ws.send(ballast.raft.RaftMessage.encode(heartbeat('m2', 'm1', 1)).finish());
  await waitFor('heartbeat', () => a.received.length === 1);
  t.notOk(
    a.received.some((m) => m.installSnapshot),
    'no snapshot from a broken sequence',
  );
  t.equal(
    await counterValue(a.metrics.messagesRejected, { reason: 'snapshot-chunk-out-of-order' }),
    1,
  );

  // Sending to a peer that is down: the send fails and the core hears about it.
  const port = await freePort();
  a.transport.setPeer('m3', `ws://127.0.0.1:${port}/raft`);
  a.transport.send([
    {
      clusterId: 'c1',
      from: 'm1',
      to: 'm3',
      term: 2,
      installSnapshot: { metadata: meta, offset: 0, data: Buffer.alloc(5000), done: true },
    },
  ]);
  await waitFor('failure reported', () => a.snapshots.some((s) => s.peer === 'm3' && !s.ok));
  t.pass('snapshot send to a dead peer reported as failed');
});

t.test('attaches to an existing HTTP server next to other routes', async (t) => {
  const server = createServer((_req, res) => res.end('api'));
  const metrics = new RaftMetrics();
  const transport = new RaftTransport({
    clusterId: 'c1',
    memberId: 'm1',
    secret: SECRET,
    logger: log,
    metrics,
  });
  const received: Message[] = [];
  transport.setHandler({
    onMessage: (m) => received.push(m),
    onUnreachable: () => undefined,
    onSnapshotStatus: () => undefined,
  });
  transport.attach(server, '/raft');
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    await transport.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const port = (server.address() as { port: number }).port;
  t.equal(await (await fetch(`http://127.0.0.1:${port}/anything`)).text(), 'api');
  const b = await node(t, 'm2');
  b.transport.setPeer('m1', `ws://127.0.0.1:${port}/raft`);
  b.transport.send([heartbeat('m2', 'm1', 4)]);
  await waitFor('delivery through the shared server', () => received.length === 1);
  t.equal(received[0]!.from, 'm2');
});

t.test('a peer that stops answering pings is dropped and reported unreachable', async (t) => {
  // A WebSocket server that accepts anything and never answers pings (like a stopped process
  // whose kernel still holds the socket).
  const mute = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong: false });
  await new Promise((r) => mute.once('listening', r));
  t.teardown(() => new Promise((r) => mute.close(r)));
  const serverClosed = new Promise<void>((resolve) =>
    mute.on('connection', (ws) => ws.on('close', () => resolve())),
  );
  const port = (mute.address() as { port: number }).port;
  const a = await node(t, 'm1', { pingIntervalMs: 50 });
  a.transport.setPeer('m2', `ws://127.0.0.1:${port}/raft`);
  a.transport.send([heartbeat('m1', 'm2', 1)]);
  await serverClosed;
  await waitFor('unreachable report', () => a.unreachable.includes('m2'));
  t.pass('the silent connection was terminated');
});

t.test(
  'acceptSocket: sockets upgraded by another library (as @fastify/websocket does)',
  async (t) => {
    const a = await node(t, 'm1');
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    t.teardown(() => new Promise((r) => wss.close(r)));
    wss.on('connection', (ws, req) => a.transport.acceptSocket(ws, req));
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/raft`;
    const good = rawClient(url, 'm2', 'm1');
    await opened(good);
    t.teardown(() => good.terminate());
    good.send(ballast.raft.RaftMessage.encode(heartbeat('m2', 'm1', 11)).finish());
    await waitFor('delivery', () => a.received.some((m) => Number(m.heartbeat?.commit) === 11));
    const bad = rawClient(url, 'm2', 'm1', 'c1', 'not-the-secret-at-all');
    await opened(bad);
    t.equal(await closed(bad), 1008, 'bad credentials close the socket');
  },
);
