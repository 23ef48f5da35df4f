// Node-to-node copies over TLS: two nodes that serve the data plane only over TLS (with meta and
// MetaSync, in this process) rebuild a replica from one another. The source accepts nothing but
// TLS, so a completed rebuild shows the peer client dialled with TLS and the cluster CA.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createDevCertificates } from '@ballast/common';
import { waitFor } from '@ballast/testkit';
import { DataPlaneClient } from '@ballast/dataplane';
import {
  MiB,
  SECRET,
  apiOk,
  incarnationOn,
  readAll,
  startMeta,
  startSyncedNode,
  tempDir,
  waitForRole,
  type VolumeView,
} from './in-process-cluster.js';
import { pattern } from './helpers.js';

const SIZE = 16 * MiB;

t.test('a replica is rebuilt from a peer over TLS', async (t) => {
  const dir = tempDir(t, 'ballast-peers-tls-');
  const files = createDevCertificates(join(dir, 'certs'));
  const ca = readFileSync(files.caFile);
  const tlsConfig = {
    dataPlaneTlsCert: files.certFile,
    dataPlaneTlsKey: files.keyFile,
    dataPlaneTlsCa: files.caFile,
  };
  const url = await startMeta(t, dir);
  const n1 = await startSyncedNode(t, dir, url, 'n1', { zone: 'z1', config: tlsConfig });
  const n2 = await startSyncedNode(t, dir, url, 'n2', { zone: 'z2', config: tlsConfig });
  const nodes = new Map([
    ['n1', n1],
    ['n2', n2],
  ]);
  const connect = async (address: { host: string; port: number }): Promise<DataPlaneClient> => {
    const client = await DataPlaneClient.connect({
      ...address,
      clusterId: 'ballast',
      clientId: 'test-writer',
      secret: SECRET,
      tls: { ca },
      connectTimeoutMs: 10_000,
    });
    t.teardown(() => client.destroy());
    return client;
  };

  const created = await apiOk<VolumeView>(
    url,
    'POST',
    '/v1/volumes',
    { name: 'tls', size: '16MiB', replicas: 1, chunkSize: '1MiB' },
    201,
  );
  const source = nodes.get(created.replicas[0]!.nodeId)!;
  const target = source === n1 ? n2 : n1;
  const attached = await apiOk<VolumeView>(
    url,
    'POST',
    '/v1/volumes/tls/attach',
    { host: 'writer' },
    200,
  );
  await waitFor('the source replica', () => source.node.store.hasReplica(created.id));
  const writer = await connect(source.address);
  const session = await writer.openSession({
    volumeId: created.id,
    epoch: attached.epoch,
    incarnation: incarnationOn(attached, source.id),
  });
  const model = Buffer.alloc(SIZE);
  for (const chunk of [0, 3, 7]) {
    const data = pattern(chunk + 1, MiB);
    await session.write(chunk * MiB, data);
    data.copy(model, chunk * MiB);
  }
  await session.flush();
  session.close();
  await apiOk(
    url,
    'POST',
    '/v1/volumes/tls/detach',
    { host: 'writer', epoch: attached.epoch },
    200,
  );

  await apiOk(url, 'POST', '/v1/volumes/tls/replicas', { nodeId: target.id }, 201);
  const after = await waitForRole(url, 'tls', target.id, 'in-sync', 60_000);
  const reader = await connect(target.address);
  const check = await reader.openSession({
    volumeId: created.id,
    epoch: after.epoch,
    incarnation: incarnationOn(after, target.id),
  });
  t.ok((await readAll(check, SIZE)).equals(model), 'the rebuilt replica holds every byte');
  t.equal(source.node.server.stats().tlsFailures, 0, 'no failed TLS handshake at the source');
  t.ok(
    source.node.server.stats().connectionsAccepted >= 2,
    'the source served the writer and the peer, both over TLS',
  );
});
