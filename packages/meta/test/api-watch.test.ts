import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { WebSocket as WebSocketClient, type WebSocket } from 'ws';
import { WATCH_CLOSE, type MapEvent } from '../src/index.js';
import { AUTH, addNodes, startApi } from './helpers/api-harness.js';

type Message =
  | { type: 'event'; event: MapEvent }
  | { type: 'synced'; revision: number }
  | { type: 'reset'; revision: number; reason: string }
  | {
      type: 'error';
      problem: { code: string; status: number; detail: string; details?: Record<string, unknown> };
    };

interface Watch {
  ws: WebSocket;
  messages: Message[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves when the messages so far satisfy `done`; fails after a generous bound. */
  until(done: (messages: Message[]) => boolean, what: string): Promise<void>;
}

const WAIT_BOUND_MS = 10_000;

async function watch(app: FastifyInstance, url: string): Promise<Watch> {
  const messages: Message[] = [];
  const waiters = new Set<() => void>();
  let onClose!: (v: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClose = resolve));
  const ws = await app.injectWS(
    url,
    { headers: AUTH },
    {
      onInit: (socket: WebSocket) => {
        socket.on('message', (data) => {
          messages.push(JSON.parse(data.toString()) as Message);
          for (const w of [...waiters]) w();
        });
        socket.on('close', (code, reason) => onClose({ code, reason: reason.toString() }));
      },
    },
  );
  const until = (done: (m: Message[]) => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!done(messages)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages).slice(0, 500)}`),
        );
      }, WAIT_BOUND_MS);
      waiters.add(check);
      check();
    });
  return { ws, messages, closed, until };
}

const revisions = (messages: Message[]) =>
  messages
    .filter((m): m is Extract<Message, { type: 'event' }> => m.type === 'event')
    .map((m) => m.event.revision);

t.test(
  'replays from a revision, says when it caught up, then streams live changes in order',
  async (t) => {
    const api = await startApi(t);
    await addNodes(api, 3);
    const w = await watch(api.app, '/v1/watch?fromRevision=2');
    t.teardown(() => w.ws.terminate());
    await w.until((m) => m.some((x) => x.type === 'synced'), 'synced');
    t.same(revisions(w.messages), [2, 3]);
    t.same(w.messages.at(-1), { type: 'synced', revision: 3 });

    await api.call('POST', '/v1/volumes', { name: 'v', size: '1GiB' });
    await api.call('POST', '/v1/volumes/v/attach', { host: 'docker1' });
    await api.call('POST', '/v1/volumes/v/attach', { host: 'docker2' });
    await w.until((m) => revisions(m).includes(5), 'the attach event');
    t.same(revisions(w.messages), [2, 3, 4, 5], 'no event for the refused attach');
    const attach = w.messages.find((m) => m.type === 'event' && m.event.revision === 5) as Extract<
      Message,
      { type: 'event' }
    >;
    t.equal(attach.event.command, 'attachVolume');
    t.match(attach.event.changes, [
      { kind: 'volume', id: 'volume-1', value: { epoch: 1, attachment: { host: 'docker1' } } },
    ]);
  },
);

t.test('without fromRevision only changes after now arrive', async (t) => {
  const api = await startApi(t);
  await addNodes(api, 2);
  const w = await watch(api.app, '/v1/watch');
  t.teardown(() => w.ws.terminate());
  await w.until((m) => m.length > 0, 'synced');
  t.same(w.messages, [{ type: 'synced', revision: 2 }]);
  await api.call('POST', '/v1/nodes/n1/cordon');
  await w.until((m) => revisions(m).length === 1, 'the cordon');
  t.same(revisions(w.messages), [3]);
});

t.test(
  'a revision older than the kept history gets an error that says to list again',
  async (t) => {
    const api = await startApi(t, {}, { watchHistoryEvents: 2 });
    await addNodes(api, 4);
    const w = await watch(api.app, '/v1/watch?fromRevision=1');
    const close = await w.closed;
    t.equal(close.code, WATCH_CLOSE.compacted);
    const error = w.messages[0] as Extract<Message, { type: 'error' }>;
    t.equal(error.type, 'error');
    t.equal(error.problem.code, 'CONFLICT');
    t.match(
      error.problem.detail,
      /revision 1 is no longer in the watch history \(oldest is 3\); list again/,
    );
    t.match(error.problem.details, { reason: 'compacted', oldestRevision: 3, currentRevision: 4 });
    const ok = await watch(api.app, '/v1/watch?fromRevision=3');
    t.teardown(() => ok.ws.terminate());
    await ok.until((m) => m.some((x) => x.type === 'synced'), 'synced');
    t.same(revisions(ok.messages), [3, 4]);
  },
);

t.test('a revision from the future is refused', async (t) => {
  const api = await startApi(t);
  const w = await watch(api.app, '/v1/watch?fromRevision=50');
  const close = await w.closed;
  t.equal(close.code, WATCH_CLOSE.badRequest);
  t.match(w.messages[0], {
    type: 'error',
    problem: { code: 'INVALID_ARGUMENT', details: { reason: 'future' } },
  });
});

t.test('a malformed fromRevision is refused before the upgrade', async (t) => {
  const api = await startApi(t);
  for (const q of [
    'fromRevision=abc',
    'fromRevision=0',
    'fromRevision=-1',
    'other=1',
    'fromRevision=1e400',
  ]) {
    await t.rejects(
      api.app.injectWS(`/v1/watch?${q}`, { headers: AUTH }),
      /Unexpected server response: 400/,
      q,
    );
  }
});

t.test(
  'watchers are told to list again when the store loses history, and are dropped',
  async (t) => {
    const api = await startApi(t);
    await addNodes(api, 1);
    const w = await watch(api.app, '/v1/watch?fromRevision=1');
    await w.until((m) => m.some((x) => x.type === 'synced'), 'synced');
    t.equal(api.store.watcherCount, 1);
    api.store.close();
    const close = await w.closed;
    t.equal(close.code, WATCH_CLOSE.reset);
    t.match(w.messages.at(-1), { type: 'reset', revision: 1 });
    t.equal(api.store.watcherCount, 0);
  },
);

t.test(
  'a watcher beyond its buffer bound is closed, and a closed socket unsubscribes',
  async (t) => {
    const api = await startApi(t, { watchMaxBufferedBytes: -1 });
    const slow = await watch(api.app, '/v1/watch?fromRevision=1');
    const close = await slow.closed;
    t.equal(close.code, WATCH_CLOSE.tooSlow);
    t.match(slow.messages[0], { type: 'error', problem: { code: 'RATE_LIMITED' } });
  },
);

t.test('a client that goes away is unsubscribed (over a real loopback socket)', async (t) => {
  const api = await startApi(t);
  const address = await api.app.listen({ host: '127.0.0.1', port: 0 });
  const client = new WebSocketClient(`${address.replace('http', 'ws')}/v1/watch`, {
    headers: AUTH,
  });
  t.teardown(() => client.terminate());
  const first = await new Promise<Message>((resolve, reject) => {
    client.once('message', (data) => resolve(JSON.parse(data.toString()) as Message));
    client.once('error', reject);
  });
  t.same(first, { type: 'synced', revision: 0 });
  t.equal(api.store.watcherCount, 1);
  client.close();
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + WAIT_BOUND_MS;
    const poll = () => {
      if (api.store.watcherCount === 0) resolve();
      else if (Date.now() > deadline) reject(new Error('watcher not removed'));
      else setTimeout(poll, 5);
    };
    poll();
  });
  t.equal(api.store.watcherCount, 0);
});
