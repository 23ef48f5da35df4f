// docker-compose.yml as Compose itself reads it (`docker-compose config`, v1.28+, or
// `docker compose config`): it parses, and it describes the cluster the issue asks for. Also
// checks that Prometheus scrapes exactly the ports the compose services listen on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { COMPOSE_FILE, PROMETHEUS_DIR, REPO_ROOT } from '../src/paths.js';
import { commandExists, run } from './helpers/run.js';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  profiles?: string[];
  user?: string;
  cap_add?: string[];
  devices?: string[];
  device_cgroup_rules?: string[];
  privileged?: boolean;
  depends_on?: Record<string, { condition: string }>;
  init?: boolean;
  ports?: string[];
  entrypoint?: string[];
  healthcheck?: Record<string, unknown>;
  pid?: string;
  restart?: string;
  secrets?: Array<{ source: string }>;
}

interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  secrets?: Record<string, { file: string }>;
}

/** `docker-compose` (v1) if installed, else `docker compose` (v2), else undefined. */
async function composeCommand(): Promise<string[] | undefined> {
  if (await commandExists('docker-compose')) return ['docker-compose'];
  if ((await run('docker', ['compose', 'version'], { timeoutMs: 20_000 })).code === 0) {
    return ['docker', 'compose'];
  }
  return undefined;
}

async function config(env: NodeJS.ProcessEnv = {}): Promise<Compose> {
  const compose = (await composeCommand())!;
  // A clean environment so the developer's own BALLAST_* settings do not leak in.
  const cleanEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('BALLAST_')),
  );
  const result = await run(
    compose[0]!,
    [...compose.slice(1), '--project-directory', REPO_ROOT, '-f', COMPOSE_FILE, 'config'],
    { env: { ...cleanEnv, ...env }, timeoutMs: 60_000, cwd: REPO_ROOT },
  );
  if (result.code !== 0) throw new Error(`compose config failed: ${result.stderr}`);
  return parse(result.stdout) as Compose;
}

const composeMissing =
  (await composeCommand()) === undefined
    ? 'neither docker-compose nor `docker compose` is installed: the compose file is not checked'
    : false;

t.test('docker-compose.yml', { skip: composeMissing }, async (t) => {
  const c = await config();
  // The long-running Ballast services; mount-root is a one-shot helper on the same image.
  const ballast = Object.entries(c.services).filter(
    ([n, s]) => s.image === 'ballast:local' && n !== 'mount-root',
  );

  t.test('one image for every Ballast service, built from cluster/Dockerfile', async (t) => {
    t.same(ballast.map(([n]) => n).sort(), [
      'agent',
      'meta1',
      'meta2',
      'meta3',
      'node1',
      'node2',
      'node3',
    ]);
    for (const [name, s] of ballast) {
      t.equal(s.build?.dockerfile, 'cluster/Dockerfile', `${name}: Dockerfile`);
      t.equal(s.build?.args?.BASE_IMAGE, 'node:20-bookworm-slim', `${name}: public base image`);
      t.equal(s.init, true, `${name}: an init reaps the agent's helper processes`);
      t.equal(s.profiles, undefined, `${name}: in the core cluster (no profile)`);
    }
  });

  t.test('3 meta members forming one Raft cluster', async (t) => {
    const peers = new Set<string>();
    for (const [i, name] of ['meta1', 'meta2', 'meta3'].entries()) {
      const s = c.services[name]!;
      t.same(s.command, ['meta']);
      t.equal(s.environment?.BALLAST_ID, `m${i + 1}`);
      t.equal(s.environment?.BALLAST_ADVERTISE, `http://${name}:7000`);
      t.ok(
        s.volumes?.some((v) => v.startsWith(`${name}-data:`)),
        `${name}: named data volume`,
      );
      peers.add(s.environment?.BALLAST_PEERS ?? '');
    }
    t.same([...peers], ['m1=http://meta1:7000,m2=http://meta2:7000,m3=http://meta3:7000']);
  });

  t.test('3 storage nodes with their own volumes and distinct zones', async (t) => {
    const zones = new Set<string>();
    const volumes = new Set<string>();
    for (const name of ['node1', 'node2', 'node3']) {
      const s = c.services[name]!;
      t.same(s.command, ['node']);
      const zone = /(?:^|,)zone=([^,]+)/.exec(s.environment?.BALLAST_LABELS ?? '')?.[1];
      t.ok(zone, `${name}: has a zone label`);
      zones.add(zone ?? '');
      const data = s.volumes
        ?.map((v) => /^([a-z0-9-]+):\/var\/lib\/ballast(?::rw)?$/.exec(v)?.[1])
        .find((v) => v !== undefined);
      t.ok(data, `${name}: data on a named volume`);
      volumes.add(data ?? '');
      t.ok(data !== undefined && data in c.volumes, `${name}: its volume is declared`);
      for (const m of ['meta1', 'meta2', 'meta3']) {
        t.equal(s.depends_on?.[m]?.condition, 'service_healthy', `${name} waits for ${m}`);
      }
      t.not(s.user, '0:0', `${name}: not root`);
    }
    t.equal(zones.size, 3, 'three zones');
    t.equal(volumes.size, 3, 'three volumes');
  });

  t.test('the agent can serve the Docker plugin and mount for the host', async (t) => {
    const a = c.services.agent!;
    t.same(a.command, ['agent']);
    t.equal(a.user, '0:0', 'root');
    t.ok(a.cap_add?.includes('SYS_ADMIN') || a.privileged, 'may mount');
    t.ok(a.volumes?.includes('/run/docker/plugins:/run/docker/plugins:rw'), 'plugin directory');
    t.ok(a.volumes?.includes('/dev:/dev:rw'), '/dev (loop devices appear at run time)');
    const root = a.environment?.BALLAST_MOUNT_ROOT;
    t.equal(root, '/var/lib/ballast/mounts');
    t.ok(a.volumes?.includes(`${root}:${root}:rshared`), 'mount root shared with the host');
    t.equal(a.environment?.BALLAST_PLUGIN_SOCKET, '/run/docker/plugins/ballast.sock');
    for (const rule of ['b 7:* rmw', 'c 10:237 rmw', 'c 10:229 rmw']) {
      t.ok(a.device_cgroup_rules?.includes(rule) || a.privileged, `device rule ${rule}`);
    }
    t.equal(
      a.depends_on?.['mount-root']?.condition,
      'service_completed_successfully',
      'starts once the mount root is a shared mount',
    );
    const m = c.services['mount-root']!;
    t.equal(m.image, 'ballast:local');
    t.equal(m.pid, 'host', 'mount-root sees the processes outside its container');
    t.equal(m.restart, 'no', 'a one-shot');
    t.same(m.healthcheck, { test: ['NONE'] }, 'no health check on a one-shot');
    t.ok(
      m.cap_add?.includes('SYS_ADMIN') && m.cap_add.includes('SYS_PTRACE'),
      'may enter and mount',
    );
    t.not(m.privileged, true, 'not privileged: that fails where dockerd lacks capabilities');
    t.same(m.entrypoint?.slice(0, 2), ['sh', '-ec']);
    t.match(m.entrypoint?.[2], /nsenter --target="\$\$p" --mount/, "enters the shim's namespace");
    t.equal(m.entrypoint?.at(-1), root, 'on the mount root the agent binds');
    t.equal(m.environment, undefined, 'no secrets');
  });

  t.test('monitoring is a profile with the repository config mounted', async (t) => {
    const p = c.services.prometheus!;
    const g = c.services.grafana!;
    t.same(p.profiles, ['monitoring']);
    t.same(g.profiles, ['monitoring']);
    t.ok(p.volumes?.includes(`${join(REPO_ROOT, 'cluster/prometheus')}:/etc/prometheus:ro`));
    t.ok(
      g.volumes?.includes(
        `${join(REPO_ROOT, 'cluster/grafana/provisioning')}:/etc/grafana/provisioning:ro`,
      ),
    );
  });

  t.test('the secrets are Docker secrets from files, with dev defaults', async (t) => {
    const devDir = join(REPO_ROOT, 'cluster', 'dev-secrets');
    t.same(c.secrets, {
      admin_token: { file: join(devDir, 'admin_token') },
      join_token: { file: join(devDir, 'join_token') },
      data_plane_secret: { file: join(devDir, 'data_plane_secret') },
    });
    const dev = (name: string): string =>
      readFileSync(join(devDir, name), 'utf8').replace(/\n$/, '');
    t.equal(dev('admin_token'), 'dev-only-token-change-me');
    t.equal(dev('join_token'), 'dev-only-join-token-change-me');
    t.equal(dev('data_plane_secret'), 'dev-only-data-plane-secret-change-me');
    const expected: Record<string, { secrets: string[]; env: Record<string, string> }> = {
      meta: {
        secrets: ['admin_token', 'join_token'],
        env: {
          BALLAST_TOKEN_FILE: '/run/secrets/admin_token',
          BALLAST_JOIN_TOKEN_FILE: '/run/secrets/join_token',
        },
      },
      node: {
        secrets: ['join_token', 'data_plane_secret'],
        env: {
          BALLAST_JOIN_TOKEN_FILE: '/run/secrets/join_token',
          BALLAST_DATA_PLANE_SECRET_FILE: '/run/secrets/data_plane_secret',
        },
      },
      // The agent joins like a node: the join token is its meta token, never the admin one.
      agent: {
        secrets: ['join_token', 'data_plane_secret'],
        env: {
          BALLAST_TOKEN_FILE: '/run/secrets/join_token',
          BALLAST_DATA_PLANE_SECRET_FILE: '/run/secrets/data_plane_secret',
        },
      },
    };
    t.equal(c.services['mount-root']!.secrets, undefined, 'mount-root gets no secrets');
    for (const [name, s] of ballast) {
      const kind = name.replace(/\d$/, '');
      const want = expected[kind]!;
      t.same((s.secrets ?? []).map((x) => x.source).sort(), [...want.secrets].sort(), name);
      t.match(s.environment, want.env, `${name} reads them from /run/secrets`);
      for (const key of Object.keys(s.environment ?? {})) {
        t.notOk(
          /^BALLAST_(TOKEN|JOIN_TOKEN|DATA_PLANE_SECRET|CLUSTER_SECRET)$/.test(key),
          `${name}: no secret value in the environment (${key})`,
        );
      }
    }
    const custom = await config({
      BALLAST_SECRETS_DIR: '/etc/ballast-secrets',
      BALLAST_MOUNT_ROOT: '/srv/ballast-mounts',
      BALLAST_PLUGIN_NAME: 'ballast-test',
    });
    t.same(custom.secrets, {
      admin_token: { file: '/etc/ballast-secrets/admin_token' },
      join_token: { file: '/etc/ballast-secrets/join_token' },
      data_plane_secret: { file: '/etc/ballast-secrets/data_plane_secret' },
    });
    const a = custom.services.agent!;
    t.ok(a.volumes?.includes('/srv/ballast-mounts:/srv/ballast-mounts:rshared'));
    t.equal(custom.services['mount-root']!.entrypoint?.at(-1), '/srv/ballast-mounts');
    t.equal(a.environment?.BALLAST_PLUGIN_SOCKET, '/run/docker/plugins/ballast-test.sock');
  });

  t.test('Prometheus scrapes every Ballast process on the port it listens on', async (t) => {
    const prom = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const scraped = new Set(
      prom.scrape_configs
        .filter((s) => s.job_name.startsWith('ballast-'))
        .flatMap((s) => s.static_configs.flatMap((sc) => sc.targets)),
    );
    const expected = new Set(
      ballast.map(([name, s]) => {
        const listen = s.environment?.BALLAST_OPS_LISTEN ?? s.environment?.BALLAST_LISTEN ?? '';
        return `${name}:${listen.split(':').pop()}`;
      }),
    );
    t.same([...scraped].sort(), [...expected].sort());
  });
});
