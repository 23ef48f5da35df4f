import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  Fleet,
  LAB_STATE_DIR,
  ManagedProcess,
  NetLab,
  type TestLike,
  isAlive,
  sleep,
  waitFor,
} from '../src/index.js';

const skip =
  process.getuid?.() === 0 ? false : 'NetLab needs root (network namespaces, iptables, tc)';

const MiB = 1024 * 1024;
// Every host runs the same servers: 7000 TCP echo, 7001 UDP (logs each datagram), 7002 TCP sink
// (answers with the byte count it read), 7003 TCP source (sends 1 MiB).
const SERVERS = `
const net = require('net'), dgram = require('dgram');
let up = 0; const ready = () => { if (++up === 4) console.log('ready'); };
const serve = (port, fn) => net.createServer((s) => { s.on('error', () => {}); fn(s); }).listen(port, ready);
serve(7000, (s) => s.pipe(s));
serve(7002, (s) => { let n = 0; s.on('data', (d) => (n += d.length)); s.on('end', () => s.end(String(n))); });
serve(7003, (s) => s.end(Buffer.alloc(${MiB})));
const u = dgram.createSocket('udp4');
u.on('message', (m) => console.log('udp ' + m));
u.bind(7001, ready);
`;
// One TCP round trip to the echo server: ok, timeout, or error CODE.
const PROBE = `
const [addr, port, ms] = process.argv.slice(1);
const s = require('net').connect(+port, addr);
const done = (r) => { console.log(r); process.exit(0); };
setTimeout(() => done('timeout'), +ms);
s.on('connect', () => s.write('ping'));
s.on('data', () => done('ok'));
s.on('error', (e) => done('error ' + e.code));
`;
const UDP_SEND = `
const [addr, port, msg] = process.argv.slice(1);
const u = require('dgram').createSocket('udp4');
u.send(msg, +port, addr, (e) => { console.log(e ? 'error ' + e.code : 'sent'); u.close(); });
`;
const PROBE_MS = 1200;

function ipNetnsList(): string {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
}

function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function probeFromRoot(addr: string, port = 7000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, addr);
    const done = (r: string): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('timeout'), PROBE_MS);
    s.on('connect', () => s.write('ping'));
    s.on('data', () => done('ok'));
    s.on('error', (e: NodeJS.ErrnoException) => done(`error ${e.code}`));
  });
}

/** TCP round trip from `from` (a host or NetLab.ROOT) to host `to`'s echo server. */
async function probe(lab: NetLab, from: string, to: string): Promise<string> {
  if (from === NetLab.ROOT) return probeFromRoot(lab.address(to));
  const { stdout } = await lab.exec(from, [
    process.execPath,
    '-e',
    PROBE,
    lab.address(to),
    '7000',
    String(PROBE_MS),
  ]);
  return stdout.trim();
}

/** Probes several pairs at once (failed ones each wait out the timeout) and returns `from>to: result`. */
async function reach(lab: NetLab, pairs: Array<[string, string]>): Promise<Record<string, string>> {
  const results = await Promise.all(pairs.map(([from, to]) => probe(lab, from, to)));
  return Object.fromEntries(pairs.map(([from, to], i) => [`${from}>${to}`, results[i]!]));
}

async function udpSend(lab: NetLab, from: string, to: string, msg: string): Promise<string> {
  const { stdout } = await lab.exec(from, [
    process.execPath,
    '-e',
    UDP_SEND,
    lab.address(to),
    '7001',
    msg,
  ]);
  return stdout.trim();
}

/** Sends `bytes` to `addr`'s sink from the root netns; resolves with the milliseconds it took. */
function upload(addr: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const s = connect(7002, addr);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('upload timed out'));
    }, 60_000);
    let reply = '';
    s.on('data', (d) => (reply += d.toString()));
    s.on('end', () => {
      clearTimeout(timer);
      if (reply === String(bytes)) resolve(Date.now() - started);
      else reject(new Error(`sink read ${reply} bytes, sent ${bytes}`));
    });
    s.on('error', reject);
    s.end(Buffer.alloc(bytes));
  });
}

/** Reads 1 MiB from `addr`'s source into the root netns; resolves with the milliseconds it took. */
function download(addr: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const s = connect(7003, addr);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('download timed out'));
    }, 60_000);
    let n = 0;
    s.on('data', (d) => (n += d.length));
    s.on('end', () => {
      clearTimeout(timer);
      if (n === MiB) resolve(Date.now() - started);
      else reject(new Error(`downloaded ${n} bytes`));
    });
    s.on('error', reject);
  });
}

function switchRules(lab: NetLab): string[] {
  return execFileSync(
    'nsenter',
    [`--net=/run/netns/${lab.switchNetns}`, 'iptables', '-S', 'BALLAST-LAB'],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter((l) => l.startsWith('-A'));
}

/** A node child that creates a two-host lab, prints its prefix and waits to be killed. */
async function labInChild(
  t: TestLike,
  { persistent = false, exit = false } = {},
): Promise<{ prefix: string; pid: number; exited: Promise<void> }> {
  const moduleUrl = new URL('../src/netns.js', import.meta.url).href;
  const script = `import(process.argv[1]).then(async ({ NetLab }) => {
    const lab = await NetLab.create({ hosts: ['x', 'y'], persistent: ${persistent} });
    console.log(lab.prefix);
    if (${exit}) process.exit(0);
    setInterval(() => {}, 1000);
  });`;
  const child = spawn(process.execPath, ['-e', script, moduleUrl], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const made: { prefix?: string } = {};
  // Whatever the test did: the child dies, then its lab goes.
  t.teardown(async () => {
    child.kill('SIGKILL');
    await exited;
    if (made.prefix === undefined) return;
    if (persistent) {
      if (await NetLab.exists(made.prefix)) await (await NetLab.open(made.prefix)).destroy();
    } else {
      await NetLab.removeStale(made.prefix);
    }
  });
  const prefix = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    void exited.then(() => reject(new Error('the child exited before creating its lab')));
  });
  made.prefix = prefix;
  return { prefix, pid: child.pid!, exited };
}

t.test('a three-host lab: reachability, faults, destroy', { skip }, async (t) => {
  const fleet = Fleet.forTest(t, 'ballast-netns-');
  const started = Date.now();
  const lab = await NetLab.create({ hosts: ['a', 'b', 'c'] });
  t.comment(`create took ${Date.now() - started} ms (${lab.prefix}, ${lab.subnet})`);
  t.teardown(() => lab.destroy());

  const servers: Record<string, ManagedProcess> = {};
  for (const host of lab.hosts) {
    const [command, ...args] = lab.wrap(host, [process.execPath, '-e', SERVERS]);
    servers[host] = fleet.add(
      new ManagedProcess({
        id: host,
        command: command!,
        args,
        logFile: fleet.path(`${host}.log`),
        readyWhen: (line) => line === 'ready',
        readyTimeoutMs: 10_000,
      }),
    );
  }
  await Promise.all(Object.values(servers).map((p) => p.start()));
  const received = (host: string, msg: string): boolean =>
    servers[host]!.tail(1000).split('\n').includes(`udp ${msg}`);

  await t.test('layout', async (t) => {
    const list = ipNetnsList();
    for (const ns of [lab.switchNetns, ...lab.hosts.map((h) => lab.netnsName(h))]) {
      t.match(list, new RegExp(`^${ns}( |$)`, 'm'), `namespace ${ns} exists`);
    }
    t.equal(lab.netnsName('a'), `${lab.prefix}-a`);
    t.ok(lab.rootInterface.length <= 15, 'interface names fit IFNAMSIZ');
    const rootAddr = execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', lab.rootInterface], {
      encoding: 'utf8',
    });
    t.match(rootAddr, `inet ${lab.rootAddress}/24`);
    const addresses = lab.hosts.map((h) => lab.address(h));
    t.equal(new Set(addresses).size, 3, 'distinct host addresses');
    for (const a of addresses)
      t.ok(a.startsWith(lab.subnet.replace(/0\/24$/, '')), `${a} in ${lab.subnet}`);
    const routes = (await lab.exec('a', ['ip', '-4', 'route'])).stdout.trim().split('\n');
    t.same(routes.length, 1, 'a host has only its lab route');
    t.notMatch(routes.join('\n'), /default/, 'no default route in a host');
    t.match(
      (await lab.exec('a', ['ip', '-o', 'link', 'show', 'lo'])).stdout,
      /[<,]UP[,>]/,
      'lo up',
    );
    t.match(
      (await lab.exec('a', ['ip', '-o', '-6', 'addr', 'show', 'dev', 'eth0'])).stdout,
      /^$/,
      'no IPv6',
    );
    const state = JSON.parse(readFileSync(join(LAB_STATE_DIR, `${lab.prefix}.json`), 'utf8')) as {
      pid: number;
    };
    t.equal(state.pid, process.pid, 'the state file names the creator');
    const { stdout } = await lab.exec('a', [
      process.execPath,
      '-e',
      PROBE,
      '127.0.0.1',
      '7000',
      '2000',
    ]);
    t.equal(stdout.trim(), 'ok', 'a host reaches itself on loopback');
    t.same(
      await reach(lab, [
        [NetLab.ROOT, 'a'],
        ['b', 'a'],
        ['a', 'b'],
        ['c', 'a'],
      ]),
      { 'root>a': 'ok', 'b>a': 'ok', 'a>b': 'ok', 'c>a': 'ok' },
      'everything reaches everything',
    );
  });

  await t.test('partition both ways, idempotent, heal', async (t) => {
    t.teardown(() => lab.reset());
    await lab.partition('a', 'b');
    await lab.partition('a', 'b');
    t.same(lab.faults().partitions, [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'a' },
    ]);
    t.equal(switchRules(lab).length, 2, 'no duplicate rules');
    t.same(
      await reach(lab, [
        ['b', 'a'],
        ['a', 'b'],
        [NetLab.ROOT, 'a'],
        ['c', 'a'],
        ['c', 'b'],
      ]),
      { 'b>a': 'timeout', 'a>b': 'timeout', 'root>a': 'ok', 'c>a': 'ok', 'c>b': 'ok' },
    );
    await lab.heal('a', 'b');
    t.same(lab.faults().partitions, []);
    t.same(await reach(lab, [['b', 'a']]), { 'b>a': 'ok' }, 'healed');
  });

  await t.test('one-way partition a->b', async (t) => {
    t.teardown(() => lab.reset());
    await lab.partition('a', 'b', { oneWay: true });
    t.same(lab.faults().partitions, [{ from: 'a', to: 'b' }]);
    // b's SYN reaches a, a's SYN-ACK is dropped; a's own SYN is dropped.
    t.same(
      await reach(lab, [
        ['b', 'a'],
        ['a', 'b'],
        ['c', 'b'],
      ]),
      { 'b>a': 'timeout', 'a>b': 'timeout', 'c>b': 'ok' },
    );
    t.equal(await udpSend(lab, 'b', 'a', 'b-to-a'), 'sent');
    await waitFor('b-to-a at a', () => received('a', 'b-to-a'), { timeoutMs: 5_000 });
    t.pass("b's datagram reached a");
    t.equal(
      await udpSend(lab, 'a', 'b', 'a-to-b'),
      'sent',
      'dropped on the wire: the sender sees no error',
    );
    // A datagram sent later from c arriving first shows a's is not just late.
    t.equal(await udpSend(lab, 'c', 'b', 'marker-c'), 'sent');
    await waitFor('marker-c at b', () => received('b', 'marker-c'), { timeoutMs: 5_000 });
    t.notOk(received('b', 'a-to-b'), "a's datagram did not reach b");
    await lab.heal();
    t.same(await reach(lab, [['b', 'a']]), { 'b>a': 'ok' }, 'healed');
  });

  await t.test('isolate, with and without the root netns', async (t) => {
    t.teardown(() => lab.reset());
    await lab.isolate('a');
    t.equal(lab.faults().partitions.length, 4, 'a<->b and a<->c');
    t.same(
      await reach(lab, [
        ['b', 'a'],
        ['c', 'a'],
        ['a', 'c'],
        [NetLab.ROOT, 'a'],
        ['b', 'c'],
      ]),
      { 'b>a': 'timeout', 'c>a': 'timeout', 'a>c': 'timeout', 'root>a': 'ok', 'b>c': 'ok' },
    );
    await lab.heal('a');
    t.same(lab.faults().partitions, [], 'heal(a) undoes isolate(a)');
    t.same(await reach(lab, [['b', 'a']]), { 'b>a': 'ok' });

    await lab.isolate('a', { includeRoot: true });
    t.same(
      await reach(lab, [
        [NetLab.ROOT, 'a'],
        [NetLab.ROOT, 'b'],
        ['a', 'b'],
      ]),
      { 'root>a': 'timeout', 'root>b': 'ok', 'a>b': 'timeout' },
    );
    await lab.heal();
    t.same(await reach(lab, [[NetLab.ROOT, 'a']]), { 'root>a': 'ok' });

    await lab.partition(NetLab.ROOT, 'b');
    t.same(
      await reach(lab, [
        [NetLab.ROOT, 'b'],
        [NetLab.ROOT, 'a'],
        ['a', 'b'],
      ]),
      { 'root>b': 'timeout', 'root>a': 'ok', 'a>b': 'ok' },
      'the root netns can be partitioned too',
    );
  });

  await t.test('lossy', async (t) => {
    t.teardown(() => lab.reset());
    await lab.lossy('a', 1);
    t.same(lab.faults().lossy, { a: 1 });
    t.same(
      await reach(lab, [
        [NetLab.ROOT, 'a'],
        ['b', 'a'],
        ['b', 'c'],
      ]),
      { 'root>a': 'timeout', 'b>a': 'timeout', 'b>c': 'ok' },
    );
    await lab.lossy('a', 0);
    t.same(lab.faults().lossy, {});
    t.same(await reach(lab, [[NetLab.ROOT, 'a']]), { 'root>a': 'ok' }, 'restored');

    // Half of 200 datagrams from the root; a generous band, not a statistics test.
    await lab.lossy('a', 0.5);
    const sock = createSocket('udp4');
    for (let i = 0; i < 200; i++) {
      await new Promise<void>((resolve) =>
        sock.send(`loss-${i}`, 7001, lab.address('a'), () => resolve()),
      );
    }
    await lab.lossy('a', 0);
    await new Promise<void>((resolve) =>
      sock.send('loss-end', 7001, lab.address('a'), () => resolve()),
    );
    sock.close();
    await waitFor('loss-end at a', () => received('a', 'loss-end'), { timeoutMs: 5_000 });
    const arrived = servers
      .a!.tail(1000)
      .split('\n')
      .filter((l) => /^udp loss-\d+$/.test(l)).length;
    t.comment(`lossy 0.5: ${arrived} of 200 datagrams arrived`);
    t.ok(arrived > 40 && arrived < 160, `about half arrived (${arrived})`);
    await t.rejects(lab.lossy('a', 1.5), /within \[0, 1\]/);
  });

  await t.test('slow: tbf both ways', async (t) => {
    t.teardown(() => lab.reset());
    const addr = lab.address('a');
    const fastUp = await upload(addr, MiB);
    const fastDown = await download(addr);
    // 1 MiB at 2048 kbit/s is about 4.1 s each way (256 kbit/s would take 33 s).
    await lab.slow('a', 2048);
    t.same(lab.faults().slow, { a: 2048 });
    const [slowUp, slowDown] = await Promise.all([upload(addr, MiB), download(addr)]);
    t.comment(
      `1 MiB unshaped: up ${fastUp} ms, down ${fastDown} ms; at 2048 kbit: up ${slowUp} ms, down ${slowDown} ms`,
    );
    t.ok(slowUp > 2000, `a's ingress is limited (${slowUp} ms)`);
    t.ok(slowDown > 2000, `a's egress is limited (${slowDown} ms)`);
    await lab.slow('a', 0);
    t.same(lab.faults().slow, {});
    const again = await upload(addr, MiB);
    t.ok(again < slowUp, `unlimited again (${again} ms)`);
    await lab.slow('a', 0);
    t.pass('removing twice is fine');
  });

  await t.test('concurrent calls apply in call order', async (t) => {
    t.teardown(() => lab.reset());
    await Promise.all([
      lab.partition('a', 'b'),
      lab.partition('a', 'c'),
      lab.heal('a', 'b'),
      lab.lossy('c', 0.25),
      lab.partition('b', 'c', { oneWay: true }),
    ]);
    t.same(lab.faults(), {
      partitions: [
        { from: 'a', to: 'c' },
        { from: 'c', to: 'a' },
        { from: 'b', to: 'c' },
      ],
      lossy: { c: 0.25 },
      slow: {},
    });
    t.equal(switchRules(lab).length, 5, '3 cuts + 2 loss rules in the switch');
    await lab.reset();
    t.same(lab.faults(), { partitions: [], lossy: {}, slow: {} });
    t.equal(switchRules(lab).length, 0);
  });

  await t.test('errors', async (t) => {
    await t.rejects(lab.partition('a', 'zz'), /no host zz/);
    await t.rejects(lab.partition('a', 'a'), /itself/);
    t.throws(() => lab.address('zz'), /no host zz/);
    await t.rejects(lab.exec('a', ['sh', '-c', 'echo boom >&2; exit 3']), /code 3.*boom/);
    const before = Date.now();
    await t.rejects(lab.exec('a', ['sleep', '10'], { timeoutMs: 300 }), /timed out after 300 ms/);
    t.ok(Date.now() - before < 5000, 'bounded');
    await t.rejects(lab.slow('a', -1), /kbit/);
  });

  await t.test('destroy', async (t) => {
    const stateFile = join(LAB_STATE_DIR, `${lab.prefix}.json`);
    t.ok(existsSync(stateFile));
    const before = Date.now();
    await lab.destroy();
    t.comment(`destroy took ${Date.now() - before} ms`);
    t.notMatch(ipNetnsList(), new RegExp(`^${lab.prefix}-`, 'm'), 'no namespace left');
    t.notOk(linkExists(lab.rootInterface), 'root veth gone');
    t.notOk(existsSync(stateFile), 'state file gone');
    for (const p of Object.values(servers)) {
      await waitFor(`${p.id} killed`, () => !p.running, { timeoutMs: 5_000 });
    }
    t.pass('processes left in the namespaces were killed');
    await lab.destroy();
    t.pass('destroy is idempotent');
    await t.rejects(lab.partition('a', 'b'), /destroyed/);
  });
});

t.test('a create() that fails half-way leaves nothing behind', { skip }, async (t) => {
  // A fake iptables-restore fails the very last step, after every namespace and veth exists.
  const dir = mkdtempSync(join(tmpdir(), 'ballast-netns-fake-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'iptables-restore'), '#!/bin/sh\necho injected failure >&2\nexit 1\n', {
    mode: 0o755,
  });
  const prefix = `blf${randomBytes(2).toString('hex')}`;
  const path = process.env.PATH;
  process.env.PATH = `${dir}:${path}`;
  try {
    await t.rejects(NetLab.create({ hosts: ['a', 'b'], prefix }), /injected failure/);
  } finally {
    process.env.PATH = path;
  }
  t.notMatch(ipNetnsList(), new RegExp(`^${prefix}-`, 'm'), 'no namespace left');
  t.notOk(linkExists(`${prefix}-root`), 'no root veth left');
  t.notOk(existsSync(join(LAB_STATE_DIR, `${prefix}.json`)), 'no state file left');
});

t.test('options are validated', { skip }, async (t) => {
  await t.rejects(NetLab.create({ hosts: [] }), /1 to 60 hosts/);
  await t.rejects(
    NetLab.create({ hosts: Array.from({ length: 61 }, (_, i) => `h${i}`) }),
    /1 to 60/,
  );
  await t.rejects(NetLab.create({ hosts: ['a', 'a'] }), /duplicate/);
  await t.rejects(NetLab.create({ hosts: ['root'] }), /reserved/);
  await t.rejects(NetLab.create({ hosts: ['a/b'] }), /invalid host name/);
  await t.rejects(NetLab.create({ hosts: ['a'], prefix: 'Bad-Prefix' }), /invalid lab prefix/);
});

t.test('two labs coexist; a taken prefix is refused', { skip }, async (t) => {
  const one = await NetLab.create({ hosts: ['a'] });
  t.teardown(() => one.destroy());
  const two = await NetLab.create({ hosts: ['a'] });
  t.teardown(() => two.destroy());
  t.not(one.prefix, two.prefix);
  t.not(one.subnet, two.subnet);
  t.equal(await probeFromRoot(one.address('a'), 9), 'error ECONNREFUSED', 'lab one answers');
  t.equal(await probeFromRoot(two.address('a'), 9), 'error ECONNREFUSED', 'lab two answers');
  await t.rejects(NetLab.create({ hosts: ['b'], prefix: one.prefix }), /in use/);
  t.equal(
    await probeFromRoot(one.address('a'), 9),
    'error ECONNREFUSED',
    'the refused create left lab one alone',
  );
});

t.test('removeStale removes the lab of a dead creator, not a live one', { skip }, async (t) => {
  const live = await NetLab.create({ hosts: ['a'] });
  t.teardown(() => live.destroy());
  const child = await labInChild(t);
  process.kill(child.pid, 'SIGKILL'); // no exit hook runs
  await child.exited;
  t.notOk(isAlive(child.pid));
  t.match(
    ipNetnsList(),
    new RegExp(`^${child.prefix}-x`, 'm'),
    "the dead creator's lab is still there",
  );

  t.equal(await NetLab.removeStale(live.prefix), 0, 'a live lab is not stale');
  t.equal(await NetLab.removeStale(child.prefix), 1);
  t.notMatch(ipNetnsList(), new RegExp(`^${child.prefix}-`, 'm'), 'namespaces gone');
  t.notOk(linkExists(`${child.prefix}-root`), 'root veth gone');
  t.notOk(existsSync(join(LAB_STATE_DIR, `${child.prefix}.json`)), 'state file gone');
  t.equal(await NetLab.removeStale(child.prefix), 0, 'nothing left to remove');
  t.equal(
    await probeFromRoot(live.address('a'), 9),
    'error ECONNREFUSED',
    'the live lab still works',
  );
});

t.test('a creator ended by SIGTERM removes its lab on exit', { skip }, async (t) => {
  const child = await labInChild(t);
  t.match(ipNetnsList(), new RegExp(`^${child.prefix}-x`, 'm'));
  process.kill(child.pid, 'SIGTERM');
  await child.exited;
  await sleep(50);
  t.notMatch(ipNetnsList(), new RegExp(`^${child.prefix}-`, 'm'), 'namespaces gone');
  t.notOk(linkExists(`${child.prefix}-root`), 'root veth gone');
  t.notOk(existsSync(join(LAB_STATE_DIR, `${child.prefix}.json`)), 'state file gone');
});

t.test(
  'a persistent lab outlives its creator; open() reaches it from elsewhere',
  { skip },
  async (t) => {
    const child = await labInChild(t, { persistent: true, exit: true });
    await child.exited;
    t.ok(await NetLab.exists(child.prefix), 'still there after its creator exited');
    t.equal(await NetLab.removeStale(child.prefix), 0, 'removeStale keeps a persistent lab');

    const first = await NetLab.open(child.prefix);
    t.same(first.hosts, ['x', 'y']);
    t.match(first.address('y'), /^10\.\d+\.\d+\.12$/);
    await first.partition('x', 'y', { oneWay: true });
    await first.slow('y', 4096);
    const addr = await first.exec('x', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    t.match(addr.stdout, `inet ${first.address('x')}/24`, 'exec through an opened lab');

    // Another process (a later `ballast dev heal`) sees the faults and changes them.
    const second = await NetLab.open(child.prefix);
    t.same(second.faults(), { partitions: [{ from: 'x', to: 'y' }], lossy: {}, slow: { y: 4096 } });
    await second.heal('x', 'y');
    await second.lossy('x', 0.5);
    t.equal(switchRules(second).length, 2, 'only the loss rules are left in the switch');
    await first.slow('y', 0);
    t.same(
      first.faults(),
      { partitions: [], lossy: { x: 0.5 }, slow: {} },
      'the first object sees the heal',
    );

    await second.destroy();
    t.notOk(await NetLab.exists(child.prefix), 'destroyed from the second object');
    t.notMatch(ipNetnsList(), new RegExp(`^${child.prefix}-`, 'm'), 'namespaces gone');
    t.notOk(linkExists(`${child.prefix}-root`), 'root veth gone');
    await t.rejects(NetLab.open(child.prefix), /no lab/);
    await t.rejects(
      first.lossy('x', 0.5),
      /cannot open \/run\/netns\//,
      'the first object fails cleanly',
    );
    t.notOk(
      existsSync(join(LAB_STATE_DIR, `${child.prefix}.json`)),
      'a failed operation writes no state file back',
    );
  },
);
