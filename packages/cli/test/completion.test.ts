// `ballast completion bash|zsh|fish`. The bash script is sourced in a real bash and its
// function called with COMP_WORDS set; volume and node names come from a real `ballastd meta`
// through a `ballast` on the PATH.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ballast, binDir, run } from './helpers/exec.js';
import { startMeta } from './helpers/meta.js';

/** The candidates `_ballast` offers for the words typed (the last is the one completed). */
function complete(script: string, words: string[], env: Record<string, string>): Promise<string[]> {
  const program = `
source "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_ballast
printf '%s\\n' "\${COMPREPLY[@]}"
`;
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      ['-c', program, 'complete', script, ...words],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}: ${stderr}`));
        else resolve(stdout.split('\n').filter(Boolean).sort());
      },
    );
  });
}

t.test('bash completion: commands, options, values and names from the cluster', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-completion-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // `ballast` on the PATH, as an installed CLI would be.
  writeFileSync(
    join(dir, 'ballast'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(binDir, 'ballast.js'))} "$@"\n`,
  );
  chmodSync(join(dir, 'ballast'), 0o755);
  const generated = await ballast(['completion', 'bash']);
  t.equal(generated.code, 0, generated.stderr);
  t.match(generated.stdout, /\ncomplete -F _ballast ballast\n$/);
  const script = join(dir, 'ballast.bash');
  writeFileSync(script, generated.stdout);

  const meta = await startMeta(t, { prefix: 'cli-completion-meta-', nodes: ['n1', 'n2'] });
  for (const name of ['pgdata', 'pglogs', 'web']) {
    t.equal(
      (await meta.api('POST', '/v1/volumes', { name, size: '1GiB', replicas: 1 })).status,
      201,
    );
  }
  const env = { ...meta.env, PATH: `${dir}:${process.env.PATH ?? ''}` };
  const c = (...words: string[]) => complete(script, ['ballast', ...words], env);

  t.same(await c('vo'), ['volume']);
  t.same(await c('n'), ['node']);
  t.same(
    await c(''),
    [
      'cluster',
      'completion',
      'dev',
      'host',
      'hosts',
      'node',
      'replica',
      'replicas',
      'settings',
      'snapshot',
      'snapshots',
      'task',
      'version',
      'volume',
    ].sort(),
  );
  t.same(await c('volume', ''), [
    'attach',
    'create',
    'delete',
    'detach',
    'inspect',
    'list',
    'ls',
    'resize',
    'revert',
    'rm',
    'set',
  ]);
  t.same(await c('snapshot', ''), [
    'attach',
    'create',
    'detach',
    'inspect',
    'list',
    'ls',
    'remove',
    'rm',
  ]);
  t.same(await c('cluster', 'members', ''), ['add', 'remove', 'rm']);
  t.same(await c('volume', 'ls', '--o'), ['--output']);
  t.same(await c('volume', 'ls', '-w', '--wa'), ['--watch']);
  t.same(await c('volume', 'ls', '-o', ''), ['json', 'name', 'wide', 'yaml']);
  t.same(await c('volume', 'ls', '--state', 'd'), ['degraded']);
  t.same(await c('volume', 'rm', '--y'), ['--yes']);
  t.same(await c('completion', ''), ['bash', 'fish', 'zsh']);
  t.same(await c('dev', 'up', '--meta', ''), ['1', '3', '5']);
  // Aliases lead to the same subcommands.
  t.same(await c('volume', 'list', '--wat'), ['--watch']);
  // Names from the cluster: `ballast volume ls -o name`.
  t.same(await c('volume', 'inspect', 'pg'), ['pgdata', 'pglogs']);
  t.same(await c('volume', 'rm', '--yes', ''), ['pgdata', 'pglogs', 'web']);
  t.same(await c('volume', 'inspect', '-o', 'json', 'w'), ['web'], 'option values are skipped');
  t.same(await c('node', 'cordon', ''), ['n1', 'n2']);
  t.same(await c('replica', 'add', 'web', ''), ['n1', 'n2'], 'the second argument is a node');
  t.same(await c('volume', 'inspect', 'pgdata', ''), [], 'nothing after the last argument');
  // zsh runs the same function through bashcompinit; there compgen leaves the matching of the
  // typed prefix to zsh, so the candidates come unfiltered (checked where zsh is installed).
  if ((await run('sh', ['-c', 'command -v zsh'])).code === 0) {
    const zshScript = join(dir, 'ballast.zsh');
    writeFileSync(zshScript, (await ballast(['completion', 'zsh'])).stdout);
    const inZsh = async (...words: string[]) => {
      const r = await run(
        'zsh',
        [
          '-c',
          'autoload -U compinit; compinit -u; source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _ballast; print -l -- $COMPREPLY',
          'zsh',
          zshScript,
          'ballast',
          ...words,
        ],
        { ...env, HOME: dir },
      );
      return r.stdout.split('\n').filter(Boolean).sort();
    };
    t.same(await inZsh('volume', 'ls', '-o', ''), ['json', 'name', 'wide', 'yaml'], 'zsh: values');
    t.same(await inZsh('cluster', 'members', ''), ['add', 'remove', 'rm'], 'zsh: subcommands');
    t.same(await inZsh('volume', 'rm', ''), ['pgdata', 'pglogs', 'web'], 'zsh: names');
  } else {
    t.comment('zsh is not installed: its completion is not run');
  }
  // fish gets a script of its own; `complete -C LINE` asks it what it would offer.
  if ((await run('sh', ['-c', 'command -v fish'])).code === 0) {
    const fishScript = join(dir, 'ballast.fish');
    writeFileSync(fishScript, (await ballast(['completion', 'fish'])).stdout);
    const inFish = async (line: string) => {
      const r = await run('fish', ['-c', `source ${fishScript}; complete -C '${line}'`], {
        ...env,
        HOME: dir,
      });
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]!)
        .sort();
    };
    t.same(await inFish('ballast vol'), ['volume'], 'fish: commands');
    t.same(await inFish('ballast volume ls -o '), ['json', 'name', 'wide', 'yaml'], 'fish: values');
    t.same(await inFish('ballast volume ls --wa'), ['--watch'], 'fish: options');
    t.same(await inFish('ballast volume inspect '), ['pgdata', 'pglogs', 'web'], 'fish: names');
  } else {
    t.comment('fish is not installed: its completion is not run');
  }
  // --endpoint and --token on the line are used for the names.
  const bare = {
    PATH: env.PATH,
    BALLAST_ENDPOINT: '',
    BALLAST_TOKEN: '',
    XDG_CONFIG_HOME: '/nonexistent',
  };
  t.same(
    await complete(script, ['ballast', 'volume', 'inspect', 'w'], bare),
    [],
    'no cluster, no names',
  );
  t.same(
    await complete(
      script,
      ['ballast', 'volume', 'inspect', '--endpoint', meta.url, '--token', meta.token, 'w'],
      bare,
    ),
    ['web'],
  );
});

t.test('zsh and fish scripts', async (t) => {
  const zsh = await ballast(['completion', 'zsh']);
  t.equal(zsh.code, 0);
  t.match(zsh.stdout, /^#compdef ballast\n/);
  t.match(zsh.stdout, /bashcompinit/);
  t.match(zsh.stdout, /\ncomplete -F _ballast ballast\n$/);
  const fish = await ballast(['completion', 'fish']);
  t.equal(fish.code, 0);
  t.match(
    fish.stdout,
    /\ncomplete -c ballast -f -n '__ballast_at ""' -a 'volume' -d 'create, inspect, resize and delete volumes'\n/,
  );
  t.match(fish.stdout, /-n '__ballast_at "volume inspect"' -a '\(__ballast_names volume\)'/);
  t.match(fish.stdout, /-s o -l output -r -f -a 'json yaml wide name'/);
  // Where the shells are installed, their own parsers accept the scripts.
  for (const [shell, text] of [
    ['zsh', zsh.stdout],
    ['fish', fish.stdout],
  ] as const) {
    const which = await run('sh', ['-c', `command -v ${shell}`]);
    if (which.code !== 0) {
      t.comment(`${shell} is not installed: syntax not checked`);
      continue;
    }
    const file = join(mkdtempSync(join(tmpdir(), 'cli-completion-')), `ballast.${shell}`);
    writeFileSync(file, text);
    const checked = await run(shell, ['-n', file]);
    t.equal(checked.code, 0, `${shell} -n: ${checked.stderr}`);
  }
  const bad = await ballast(['completion', 'tcsh']);
  t.equal(bad.code, 2);
  t.match(
    bad.stderr,
    /value 'tcsh' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish/,
  );
});
