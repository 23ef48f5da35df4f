// The record shapes followers check (MapNode, MapVolume, MapTask) against meta's own record types
// and against records meta really serves: the compiler checks that every record meta can hold is
// one a follower accepts (the assignments below), and the parsers accept what the API answers.
import t from 'tap';
import { type NodeRecord, type TaskRecord, type VolumeRecord } from '@ballast/meta';
import {
  MetaClient,
  parseNode,
  parseTask,
  parseVolume,
  type MapNode,
  type MapTask,
  type MapVolume,
} from '../src/index.js';
import { startMeta } from './helpers.js';

// Compile-time: a field meta renames, retypes or drops breaks the build here.
export const nodeFits = (r: NodeRecord): MapNode => r;
export const volumeFits = (r: VolumeRecord): MapVolume => r;
export const taskFits = (r: TaskRecord): MapTask => r;

const TOKEN = 'records-test-token';

t.test('the parsers accept the records meta serves', async (t) => {
  const { url } = await startMeta(t, TOKEN);
  const client = new MetaClient({ urls: [url], token: TOKEN });
  await client.post('/v1/nodes', {
    id: 'n1',
    address: '127.0.0.1:7100',
    labels: { zone: 'a' },
    capacityBytes: 2 ** 40,
  });
  await client.post('/v1/volumes', { name: 'data', size: '64MiB', replicas: 1 });
  await client.post('/v1/volumes/data/attach', { host: 'h1' });
  const nodes = await client.list<unknown>('/v1/nodes');
  const volumes = await client.list<unknown>('/v1/volumes');
  const tasks = await client.list<unknown>('/v1/tasks');
  t.equal(nodes.items.length, 1);
  t.equal(volumes.items.length, 1);
  const node = parseNode(nodes.items[0]);
  t.match(node, { id: 'n1', address: '127.0.0.1:7100', labels: { zone: 'a' } });
  const volume = parseVolume(volumes.items[0]);
  t.match(volume, {
    name: 'data',
    sizeBytes: 64 * 2 ** 20,
    replicas: [{ nodeId: 'n1', role: 'in-sync' }],
    attachment: { host: 'h1' },
  });
  t.ok(volume.epoch >= 1, 'the attachment took an epoch');
  for (const task of tasks.items) t.ok(parseTask(task), 'every task parses');
});
