// One compliance suite run against both devices (js-libp2p style), compared with a plain model.
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { isBallastError } from '@ballast/common';
import { FileBlockDevice, MemoryBlockDevice, type NbdBlockDevice } from '../src/index.js';
import { tempDir, type Teardown } from './helpers/env.js';

const SIZE = 4 * 1024 * 1024;

/** A seeded PRNG (mulberry32) so failures replay. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const makers: Array<[string, (t: Teardown) => Promise<NbdBlockDevice>]> = [
  ['MemoryBlockDevice', async () => new MemoryBlockDevice(SIZE, { pageBytes: 4096 })],
  [
    'FileBlockDevice',
    async (t) =>
      FileBlockDevice.open(path.join(tempDir(t), 'disk.img'), { sizeBytes: SIZE, create: true }),
  ],
];

for (const [name, make] of makers) {
  t.test(`${name}: random I/O matches a byte-array model`, async (t) => {
    const device = await make(t);
    t.teardown(() => device.close());
    const seed = Number(process.env.NBD_DEVICE_SEED ?? Date.now() % 1_000_000);
    t.comment(`seed ${seed} (replay with NBD_DEVICE_SEED=${seed})`);
    const random = rng(seed);
    const model = Buffer.alloc(SIZE);
    for (let i = 0; i < 400; i++) {
      const offset = Math.floor(random() * SIZE);
      const length = Math.min(SIZE - offset, Math.floor(random() * 200_000));
      const kind = random();
      if (kind < 0.4) {
        const data = Buffer.alloc(length, Math.floor(random() * 256));
        await device.writeAt(offset, data, random() < 0.1);
        data.copy(model, offset);
      } else if (kind < 0.55) {
        await device.trim(offset, length);
        model.fill(0, offset, offset + length);
      } else if (kind < 0.7) {
        await device.writeZeroes(offset, length, { noHole: random() < 0.5 });
        model.fill(0, offset, offset + length);
      } else if (kind < 0.85) {
        const got = await device.readAt(offset, length);
        if (!got.equals(model.subarray(offset, offset + length))) {
          t.fail(`readAt ${offset}+${length} differs (seed ${seed})`);
          return;
        }
      } else {
        const target = Buffer.alloc(length + 7, 0xee);
        await device.readInto!(offset, length, target, 7);
        if (!target.subarray(7).equals(model.subarray(offset, offset + length))) {
          t.fail(`readInto ${offset}+${length} differs (seed ${seed})`);
          return;
        }
      }
    }
    await device.flush();
    t.ok((await device.readAt(0, SIZE)).equals(model), 'whole device equals the model');
  });

  t.test(`${name}: ranges outside the device are refused with INVALID_ARGUMENT`, async (t) => {
    const device = await make(t);
    t.teardown(() => device.close());
    for (const attempt of [
      () => device.readAt(SIZE - 1, 2),
      () => device.writeAt(SIZE, Buffer.alloc(1)),
      () => device.trim(-1, 1),
      () => device.writeZeroes(0, SIZE + 1),
    ]) {
      const err = await attempt().catch((e: unknown) => e);
      t.ok(isBallastError(err, 'INVALID_ARGUMENT'));
    }
    t.equal(device.sizeBytes, SIZE);
  });

  t.test(`${name}: closed device refuses work`, async (t) => {
    const device = await make(t);
    await device.close();
    const err = await device.readAt(0, 1).catch((e: unknown) => e);
    t.ok(isBallastError(err, 'UNAVAILABLE'));
  });
}

t.test('MemoryBlockDevice extents show holes and data, merged', async (t) => {
  const device = new MemoryBlockDevice(1024 * 1024);
  await device.writeAt(70_000, Buffer.alloc(10, 1));
  t.same(await device.extents(0, 1024 * 1024), [
    { length: 65536, hole: true, zero: true },
    { length: 65536, hole: false, zero: false },
    { length: 1024 * 1024 - 131072, hole: true, zero: true },
  ]);
  await device.trim(65536, 65536);
  t.same(await device.extents(0, 1024 * 1024), [{ length: 1024 * 1024, hole: true, zero: true }]);
  t.equal(device.allocatedBytes, 0);
  await device.writeZeroes(0, 100, { noHole: true });
  t.equal(device.allocatedBytes, 65536, 'NO_HOLE allocates');
});

t.test('FileBlockDevice: opening, sizes and read-only', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'f.img');
  const missing = await FileBlockDevice.open(file).catch((e: unknown) => e);
  t.ok(isBallastError(missing, 'IO'), 'a missing file without create');
  const created = await FileBlockDevice.open(file, { sizeBytes: 8192, create: true });
  await created.writeAt(0, Buffer.from('hello'));
  await created.close();
  t.equal(fs.statSync(file).size, 8192);
  const grown = await FileBlockDevice.open(file, { sizeBytes: 16384 });
  t.equal(grown.sizeBytes, 16384, 'a larger size extends the file');
  await grown.writeZeroes(8192, 8192);
  t.equal(fs.statSync(file).size, 16384, 'zeroing the tail keeps the size');
  await grown.close();
  const shrink = await FileBlockDevice.open(file, { sizeBytes: 100 }).catch((e: unknown) => e);
  t.ok(isBallastError(shrink, 'INVALID_ARGUMENT'), 'never truncates data away');
  const ro = await FileBlockDevice.open(file, { readOnly: true });
  t.equal((await ro.readAt(0, 5)).toString(), 'hello');
  t.ok(isBallastError(await ro.writeAt(0, Buffer.from('x')).catch((e: unknown) => e), 'FORBIDDEN'));
  await ro.close();
  const notFile = await FileBlockDevice.open(dir).catch((e: unknown) => e);
  t.ok(isBallastError(notFile), 'a directory is refused');
});

t.test(
  'FileBlockDevice zeroes long ranges through the threadpool and closes cleanly',
  async (t) => {
    const dir = tempDir(t);
    const device = await FileBlockDevice.open(path.join(dir, 'z.img'), {
      sizeBytes: 32 * 1024 * 1024,
      create: true,
    });
    await device.writeAt(0, Buffer.alloc(16 * 1024 * 1024, 0xab));
    const zeroing = device.writeZeroes(1, 16 * 1024 * 1024 - 2, { noHole: true });
    await zeroing;
    const back = await device.readAt(0, 16 * 1024 * 1024);
    t.equal(back[0], 0xab);
    t.equal(back[back.length - 1], 0xab);
    t.ok(back.subarray(1, back.length - 1).every((b) => b === 0));
    const flushing = device.flush();
    await device.close();
    await flushing;
    t.pass('close waits for the running flush');
  },
);
