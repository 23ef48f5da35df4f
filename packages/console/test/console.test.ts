// The web console in a real headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core) against a cluster of real processes: one `ballastd meta` member (node timeout
// 3 s, so a dead node is marked down quickly) and three `ballastd node` processes heartbeating
// every 500 ms, on free loopback ports, started and always stopped by the testkit's Fleet.
// Every page is loaded and screenshotted (packages/console/test-artifacts/, gitignored); any
// console error, page error, failed request or HTTP error the test did not provoke fails it. It
// signs in (a wrong token first), creates a volume in the UI and finds it with `ballast volume
// ls`, shows meta's refusal of bad input in the dialog, resizes, cordons (with its
// confirmation), drains, deletes (the name typed to confirm), and SIGKILLs a node process and
// waits for the UI to show it down.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Fleet, ballastdProcess, freePort, waitFor } from '@ballast/testkit';

const CHROMIUM = process.env.BALLAST_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS =
  process.env.BALLAST_CONSOLE_ARTIFACTS ??
  fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const UI_BUILT = fileURLToPath(new URL('../ui/app.js', import.meta.url));

/** `ballast` of the workspace (not a declared dependency: meta, which it runs, depends on us). */
const ballastBin = join(
  dirname(createRequire(import.meta.url).resolve('ballast/package.json')),
  'bin',
  'ballast.js',
);

function ballast(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [ballastBin, ...args],
      { env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

interface Cluster {
  url: string;
  token: string;
  joinToken: string;
  fleet: Fleet;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

async function startCluster(tt: Parameters<typeof Fleet.forTest>[0]): Promise<Cluster> {
  const fleet = Fleet.forTest(tt, 'ballast-console-');
  const token = randomBytes(24).toString('hex');
  const joinToken = randomBytes(24).toString('hex');
  const url = `http://127.0.0.1:${await freePort()}`;
  await fleet
    .add(
      ballastdProcess({
        role: 'meta',
        id: 'm1',
        args: [
          ...['--id', 'm1', '--data-dir', fleet.path('m1')],
          ...['--listen', url.slice('http://'.length), '--peers', `m1=${url}`],
          ...['--node-timeout', '3s'],
        ],
        env: { BALLAST_TOKEN: token, BALLAST_JOIN_TOKEN: joinToken },
        logFile: fleet.path('m1.log'),
      }),
    )
    .start();
  const nodeEnv = {
    BALLAST_TOKEN: joinToken,
    BALLAST_JOIN_TOKEN: joinToken,
    BALLAST_CLUSTER_ID: 'console-test',
    BALLAST_DATA_PLANE_SECRET: randomBytes(32).toString('hex'),
  };
  const zones = ['zone-a', 'zone-b', 'zone-c'];
  await Promise.all(
    ['n1', 'n2', 'n3'].map(async (id, i) =>
      fleet
        .add(
          ballastdProcess({
            role: 'node',
            id,
            args: [
              ...['--id', id, '--data-dir', fleet.path(id)],
              ...['--listen', `127.0.0.1:${await freePort()}`, '--meta', url],
              ...['--labels', `zone=${zones[i]},host=${id}`, '--heartbeat-interval', '500ms'],
            ],
            env: nodeEnv,
            logFile: fleet.path(`${id}.log`),
          }),
        )
        .start(),
    ),
  );
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: r.status, body: (await r.json().catch(() => null)) as unknown };
  };
  await waitFor(
    'three storage nodes up',
    async () => {
      const r = await api('GET', '/v1/nodes');
      const items = (r.body as { items?: Array<{ state: string }> } | null)?.items ?? [];
      return r.status === 200 && items.filter((n) => n.state === 'up').length === 3;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  return { url, token, joinToken, fleet, api };
}

/** Everything that went wrong in the page, except what the test provoked on purpose. */
class PageProblems {
  readonly seen: string[] = [];
  #expected: RegExp[] = [];

  watch(page: Page): void {
    page.on('console', (m) => {
      if (m.type() === 'error') this.#add(`console error: ${m.text()}`);
    });
    page.on('pageerror', (err) => this.#add(`page error: ${err.message}`));
    page.on('requestfailed', (r) => {
      // A websocket the page closes itself, or a navigation that replaced a fetch, is no failure.
      const why = r.failure()?.errorText ?? '';
      if (why === 'net::ERR_ABORTED') return;
      this.#add(`request failed: ${r.method()} ${r.url()}: ${why}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) this.#add(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
    });
  }

  /** Runs `work` while problems matching `patterns` are expected (and returns them). */
  async expecting<T>(patterns: RegExp[], work: () => Promise<T>): Promise<T> {
    this.#expected = patterns;
    try {
      return await work();
    } finally {
      // Late console lines about the provoked failure arrive just after it.
      await new Promise((r) => setTimeout(r, 300));
      this.#expected = [];
    }
  }

  #add(text: string): void {
    if (this.#expected.some((p) => p.test(text))) return;
    this.seen.push(text);
  }
}

if (!existsSync(CHROMIUM)) {
  // Not a skip: CI installs it (.ci/run), and a console nobody tested is no console.
  t.fail(
    `Chromium is missing at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set ` +
      'BALLAST_CHROMIUM to a Chromium binary',
  );
} else if (!existsSync(UI_BUILT)) {
  t.fail(`the console is not built (${UI_BUILT} missing): run npm run build`);
} else {
  t.test('the web console in headless Chromium against a real cluster', async (t) => {
    const started = Date.now();
    mkdirSync(ARTIFACTS, { recursive: true });
    const cluster = await startCluster(t);
    const cliEnv = { BALLAST_ENDPOINT: cluster.url, BALLAST_TOKEN: cluster.token };
    const problems = new PageProblems();

    const browser: Browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Root in CI: Chromium's sandbox needs an unprivileged user.
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    });
    t.teardown(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    problems.watch(page);
    const shot = async (name: string) => {
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    };
    t.teardown(async () => {
      // The state the page was in when something failed.
      if (!t.passing()) await shot('failure').catch(() => undefined);
    });

    // Static files need no token; the data does.
    const noToken = await fetch(`${cluster.url}/v1/volumes`);
    t.equal(noToken.status, 401, '/v1 still needs the token');

    // Sign in: a wrong token is refused with meta's words, the admin token opens the console.
    await page.goto(`${cluster.url}/ui/`);
    await page.getByLabel('API token').waitFor();
    await shot('login');
    await problems.expecting([/401/, /Unauthorized/i], async () => {
      await page.getByLabel('API token').fill('not-the-token');
      await page.getByRole('button', { name: 'Open console' }).click();
      await page.getByRole('alert').filter({ hasText: 'wrong bearer token' }).waitFor();
    });
    t.pass('a wrong token is refused and the reason shown');
    await page.getByLabel('API token').fill(cluster.token);
    await page.getByRole('button', { name: 'Open console' }).click();

    // Overview: healthy, the live watch (token as a websocket subprotocol) connected.
    await page.locator('[data-health="healthy"]').waitFor();
    await page.locator('[data-watch="live"]').waitFor();
    t.pass('overview healthy, watch live');
    await shot('overview');

    // Nodes.
    await page.getByRole('link', { name: /Nodes/ }).click();
    for (const id of ['n1', 'n2', 'n3']) {
      await page.locator(`tr[data-node="${id}"] .node-state`).filter({ hasText: /^up$/ }).waitFor();
    }
    t.pass('three nodes up');
    await shot('nodes');

    // Create a volume through the dialog; `ballast volume ls` sees it.
    await page.getByRole('link', { name: /Volumes/ }).click();
    await page.getByRole('button', { name: 'Create volume' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('web-created');
    await dialog.getByLabel('Size').fill('1GiB');
    await dialog.getByLabel('Replicas').fill('2');
    await shot('volume-create-dialog');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('tr[data-volume="web-created"]').waitFor();
    const ls = await ballast(['volume', 'ls'], cliEnv);
    t.equal(ls.code, 0, ls.stderr);
    t.match(ls.stdout, /web-created/, '`ballast volume ls` lists the volume created in the UI');
    t.match(ls.stdout, /1 ?GiB/);

    // Bad input: meta's problem detail is shown in the dialog, nothing is created.
    await page.getByRole('button', { name: 'Create volume' }).click();
    await problems.expecting([/\b422\b/, /Unprocessable/i], async () => {
      await dialog.getByLabel('Name').fill('web-bad');
      await dialog.getByLabel('Size').fill('lots');
      await dialog.getByRole('button', { name: 'Create' }).click();
      await dialog.getByRole('alert').waitFor();
    });
    const refusal = await dialog.getByRole('alert').innerText();
    t.match(
      refusal,
      /cannot parse "lots" as a size.*\(UNPROCESSABLE\)/,
      `meta's refusal shown: ${refusal}`,
    );
    await shot('volume-create-refused');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    t.equal((await cluster.api('GET', '/v1/volumes/web-bad')).status, 404, 'nothing created');

    // Resize.
    const row = page.locator('tr[data-volume="web-created"]');
    await row.getByRole('button', { name: 'Resize' }).click();
    await dialog.getByLabel('New size').fill('2GiB');
    await dialog.getByRole('button', { name: 'Resize' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.getByText('2 GiB', { exact: true }).waitFor();
    const resized = (await cluster.api('GET', '/v1/volumes/web-created')).body as {
      sizeBytes: number;
      replicas: Array<{ nodeId: string }>;
    };
    t.equal(resized.sizeBytes, 2 * 1024 ** 3, 'resized through the UI');
    await shot('volumes');

    // Delete, confirmed by typing the name (the button is disabled before).
    t.equal(
      (await cluster.api('POST', '/v1/volumes', { name: 'doomed', size: '1GiB' })).status,
      201,
    );
    const doomed = page.locator('tr[data-volume="doomed"]');
    await doomed.getByRole('button', { name: 'Delete' }).click();
    const del = dialog.getByRole('button', { name: 'Delete' });
    t.ok(await del.isDisabled(), 'delete is disabled until the name is typed');
    await dialog.getByLabel('Volume name').fill('doomed');
    await shot('volume-delete-dialog');
    await del.click();
    await doomed.waitFor({ state: 'detached' });
    t.equal((await cluster.api('GET', '/v1/volumes/doomed')).status, 404, 'deleted');

    // Cordon a node that holds none of the volume's replicas, through its confirmation.
    const holders = resized.replicas.map((r) => r.nodeId);
    const spare = ['n1', 'n2', 'n3'].find((id) => !holders.includes(id))!;
    // A volume attached to a Docker host (what an agent does on `docker run -v`, sent here through
    // the API as the agent would): the console shows where it is attached and the host alive.
    for (const [method, path, body] of [
      [
        'POST',
        '/v1/volumes',
        { name: 'attached', size: '1GiB', replicas: 1, nodeSelector: { host: spare } },
      ],
      ['POST', '/v1/hosts/docker-1/heartbeat', {}],
      ['POST', '/v1/volumes/attached/attach', { host: 'docker-1', mountPath: '/mnt/attached' }],
    ] as const) {
      const r = await cluster.api(method, path, body);
      t.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const attachedRow = page.locator('tr[data-volume="attached"]');
    await attachedRow.getByText('/mnt/attached').waitFor();
    await attachedRow.locator('.state-alive').waitFor();
    await shot('volumes-attached');

    await page.getByRole('link', { name: /Nodes/ }).click();
    await page.locator(`tr[data-node="${spare}"]`).getByRole('button', { name: 'Cordon' }).click();
    await dialog.getByText(`Cordon node ${spare}?`).waitFor();
    await shot('node-cordon-dialog');
    await dialog.getByRole('button', { name: 'Cordon' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page
      .locator(`tr[data-node="${spare}"] .node-state`)
      .filter({ hasText: 'cordoned' })
      .waitFor();
    const cordoned = (await cluster.api('GET', `/v1/nodes/${spare}`)).body as {
      scheduling: string;
    };
    t.equal(cordoned.scheduling, 'cordoned', 'the cordon reached the map');
    // Uncordon it again, so that the drain below has somewhere to move the replica.
    await page
      .locator(`tr[data-node="${spare}"]`)
      .getByRole('button', { name: 'Uncordon' })
      .click();
    await dialog.getByRole('button', { name: 'Uncordon' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page
      .locator(`tr[data-node="${spare}"] .node-state`)
      .filter({ hasText: /^up$/ })
      .waitFor();

    // Drain a node holding a replica: the drain shows on the tasks page.
    const drained = holders[0]!;
    await page.locator(`tr[data-node="${drained}"]`).getByRole('button', { name: 'Drain' }).click();
    await dialog.getByText(`Drain node ${drained}?`).waitFor();
    await dialog.getByRole('button', { name: 'Drain' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page
      .locator(`tr[data-node="${drained}"] .node-state`)
      .filter({ hasText: 'draining' })
      .waitFor();
    await page.getByRole('link', { name: /Tasks/ }).click();
    await page.locator('tr[data-task]').first().waitFor();
    t.pass('the drain brought tasks, shown on the tasks page');
    await shot('tasks');

    // SIGKILL a node process: the UI shows it down within seconds (node timeout 3 s).
    const victim = ['n1', 'n2', 'n3'].find((id) => id !== drained && id !== spare) ?? spare;
    await page.getByRole('link', { name: /Nodes/ }).click();
    const killedAt = Date.now();
    cluster.fleet.get(victim).signal('SIGKILL');
    await page
      .locator(`tr[data-node="${victim}"] .node-state`)
      .filter({ hasText: /^down$/ })
      .waitFor({ timeout: 30_000 });
    const seenDownMs = Date.now() - killedAt;
    t.ok(seenDownMs < 15_000, `node ${victim} shown down ${seenDownMs} ms after SIGKILL`);
    await shot('nodes-down');
    await page.getByRole('link', { name: /Overview/ }).click();
    await page.locator('[data-health="degraded"], [data-health="faulted"]').waitFor();
    await page.locator('li[data-host="docker-1"] .state-alive').waitFor();
    await page
      .locator('[data-health] li')
      .filter({ hasText: new RegExp(`^Node ${victim} is down`) })
      .waitFor();
    await shot('overview-degraded');

    // Why the volume is degraded, in meta's explanation.
    await page.getByRole('link', { name: /Volumes/ }).click();
    const degraded = page.locator('tr[data-volume="web-created"]');
    await degraded
      .locator('.volume-state')
      .filter({ hasText: /degraded|faulted/ })
      .waitFor();
    await degraded.getByRole('button', { name: 'Explain' }).click();
    await dialog.getByRole('heading', { name: 'What happened' }).waitFor();
    t.match(await dialog.innerText(), new RegExp(victim), 'the explanation names the dead node');
    await shot('volume-explain');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });

    // Events: the watch delivered map changes, the node's death among them.
    await page.getByRole('link', { name: /Events/ }).click();
    await page
      .getByRole('table', { name: 'Events' })
      .getByText(`node ${victim}: down`)
      .first()
      .waitFor();
    await shot('events');

    // Signed in with the join token, the console shows the cluster but meta refuses a cordon:
    // its 403 is shown in the dialog.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').fill(cluster.joinToken);
    await page.getByRole('button', { name: 'Open console' }).click();
    await page.getByRole('link', { name: /Nodes/ }).click();
    await problems.expecting([/\b403\b/, /Forbidden/i], async () => {
      await page
        .locator(`tr[data-node="${spare}"]`)
        .getByRole('button', { name: 'Cordon' })
        .click();
      await dialog.getByRole('button', { name: 'Cordon' }).click();
      await dialog.getByRole('alert').waitFor();
    });
    t.match(
      await dialog.getByRole('alert').innerText(),
      /join token may not call.*\(FORBIDDEN\)/,
      "the join token's refusal is shown",
    );
    await shot('node-cordon-forbidden');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    t.same(problems.seen, [], 'no console error, failed request or unexpected HTTP error');
    t.comment(`console e2e took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
}
