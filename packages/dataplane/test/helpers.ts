import { connect, type Socket } from 'node:net';
import {
  FrameDecoder,
  FrameType,
  ballast,
  createRegistry,
  encodeFrame,
  type Frame,
} from '@ballast/proto';
import {
  DataPlaneClient,
  DataPlaneServer,
  helloMac,
  type DataPlaneClientOptions,
  type DataPlaneServerOptions,
} from '../src/index.js';
import { MemoryReplicaStore, type MemoryStoreOptions } from '@ballast/session';

export const SECRET = 'test-secret-0123456789abcdef';
export const CLUSTER = 'test-cluster';
export const NODE = 'n1';
export const VOLUME = 'vol1';
export const VOLUME_BYTES = 64 * 1024 * 1024;
export const CHUNK_BYTES = 1024 * 1024;

export const dp = ballast.dataplane;
export const registry = createRegistry();

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface TestServer {
  server: DataPlaneServer<unknown>;
  store: MemoryReplicaStore;
  port: number;
}

/** An in-process server (real TCP on 127.0.0.1) over a MemoryReplicaStore with one volume. */
export async function startServer(
  t: Teardown,
  opts: Partial<DataPlaneServerOptions<unknown>> = {},
  storeOpts: MemoryStoreOptions = {},
): Promise<TestServer> {
  const store = new MemoryReplicaStore(storeOpts);
  store.createVolume(VOLUME, VOLUME_BYTES, CHUNK_BYTES);
  const server = new DataPlaneServer<unknown>({
    store,
    clusterId: CLUSTER,
    nodeId: NODE,
    secret: SECRET,
    ...opts,
  });
  const { port } = await server.listen('127.0.0.1', 0);
  t.teardown(() => server.close());
  return { server, store, port };
}

export async function connectClient(
  t: Teardown,
  port: number,
  opts: Partial<DataPlaneClientOptions> = {},
): Promise<DataPlaneClient> {
  const client = await DataPlaneClient.connect({
    host: '127.0.0.1',
    port,
    clusterId: CLUSTER,
    clientId: 'agent-test',
    secret: SECRET,
    connectTimeoutMs: 10_000,
    ...opts,
  });
  t.teardown(() => client.destroy());
  return client;
}

/** Deterministic PRNG (mulberry32); tests print their seed so a failure replays. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedFrom(envName: string): number {
  const fromEnv = process.env[envName];
  return fromEnv !== undefined ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31);
}

/** Bytes that differ for every (seed, position): a mismatch shows which write it came from. */
export function pattern(seed: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let x = (seed * 2654435761) >>> 0 || 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

/** Polls until `check` is truthy, with a generous bound (never a fixed sleep in a test). */
export async function waitUntil(
  what: string,
  check: () => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A raw TCP peer that speaks frames by hand: for auth, fuzz and backpressure tests that must do
 * what the real client never would.
 */
export class RawPeer {
  readonly socket: Socket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  decodeError: Error | undefined;
  #decoder = new FrameDecoder({ registry });
  #waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.frames.push(...this.#decoder.push(chunk));
      } catch (err) {
        this.decodeError = err as Error;
      }
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    });
    socket.once('close', () => {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    });
  }

  static async connect(port: number): Promise<RawPeer> {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new RawPeer(socket);
  }

  /** Waits for a frame of `type` (from the start of the connection), or null if the peer closes first. */
  async frame(type: number, timeoutMs = 10_000): Promise<Frame | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find((f) => f.type === type);
      if (found) return found;
      if (this.socket.destroyed || this.socket.readableEnded) return null;
      if (Date.now() > deadline) throw new Error(`no frame of type ${type} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async nonce(): Promise<Uint8Array> {
    const hello = await this.frame(FrameType.ServerHello);
    if (!hello) throw new Error('no ServerHello');
    return (hello.header as ballast.dataplane.ServerHello).nonce;
  }

  sendMessage(type: number, requestId: number, header: Uint8Array, payload?: Buffer): void {
    this.socket.write(encodeFrame(type, requestId, header, payload));
  }

  sendHello(clientId: string, mac: Uint8Array, clusterId = CLUSTER): void {
    this.sendMessage(
      FrameType.ClientHello,
      0,
      dp.ClientHello.encode({ protocolVersion: 1, clusterId, clientId, mac }).finish(),
    );
  }

  /** Full authentication with the test secret; resolves once HelloResponse OK arrived. */
  async authenticate(clientId = 'raw'): Promise<void> {
    const nonce = await this.nonce();
    this.sendHello(clientId, helloMac(Buffer.from(SECRET), nonce, clientId));
    const response = await this.frame(FrameType.HelloResponse);
    const code = (response?.header as ballast.dataplane.HelloResponse | undefined)?.status?.code;
    if (!response || (code ?? 0) !== 0) throw new Error('raw authentication failed');
  }

  /** Opens a session by hand and returns its id. */
  async openSession(volumeId: string, epoch: number, requestId = 1): Promise<number> {
    this.sendMessage(
      FrameType.OpenSession,
      requestId,
      dp.OpenSession.encode({ volumeId, epoch }).finish(),
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = this.frames.find(
        (f) => f.type === FrameType.OpenSessionResponse && f.requestId === requestId,
      );
      if (r) return (r.header as ballast.dataplane.OpenSessionResponse).sessionId;
      if (Date.now() > deadline || this.socket.destroyed) throw new Error('no OpenSessionResponse');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async waitClosed(timeoutMs = 10_000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.closed.then(() => true as const), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The error a promise rejects with (fails loudly if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}
