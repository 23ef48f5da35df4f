import { Readable } from 'node:stream';
import { isBallastError } from '@ballast/common';
import type { Test } from 'tap';
import { listAll, type BackupTarget } from '../src/index.js';
import { fillRandom, seeded } from './helpers.js';

/** What every BackupTarget must do; run against the directory target and against radosgw. */
export async function targetContract(t: Test, target: BackupTarget): Promise<void> {
  const rand = seeded(42);
  const body = Buffer.alloc(300_000);
  fillRandom(body, rand);

  await target.put('contract/a/one', body);
  t.ok((await target.get('contract/a/one')).equals(body), 'get returns what put stored');
  t.ok(
    (await target.get('contract/a/one', { offset: 1000, length: 5000 })).equals(
      body.subarray(1000, 6000),
    ),
    'range get',
  );
  t.ok(
    (await target.get('contract/a/one', { offset: body.length - 10, length: 10 })).equals(
      body.subarray(-10),
    ),
    'range get at the end',
  );
  const h = await target.head('contract/a/one');
  t.equal(h?.sizeBytes, body.length, 'head gives the size');
  t.ok((h?.modifiedMs ?? 0) > 0, 'and a time');
  t.equal(await target.head('contract/a/none'), undefined, 'head of a missing key');
  const missing = await target.get('contract/a/none').catch((e: unknown) => e);
  t.ok(isBallastError(missing, 'NOT_FOUND'), 'get of a missing key is NOT_FOUND');

  // Overwrite is whole.
  await target.put('contract/a/one', Buffer.from('short'));
  t.equal((await target.get('contract/a/one')).toString(), 'short');

  // A stream body, larger than one part of a multipart upload where the target has parts.
  const big = Buffer.alloc(12 * 1024 * 1024 + 7);
  fillRandom(big, rand);
  const pieces = Array.from({ length: Math.ceil(big.length / 65536) }, (_, i) =>
    big.subarray(i * 65536, (i + 1) * 65536),
  );
  await target.put('contract/b/stream', Readable.from(pieces));
  t.ok((await target.get('contract/b/stream')).equals(big), 'a streamed put stores every byte');

  // Listing: prefix, order, pagination.
  const names = [
    'contract/list/x3',
    'contract/list/x1',
    'contract/list/y/z',
    'contract/list/x2',
    'contract/listx',
  ];
  for (const n of names) await target.put(n, Buffer.from(n));
  const all: string[] = [];
  for await (const o of listAll(target, 'contract/list/', 2)) all.push(o.key);
  t.same(
    all,
    ['contract/list/x1', 'contract/list/x2', 'contract/list/x3', 'contract/list/y/z'],
    'list by prefix, in key order, across pages',
  );
  const page = await target.listPage('contract/list/x', undefined, 2);
  t.same(
    page.objects.map((o) => o.key),
    ['contract/list/x1', 'contract/list/x2'],
  );
  t.ok(page.next !== undefined, 'a next token while more remain');
  const page2 = await target.listPage('contract/list/x', page.next, 2);
  t.same(
    page2.objects.map((o) => o.key),
    ['contract/list/x3'],
  );
  t.equal(page2.next, undefined, 'no next token on the last page');

  for (const n of names) await target.delete(n);
  await target.delete('contract/list/never-there');
  const left: string[] = [];
  for await (const o of listAll(target, 'contract/list')) left.push(o.key);
  t.same(left, [], 'deleted, and deleting a missing key is fine');

  await target.validate();
  const probes: string[] = [];
  for await (const o of listAll(target, 'probe/')) probes.push(o.key);
  t.same(probes, [], 'validate leaves no probe behind');
  await target.delete('contract/a/one');
  await target.delete('contract/b/stream');
}
