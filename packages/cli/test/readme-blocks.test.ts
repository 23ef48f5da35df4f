// Every shell block of the README says whether the README test (test/e2e/readme.test.ts) runs
// it, and why not when it does not: a new block cannot slip past it unmarked. Quick; the run
// itself is in `npm run test:e2e`.
import t from 'tap';
import { readmeBlocks, shellBlocks } from './helpers/readme-blocks.js';

t.test('every shell block of README.md is marked run or skip (with a reason)', async (t) => {
  const blocks = shellBlocks(readmeBlocks());
  t.ok(blocks.length >= 10, `${blocks.length} shell blocks`);
  for (const b of blocks) {
    t.ok(
      b.action !== undefined,
      `README.md:${b.line} is marked (found before it: ${JSON.stringify(b.before ?? '')})`,
    );
  }
  const run = blocks.filter((b) => b.action === 'run');
  t.ok(run.length >= 4, `${run.length} blocks run`);
  t.ok(
    run.some((b) => b.text.includes('npx ballast dev up --dir /tmp/ballast --agent')),
    'the quick start cluster is among them',
  );
  const last = run.filter((b) => b.text.includes('/tmp/ballast')).at(-1)!;
  t.match(last.text, /dev down --dir \/tmp\/ballast --purge -y/, 'and ends torn down');
});

t.test('the marker grammar', async (t) => {
  const blocks = readmeBlocks(
    [
      '<!-- readme-test: run -->',
      '',
      '```sh',
      'echo a',
      '```',
      '<!-- readme-test: run (offline: a note) -->',
      '```sh',
      'echo b',
      '```',
      '<!-- readme-test: skip: it needs a registry -->',
      '```sh',
      'docker pull x',
      '```',
      '<!-- readme-test: skip -->',
      '```sh',
      'echo no reason',
      '```',
      'text',
      '```sh',
      'echo unmarked',
      '```',
      '```json',
      '{}',
      '```',
    ].join('\n'),
  );
  t.same(
    blocks.map((b) => [b.line, b.lang, b.action, b.note]),
    [
      [3, 'sh', 'run', undefined],
      [7, 'sh', 'run', 'offline: a note'],
      [11, 'sh', 'skip', 'it needs a registry'],
      [15, 'sh', undefined, undefined],
      [19, 'sh', undefined, undefined],
      [22, 'json', undefined, undefined],
    ],
  );
  t.equal(blocks[0]!.text, 'echo a');
  t.equal(blocks[4]!.before, 'text');
  t.equal(shellBlocks(blocks).length, 5);
});
