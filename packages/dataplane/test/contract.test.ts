// The replica session contract over the data plane: RemoteSession over TCP and over TLS, to a
// real DataPlaneServer (each session's rules kept by SessionCore) on a MemoryReplicaStore.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createDevCertificates } from '@ballast/common';
import { MemoryReplicaStore, sessionContract, type ContractHarness } from '@ballast/session';
import {
  DataPlaneServer,
  remoteSessionFactory,
  type DataPlaneClientTlsOptions,
} from '../src/index.js';
import { CLUSTER, NODE, SECRET } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ballast-dp-contract-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const certs = createDevCertificates(join(dir, 'certs'), { caName: 'contract CA' });

async function harness(tls: boolean): Promise<ContractHarness> {
  // Every third mutation waits a little (as a chunk-store write waits for its dirty mark), so
  // the sessions' ordering and flush rules are exercised on the asynchronous path too.
  let mutations = 0;
  const store = new MemoryReplicaStore({
    mutationDelayMs: () => (++mutations % 3 === 0 ? 1 : undefined),
  });
  const server = new DataPlaneServer({
    store,
    clusterId: CLUSTER,
    nodeId: NODE,
    secret: SECRET,
    ...(tls
      ? {
          tls: {
            cert: readFileSync(certs.certFile),
            key: readFileSync(certs.keyFile),
            ca: readFileSync(certs.caFile),
          },
        }
      : {}),
  });
  const { port } = await server.listen('127.0.0.1', 0);
  t.teardown(() => server.close());
  const clientTls: DataPlaneClientTlsOptions | undefined = tls
    ? { ca: readFileSync(certs.caFile) }
    : undefined;
  const open = remoteSessionFactory({
    addressOf: () => `127.0.0.1:${port}`,
    clusterId: CLUSTER,
    clientId: 'contract',
    secret: SECRET,
    ...(clientTls !== undefined ? { tls: clientTls } : {}),
  });
  return {
    nodeId: NODE,
    createVolume: async (volumeId, sizeBytes, chunkSizeBytes) => {
      store.createVolume(volumeId, sizeBytes, chunkSizeBytes);
    },
    open: (spec) => open(NODE, spec),
    acceptFence: async (volumeId, fence) => {
      // A node following the map persists the fence it sees: a session open under it does that.
      await store.openSession({ volumeId, ...fence, sizeBytes: 0, chunkSizeBytes: 0 });
    },
    peek: async (volumeId, offsetBytes, lengthBytes) =>
      store.volume(volumeId).peek(offsetBytes, lengthBytes),
  };
}

const runner = (name: string, fn: Parameters<Parameters<typeof sessionContract>[0]>[1]): void =>
  void t.test(name, fn);
sessionContract(runner, 'TCP', await harness(false));
sessionContract(runner, 'TLS', await harness(true));
