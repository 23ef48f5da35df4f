// The filesystem workload's writer, a child process of the torture runner (so a stalled mount
// never blocks the runner's event loop or thread pool): writes files into a Ballast volume's
// mount and makes each durable the way applications do (write a temporary file, fsync it,
// rename it over the name, fsync the directory), then prints one JSON line per durable file:
// {"name","md5","bytes"}. A failed step prints {"error"} and the name keeps its earlier content
// (or, if the rename may have happened, either). Runs until SIGTERM.
//
//   node fs-writer.js DIR SEED [MAX_FILES]
import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRng } from './rng.js';

const [dir, seedText, maxText] = process.argv.slice(2);
if (dir === undefined || seedText === undefined) {
  process.stderr.write('usage: fs-writer DIR SEED [MAX_FILES]\n');
  process.exit(2);
}
const rng = seededRng(Number(seedText));
const maxFiles = Number(maxText ?? 200);
let stopping = false;
process.on('SIGTERM', () => (stopping = true));
// The runner going away ends this process too (no orphan keeps writing).
const parent = Number(process.env.BALLAST_PARENT_PID ?? 0);

function emit(event: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(event) + '\n');
}

async function fsyncPath(path: string, flags: string): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeOne(n: number): Promise<void> {
  const name = `f-${n}`;
  const tmp = join(dir!, `.${name}.tmp`);
  const bytes = 4096 * (1 + Math.floor(rng() * 64));
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) data.writeUInt32LE((rng() * 0xffffffff) >>> 0, i);
  const md5 = createHash('md5').update(data).digest('hex');
  let renamed = false;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    emit({ attempt: name, md5 });
    await rename(tmp, join(dir!, name));
    renamed = true;
    await fsyncPath(dir!, 'r');
    emit({ name, md5, bytes });
  } catch (err) {
    emit({
      error: (err as NodeJS.ErrnoException).code ?? (err as Error).message,
      name,
      md5,
      maybeRenamed: renamed,
    });
    await rm(tmp, { force: true }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

let n = 0;
while (!stopping) {
  if (parent !== 0) {
    try {
      process.kill(parent, 0);
    } catch {
      break;
    }
  }
  await writeOne(n % maxFiles);
  n += 1;
  await new Promise((resolve) => setTimeout(resolve, 20));
}
process.exit(0);
