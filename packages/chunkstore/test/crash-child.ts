// Child of crash-process.test: opens the store, then writes the planned stream as fast as it
// can, starting a flush every FLUSH_EVERY_WRITES writes without waiting for it (writes go on
// while it runs, as they do in the node). Reports on stdout, one line each:
//   A <n>   write n was acknowledged (applied to the file and the in-memory index)
//   F <n>   a flush requested after write n completed: writes 1..n are durable
// The parent SIGKILLs it somewhere in the middle.
import { setImmediate } from 'node:timers';
import { ChunkStore } from '../src/index.js';
import { FLUSH_EVERY_WRITES, MAX_WRITES, plannedWrite, writeData } from './crash-plan.js';

const [dir, seedText] = process.argv.slice(2);
if (!dir || !seedText) throw new Error('usage: crash-child <store dir> <seed>');
const seed = Number(seedText);

const store = await ChunkStore.open({ dir });
const replica = store.replica('crash');
process.stdout.write('READY\n');
for (let seq = 1; seq <= MAX_WRITES; seq++) {
  const pending = replica.write(
    plannedWrite(seed, seq).offsetBytes,
    writeData(plannedWrite(seed, seq)),
  );
  if (pending !== undefined) await pending;
  process.stdout.write(`A ${seq}\n`);
  if (seq % FLUSH_EVERY_WRITES === 0) {
    const coveredUpTo = seq;
    replica.flush().then(
      () => process.stdout.write(`F ${coveredUpTo}\n`),
      (err: unknown) => {
        process.stderr.write(`flush failed: ${String(err)}\n`);
        process.exit(3);
      },
    );
  }
  // Give the flush a chance to progress while writes continue.
  if (seq % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
}
await store.close();
process.stdout.write('DONE\n');
