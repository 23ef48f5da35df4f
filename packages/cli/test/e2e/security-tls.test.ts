// TLS end to end with real processes: `ballast dev up --tls` starts 3 meta members serving the
// API over https and Raft over wss (mutual TLS between members, certificates from a private CA
// made with openssl), 2 storage nodes and an agent that reach meta over https with the join
// token. Checked: the CLI with the cluster's CA (cluster file, --ca, BALLAST_CA) and without it;
// plain http and plain ws refused; a Raft peer with a certificate of another CA refused even with
// the right HMAC, and a client that does not trust the cluster's CA refusing to talk; the
// cluster elects a new leader over wss after the leader is SIGKILLed and takes it back after a
// restart; no secret in any log.
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Agent } from 'undici';
import { WebSocket } from 'ws';
import { createDevCertificates } from '@ballast/common';
import { isAlive, waitFor } from '@ballast/testkit';
import { pluginCall } from '../helpers/exec.js';

const binDir = fileURLToPath(new URL('../../../bin/', import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function ballast(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(binDir, 'ballast.js'), ...args],
      {
        env: {
          ...process.env,
          NO_COLOR: '1',
          FORCE_COLOR: '0',
          BALLAST_RETRY_SECONDS: '0',
          ...env,
        },
        timeout: 180_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** How a raw Raft handshake ends: the HTTP status of a refusal, 101 when accepted, or the error. */
function outcome(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => {
    ws.once('unexpected-response', (_req, res) => {
      resolve(String(res.statusCode));
      ws.terminate();
    });
    ws.once('open', () => {
      resolve('101');
      ws.close();
    });
    ws.once('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
  });
}

interface ClusterFile {
  token: string;
  joinToken: string;
  dataPlaneSecret: string;
  clusterId: string;
  ca: string;
  meta: Array<{ id: string; api: string; pid: number }>;
  nodes: Array<{ pid: number; address: string }>;
  agents: Array<{ pid: number }>;
}

function tool(cmd: string, args: string[], input = ''): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.on('error', () => undefined); // a tool may exit without reading stdin
    child.stdin?.end(input);
  });
}

t.test('a dev cluster over TLS: https API, wss Raft, trusted peers only', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'security-tls-'));
  t.teardown(async () => {
    await ballast(['dev', 'down', '--dir', dir]);
    const latest = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as ClusterFile;
    for (const p of [...latest.meta, ...latest.nodes, ...latest.agents]) {
      if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const pluginSocket = join(dir, 'plugin.sock');
  const up = await ballast([
    'dev',
    'up',
    '--dir',
    dir,
    '--tls',
    '--meta',
    '3',
    '--nodes',
    '2',
    '--agent',
    '--plugin-socket',
    pluginSocket,
    '--json',
  ]);
  t.equal(up.code, 0, up.stderr);
  const clusterFile = join(dir, 'cluster.json');
  const file = JSON.parse(readFileSync(clusterFile, 'utf8')) as ClusterFile;
  t.equal(file.ca, join(dir, 'tls', 'ca.pem'));
  for (const m of file.meta) t.match(m.api, /^https:\/\/127\.0\.0\.1:\d+$/, `${m.id} serves https`);
  const ca = readFileSync(file.ca);
  const dispatcher = new Agent({ connect: { ca } });
  t.teardown(() => dispatcher.close());
  const admin = { authorization: `Bearer ${file.token}` };
  const get = async (url: string): Promise<Response> =>
    fetch(url, { headers: admin, ...({ dispatcher } as object) });

  // The CLI: the cluster file brings its CA; an endpoint needs --ca or BALLAST_CA.
  const status = await ballast(['cluster', 'status', '--json', '--cluster', clusterFile]);
  t.equal(status.code, 0, status.stderr);
  t.match(JSON.parse(status.stdout), { leader: /^m[123]$/, members: [{}, {}, {}] });
  const nodes = await ballast(['node', 'ls', '--json', '--cluster', clusterFile]);
  t.match(
    JSON.parse(nodes.stdout),
    [
      { id: 'n1', state: 'up' },
      { id: 'n2', state: 'up' },
    ],
    'the nodes registered over https with the join token',
  );
  const endpoint = ['--endpoint', file.meta[0]!.api, '--token', file.token];
  const untrusted = await ballast(['volume', 'ls', ...endpoint]);
  t.equal(untrusted.code, 1, 'no CA: exit 1');
  t.match(untrusted.stderr, /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY/);
  t.match(untrusted.stderr, /--ca FILE or BALLAST_CA/);
  t.equal((await ballast(['volume', 'ls', ...endpoint, '--ca', file.ca])).code, 0, '--ca');
  t.equal(
    (await ballast(['volume', 'ls', ...endpoint], { BALLAST_CA: file.ca })).code,
    0,
    'BALLAST_CA',
  );

  // A write sent to a follower is forwarded to the leader over https (the member trusts the CA
  // through --tls-ca alone; dev up gives only nodes and agents NODE_EXTRA_CA_CERTS).
  const leaderId = (JSON.parse(status.stdout) as { leader: string }).leader;
  const follower = file.meta.find((m) => m.id !== leaderId)!;
  const forwarded = await fetch(`${follower.api}/v1/volumes`, {
    method: 'POST',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'fw', size: '16MiB', replicas: 1 }),
    ...({ dispatcher } as object),
  });
  t.equal(
    forwarded.status,
    201,
    `created through follower ${follower.id}: ${await forwarded.text()}`,
  );
  const followerEnv = readFileSync(`/proc/${follower.pid}/environ`, 'utf8');
  t.notOk(followerEnv.includes(file.ca), 'the member is not given the CA through its environment');

  // The agent (join token, https) creates and removes a replicated volume.
  t.same(
    await pluginCall(pluginSocket, '/VolumeDriver.Create', {
      Name: 'tv',
      Opts: { size: '16MiB', replicas: '2' },
    }),
    { Err: '' },
  );
  const volume = (await (await get(`${file.meta[1]!.api}/v1/volumes/tv`)).json()) as {
    replicas: unknown[];
  };
  t.equal(volume.replicas.length, 2);

  // The data plane is TLS as well: each node presents a certificate the cluster's CA verifies,
  // and the agent's engine reaches the nodes only that way (they accept nothing else).
  for (const node of file.nodes) {
    const handshake = await tool('openssl', [
      's_client',
      '-connect',
      node.address,
      '-CAfile',
      file.ca,
      '-verify_return_error',
      '-brief',
    ]);
    t.equal(handshake.code, 0, `node ${node.address} speaks TLS with a certificate of the CA`);
    t.match(handshake.stderr + handshake.stdout, /Verification: OK/);
  }
  const attach = await ballast(['volume', 'attach', 'tv', '--cluster', clusterFile]);
  t.equal(attach.code, 0, attach.stderr);
  const uri = attach.stdout.match(/nbd\+unix:\/\/\/\S+/)?.[0];
  t.ok(uri, `an NBD URI: ${attach.stdout.trim()}`);
  const io = await tool('qemu-io', [
    '-f',
    'raw',
    '-c',
    'write -P 0x5c 0 1M',
    '-c',
    'read -P 0x5c 0 1M',
    uri!,
  ]);
  t.equal(io.code, 0, 'written and read back through the agent over the TLS data plane');
  t.notMatch(io.stdout + io.stderr, /Pattern verification failed|error/i);
  const detach = await ballast(['volume', 'detach', 'tv', '--cluster', clusterFile]);
  t.equal(detach.code, 0, detach.stderr);
  t.same(await pluginCall(pluginSocket, '/VolumeDriver.Remove', { Name: 'tv' }), { Err: '' });

  // Plain http and plain ws do not reach a member.
  const plainApi = file.meta[0]!.api.replace(/^https:/, 'http:');
  await t.rejects(fetch(`${plainApi}/v1/cluster`, { headers: admin }), 'plain http is refused');
  const headers = (from: string, to: string): Record<string, string> => ({
    'x-ballast-cluster': file.clusterId,
    'x-ballast-from': from,
    'x-ballast-to': to,
    // The Raft handshake proof (see @ballast/raft-node): the cluster secret is the admin token here.
    'x-ballast-auth': `v1=${createHmac('sha256', file.token).update(`ballast-raft-v1\n${file.clusterId}\n${from}\n${to}`).digest('hex')}`,
  });
  const raftUrl = `${file.meta[0]!.api.replace(/^https:/, 'wss:')}/raft`;
  t.match(
    await outcome(new WebSocket(raftUrl.replace(/^wss:/, 'ws:'), { headers: headers('m7', 'm1') })),
    /^error /,
    'plain ws is refused',
  );

  // Raft peers need a certificate of the cluster's CA, whatever they know of the secret.
  const stranger = createDevCertificates(join(dir, 'stranger'), { caName: 'stranger CA' });
  const strangerPem = {
    cert: readFileSync(stranger.certFile),
    key: readFileSync(stranger.keyFile),
  };
  t.equal(
    await outcome(new WebSocket(raftUrl, { ca, ...strangerPem, headers: headers('m7', 'm1') })),
    '403',
    "another CA's certificate with the right HMAC: 403",
  );
  t.equal(
    await outcome(new WebSocket(raftUrl, { ca, headers: headers('m7', 'm1') })),
    '403',
    'no client certificate: 403',
  );
  t.match(
    await outcome(
      new WebSocket(raftUrl, { ca: readFileSync(stranger.caFile), headers: headers('m7', 'm1') }),
    ),
    /^error (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/,
    "a client that trusts only another CA refuses the member's certificate",
  );
  const member = {
    cert: readFileSync(join(dir, 'tls', 'member.pem')),
    key: readFileSync(join(dir, 'tls', 'member.key')),
  };
  t.equal(
    await outcome(new WebSocket(raftUrl, { ca, ...member, headers: headers('m7', 'm1') })),
    '101',
    "the cluster's certificate and the HMAC: accepted (a positive control)",
  );
  const metrics = await (await get(`${file.meta[0]!.api}/metrics`)).text();
  t.match(
    metrics,
    /ballast_raft_connections_rejected_total\{reason="untrusted-certificate"[^}]*\} [2-9]/,
  );

  // Raft over wss: every member connected to its peers over wss, never ws.
  for (const m of file.meta) {
    const log = readFileSync(join(dir, 'logs', `${m.id}.log`), 'utf8');
    t.match(
      log,
      /"url":"wss:\/\/127\.0\.0\.1:\d+\/raft","msg":"raft peer connected"/,
      `${m.id} over wss`,
    );
    t.notMatch(log, /"url":"ws:\/\//, `${m.id} never dialled plain ws`);
  }

  // A leader SIGKILLed: the others elect a new one over wss; the old one comes back.
  const current = (await (await get(`${file.meta[0]!.api}/v1/cluster`)).json()) as {
    leader: string;
  };
  const leader = current.leader;
  t.equal((await ballast(['dev', 'kill', '--dir', dir, leader])).code, 0);
  const survivor = file.meta.find((m) => m.id !== leader)!;
  let newLeader = '';
  await waitFor(
    'a new leader',
    async () => {
      const res = await get(`${survivor.api}/v1/cluster`).catch(() => undefined);
      const body = res?.ok ? ((await res.json()) as { leader: string | null }) : undefined;
      newLeader = body?.leader ?? '';
      return newLeader !== '' && newLeader !== leader;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const created = await ballast(
    ['volume', 'create', 'after', '--size', '16MiB', '--replicas', '1', '--cluster', clusterFile],
    {
      BALLAST_RETRY_SECONDS: '20',
    },
  );
  t.equal(created.code, 0, `a write after the failover (leader ${newLeader}): ${created.stderr}`);
  t.equal((await ballast(['dev', 'restart', '--dir', dir, leader])).code, 0);
  const back = JSON.parse(readFileSync(clusterFile, 'utf8')) as ClusterFile;
  const restarted = back.meta.find((m) => m.id === leader)!;
  await waitFor(
    'the restarted member to hold the write',
    async () => {
      const res = await get(`${restarted.api}/v1/volumes/after`).catch(() => undefined);
      return res?.status === 200;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  t.pass(`${leader} caught up over wss after its restart`);

  // No secret in any log.
  for (const name of readdirSync(join(dir, 'logs'))) {
    const text = readFileSync(join(dir, 'logs', name), 'utf8');
    for (const [what, value] of Object.entries({
      'admin token': file.token,
      'join token': file.joinToken,
      'data-plane secret': file.dataPlaneSecret,
    })) {
      t.notOk(text.includes(value), `no ${what} in logs/${name}`);
    }
  }
});
