// The README's commands, run as written (issue 18): every ```sh block marked
// `<!-- readme-test: run -->` runs, in order, in one bash script (`set -euo pipefail`, so
// `export BALLAST_CLUSTER=...` carries over as in a user's shell), and the test fails when any
// command fails. Blocks marked `skip` say why (test/readme-blocks.test checks that every block
// is marked).
//
// "As written" includes the paths: `--dir /tmp/ballast`, the plugin at
// /run/docker/plugins/ballast.sock, `docker ...` against "the" dockerd. So the script runs in a
// mount namespace of its own (unshare --mount) where /tmp and /run/docker/plugins are this test's
// directories, the repository is an overlay of itself (nothing the blocks write reaches it),
// and a dockerd of the test's own runs (DOCKER_HOST; no registry: busybox-static is loaded as
// busybox:latest). Teardown always runs, inside the namespace (dev down --purge of every
// cluster the blocks start, docker volumes removed, dockerd stopped) and outside it (every
// process tagged with this run's id is killed, the work directory removed).
//
// Needs root, unshare (util-linux), dockerd (docker.io), busybox-static, /dev/fuse, loop devices,
// nbdfuse; `dev up --netns` needs iproute2 and iptables.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { README, readmeBlocks, shellBlocks } from '../helpers/readme-blocks.js';

const REPO = join(README, '..');
const RUN_ID = `readme-${process.pid}-${randomBytes(3).toString('hex')}`;
const BUSYBOX = '/bin/busybox';
/** Bound on the whole run; it takes 2-4 minutes here. */
const RUN_TIMEOUT_MS = 540_000;

/** What runs inside the namespace: set-up, the README's script, teardown (always). */
const WRAPPER = String.raw`
set -euo pipefail
W="$1"; REPO="$2"
mkdir -p "$W/upper" "$W/ovl" "$W/tmp" "$W/plugins" "$W/docker"
# The tree, writable here only, at its own path (tap's built plugins name absolute paths).
mount -t overlay overlay -o "lowerdir=$REPO,upperdir=$W/upper,workdir=$W/ovl" "$REPO"
mkdir -p /run/docker/plugins
mount --bind "$W/plugins" /run/docker/plugins
# A tree under /tmp (a clone made there) stays visible at its path inside the test's /tmp.
case "$REPO" in
  /tmp/*)
    REL=$(printf '%s' "$REPO" | sed 's#^/tmp##')
    mkdir -p "$W/tmp$REL"
    mount --bind "$REPO" "$W/tmp$REL"
    ;;
esac
# rbind: the tree's bind above comes along.
mount --rbind "$W/tmp" /tmp
chmod 1777 /tmp
export DOCKER_HOST="unix://$W/docker/docker.sock"
dockerd --data-root "$W/docker/data" --exec-root "$W/docker/exec" --pidfile "$W/docker/dockerd.pid" \
  -H "$DOCKER_HOST" --iptables=false --ip-masq=false --bridge=none \
  --containerd-namespace "ballast-$BALLAST_README_TEST" \
  --containerd-plugins-namespace "ballast-$BALLAST_README_TEST-plugins" >"$W/dockerd.log" 2>&1 &
DOCKERD=$!
teardown() {
  code=$?
  set +e
  echo "=== teardown (exit $code)"
  docker ps -aq | xargs -r docker rm -f >/dev/null
  # While an agent still serves the plugin (a block failed with the cluster up); else dockerd
  # would wait for the missing plugin socket.
  if [ -S /run/docker/plugins/ballast.sock ]; then
    docker volume ls -q | xargs -r docker volume rm -f >/dev/null
  fi
  for dir in /tmp/*/; do
    [ -f "$dir/cluster.json" ] || continue
    (cd "$REPO" && npx ballast dev down --dir "$dir" --purge -y)
  done
  kill "$DOCKERD" 2>/dev/null
  for _ in $(seq 1 60); do kill -0 "$DOCKERD" 2>/dev/null || break; sleep 1; done
  kill -9 "$DOCKERD" 2>/dev/null
  # Mount points under /tmp other than the tree itself (field 5 of mountinfo).
  left=$(awk -v repo="$REPO" '$5 ~ "^/tmp/" && $5 != repo && index($5, repo "/") != 1' /proc/self/mountinfo)
  [ -z "$left" ] || { echo "mounts left under /tmp:"; echo "$left"; }
  exit "$code"
}
trap teardown EXIT
for _ in $(seq 1 90); do docker info >/dev/null 2>&1 && break; sleep 1; done
docker info >/dev/null
# busybox:latest without a registry.
mkdir -p "$W/busybox/bin"
cp /bin/busybox "$W/busybox/bin/busybox"
for applet in sh cat echo ls; do ln -s busybox "$W/busybox/bin/$applet"; done
mkdir -p "$W/busybox/data" "$W/busybox/tmp"
tar -C "$W/busybox" -cf "$W/busybox.tar" .
docker import "$W/busybox.tar" busybox:latest >/dev/null
cd "$REPO"
echo "=== the README's blocks"
bash "$W/readme.sh"
`;

t.test("the README's quick start runs as written", async (t) => {
  if (process.getuid?.() !== 0) {
    t.fail('needs root (mounts, loop devices, dockerd)');
    return;
  }
  for (const tool of ['unshare', 'dockerd', 'docker']) {
    const found = await runQuiet('sh', ['-c', `command -v ${tool}`]);
    if (found !== 0) {
      t.fail(`${tool} is missing (apt-get install util-linux docker.io)`);
      return;
    }
  }
  if (!fs.existsSync(BUSYBOX)) {
    t.fail(`${BUSYBOX} is missing (apt-get install busybox-static)`);
    return;
  }
  const blocks = shellBlocks(readmeBlocks());
  const toRun = blocks.filter((b) => b.action === 'run');
  t.ok(toRun.length > 0, `${toRun.length} of ${blocks.length} shell blocks run`);
  for (const b of blocks.filter((x) => x.action === 'skip')) {
    t.comment(`README.md:${b.line} not run: ${b.note}`);
  }

  // Outside /tmp: the namespace puts a directory of the test's over /tmp.
  fs.mkdirSync('/var/tmp', { recursive: true });
  const work = fs.mkdtempSync('/var/tmp/ballast-readme-');
  t.teardown(() => {
    // Whatever the namespace left running (a teardown that could not finish): this run's only.
    killTagged(RUN_ID);
    fs.rmSync(work, { recursive: true, force: true });
  });
  const script = [
    'set -euo pipefail',
    'set -x',
    ...toRun.flatMap((b) => [`: "=== README.md:${b.line}"`, b.text]),
  ].join('\n');
  fs.writeFileSync(join(work, 'readme.sh'), `${script}\n`);
  fs.writeFileSync(join(work, 'wrapper.sh'), WRAPPER);

  // A user's shell: no BALLAST_* settings of the developer's, and none of what npm and tap put
  // in this process's environment (a tap run in the blocks would report to this one).
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(BALLAST_|DOCKER_HOST$|TAP|_TAP|NODE_OPTIONS$|NODE_V8_COVERAGE$|npm_)/i.test(k),
    ),
  );
  env.BALLAST_README_TEST = RUN_ID;
  env.NO_COLOR = '1';
  const log = join(work, 'run.log');
  const started = Date.now();
  const code = await new Promise<number | null>((resolve) => {
    const out = fs.openSync(log, 'a');
    const child = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', 'bash', join(work, 'wrapper.sh'), work, REPO],
      { stdio: ['ignore', out, out], env },
    );
    fs.closeSync(out);
    const timer = setTimeout(() => child.kill('SIGTERM'), RUN_TIMEOUT_MS);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  const output = fs.readFileSync(log, 'utf8');
  t.equal(code, 0, `the README's blocks ran in ${seconds} s (exit ${code})`);
  const lastBlock = [...output.matchAll(/=== (README\.md:\d+)/g)].at(-1)?.[1];
  if (code !== 0) {
    t.comment(`failed in ${lastBlock ?? 'the set-up'}; the end of its output:`);
    t.comment(output.slice(-12_000));
    const dockerd = join(work, 'dockerd.log');
    if (fs.existsSync(dockerd)) t.comment(fs.readFileSync(dockerd, 'utf8').slice(-3_000));
  }
  t.match(output, /=== teardown \(exit \d+\)/, 'teardown ran');
  t.notMatch(output, /mounts left under \/tmp/, 'no mounts left');
  t.same(taggedProcesses(RUN_ID), [], 'no process of this run is left');
});

function runQuiet(command: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.on('error', () => resolve(null));
    child.on('exit', (c) => resolve(c));
  });
}

/** Pids of processes that inherited BALLAST_README_TEST=<id> (the namespace's, dockerd's...). */
function taggedProcesses(id: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && environ.includes(`BALLAST_README_TEST=${id}`)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

function killTagged(id: string): void {
  for (const pid of taggedProcesses(id)) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
