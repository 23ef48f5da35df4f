// Checks files in a mounted Ballast volume against what the writer made durable, in a child
// process of its own (a stalled mount blocks only this process). Reads a JSON list of
// {name, md5s} on stdin and prints one JSON object: {checked, missing: [...], wrong: [...],
// errors: [...]}.
//
//   node fs-verify.js DIR < expected.json
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const dir = process.argv[2];
if (dir === undefined) {
  process.stderr.write('usage: fs-verify DIR < expected.json\n');
  process.exit(2);
}
let input = '';
for await (const chunk of process.stdin) input += String(chunk);
const expected = JSON.parse(input) as Array<{ name: string; md5s: string[] }>;
const missing: string[] = [];
const wrong: Array<{ name: string; md5: string; expected: string[] }> = [];
const errors: Array<{ name: string; error: string }> = [];
for (const e of expected) {
  try {
    const data = await readFile(join(dir, e.name));
    const md5 = createHash('md5').update(data).digest('hex');
    if (!e.md5s.includes(md5)) wrong.push({ name: e.name, md5, expected: e.md5s });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') missing.push(e.name);
    else errors.push({ name: e.name, error: code ?? (err as Error).message });
  }
}
process.stdout.write(JSON.stringify({ checked: expected.length, missing, wrong, errors }) + '\n');
