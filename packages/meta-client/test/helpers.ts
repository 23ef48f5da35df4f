// Shared by the tests: meta's real REST API in this process, and a member that never answers.
import { createServer, type Socket } from 'node:net';
import { DirectMetaStore, NodeLiveness, buildApi, type Command } from '@ballast/meta';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Meta's REST API (fastify on a loopback port) over a DirectMetaStore, closed at teardown. */
export async function startMeta(
  t: Teardown,
  token: string,
): Promise<{ meta: DirectMetaStore; url: string; propose(command: Command): Promise<void> }> {
  const meta = new DirectMetaStore();
  const api = await buildApi({ store: meta, token, liveness: new NodeLiveness() });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const address = api.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  t.teardown(async () => {
    await api.close();
    meta.close();
  });
  const propose = async (command: Command): Promise<void> => {
    const result = await meta.propose(command);
    if (!result.ok) throw new Error(result.error.message);
  };
  return { meta, url, propose };
}

/** Accepts connections and reads requests, never answers: a paused or cut-off member. */
export async function startSilent(
  t: Teardown,
): Promise<{ url: string; requests: () => number; held: () => number }> {
  const held = new Set<Socket>();
  let requests = 0;
  const server = createServer((socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
    socket.on('data', (d: Buffer) => {
      requests += d.toString('latin1').split(' HTTP/1.1').length - 1;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of held) s.destroy();
    server.close();
  });
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests: () => requests,
    held: () => held.size,
  };
}
