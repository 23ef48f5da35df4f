// The web console's static files at /ui/: served without a token (they hold no cluster data)
// with a strict content security policy, while /v1 still needs the token; a clear 503 page when
// the build is absent; path tricks do not leave the build directory; and the watch accepts the
// token as a websocket subprotocol (what a browser can send), answering with the watch protocol
// only, never the token.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { WebSocket } from 'ws';
import { BEARER_PROTOCOL_PREFIX, WATCH_PROTOCOL, authorizationOf } from '../src/index.js';
import { AUTH, TOKEN, isProblem, startApi } from './helpers/api-harness.js';

function fakeBuild(t: { teardown(fn: () => void): void }): string {
  const root = mkdtempSync(join(tmpdir(), 'ballast-console-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'ui');
  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Ballast console</title>');
  writeFileSync(join(dir, 'app.js'), 'console.log("app")');
  writeFileSync(join(dir, 'app.css'), 'body{}');
  writeFileSync(join(dir, '.secret'), 'dot files are not served');
  writeFileSync(join(root, 'outside.txt'), 'not part of the build');
  return dir;
}

t.test('a built console is served at /ui/ without a token; /v1 still needs one', async (t) => {
  const api = await startApi(t, { consoleDir: fakeBuild(t) });

  const redirect = await api.app.inject({ method: 'GET', url: '/ui' });
  t.equal(redirect.statusCode, 302);
  t.equal(redirect.headers.location, '/ui/');

  const index = await api.app.inject({ method: 'GET', url: '/ui/' });
  t.equal(index.statusCode, 200);
  t.match(index.headers['content-type'], /text\/html/);
  t.match(index.body, /Ballast console/);
  const csp = String(index.headers['content-security-policy']);
  t.match(csp, /default-src 'self'/);
  t.match(csp, /script-src 'self'/);
  t.match(csp, /frame-ancestors 'none'/);
  t.notMatch(csp, /unsafe-inline|unsafe-eval/, 'no inline script allowed');
  t.equal(index.headers['x-content-type-options'], 'nosniff');

  const js = await api.app.inject({ method: 'GET', url: '/ui/app.js' });
  t.equal(js.statusCode, 200);
  t.match(js.headers['content-type'], /javascript/);
  const css = await api.app.inject({ method: 'GET', url: '/ui/app.css' });
  t.equal(css.statusCode, 200);
  t.match(css.headers['content-type'], /text\/css/);

  for (const url of [
    '/ui/missing.js',
    '/ui/.secret',
    '/ui/../outside.txt',
    '/ui/%2e%2e/outside.txt',
  ]) {
    const res = await api.app.inject({ method: 'GET', url });
    t.not(res.statusCode, 200, `${url} is not served`);
    t.notMatch(res.body, /not part of the build|dot files/, `${url} does not leak`);
  }

  // The data still needs the token, with the console or without.
  const noToken = await api.app.inject({ method: 'GET', url: '/v1/volumes' });
  t.equal(isProblem(noToken, 401, 'UNAUTHORIZED'), null);
  const withToken = await api.app.inject({ method: 'GET', url: '/v1/volumes', headers: AUTH });
  t.equal(withToken.statusCode, 200);
  // A token does not change what /ui/ is: static files only.
  const indexWithToken = await api.app.inject({ method: 'GET', url: '/ui/', headers: AUTH });
  t.equal(indexWithToken.statusCode, 200);

  // Static routes stay out of the API's OpenAPI document.
  const openapi = (await api.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
    paths: Record<string, unknown>;
  };
  t.same(
    Object.keys(openapi.paths).filter((p) => p.startsWith('/ui')),
    [],
    'no /ui route in the API docs',
  );
});

t.test('without a build, /ui/ says so clearly and the API works', async (t) => {
  const missing = join(tmpdir(), `ballast-no-console-${process.pid}`);
  const api = await startApi(t, { consoleDir: missing });
  for (const url of ['/ui/', '/ui/app.js', '/ui/nodes']) {
    const res = await api.app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 503, `${url}: 503`);
    t.match(res.headers['content-type'], /text\/html/);
    t.match(res.body, /web console is not built/);
    t.match(res.body, /npm run build/);
    t.match(res.body, /\/v1/);
  }
  const v1 = await api.app.inject({ method: 'GET', url: '/v1/cluster', headers: AUTH });
  t.equal(v1.statusCode, 200, 'the API is unaffected');
  const noToken = await api.app.inject({ method: 'GET', url: '/v1/cluster' });
  t.equal(noToken.statusCode, 401);
});

t.test('the watch takes the token as a websocket subprotocol', async (t) => {
  const api = await startApi(t, { consoleDir: fakeBuild(t) });
  const encoded = Buffer.from(TOKEN).toString('base64url');
  // A real socket, as a browser opens it: the token as the second subprotocol.
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = api.app.server.address() as AddressInfo;
  const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/watch`, [
    WATCH_PROTOCOL,
    `${BEARER_PROTOCOL_PREFIX}${encoded}`,
  ]);
  const first = await new Promise<string>((resolve, reject) => {
    socket.once('message', (data: Buffer) => resolve(data.toString()));
    socket.once('error', reject);
  });
  t.equal(socket.protocol, WATCH_PROTOCOL, 'answered with the watch protocol, not the token');
  t.match(JSON.parse(first), { type: 'synced' }, 'the watch runs');
  socket.terminate();

  for (const bad of [
    `${WATCH_PROTOCOL}, ${BEARER_PROTOCOL_PREFIX}${Buffer.from('wrong').toString('base64url')}`,
    `${WATCH_PROTOCOL}, ${BEARER_PROTOCOL_PREFIX}not*base64`,
    WATCH_PROTOCOL,
  ]) {
    await t.rejects(
      api.app.injectWS('/v1/watch', { headers: { 'sec-websocket-protocol': bad } }),
      /Unexpected server response: 401/,
      `refused: ${bad.slice(0, 40)}`,
    );
  }

  // Only on a websocket upgrade, and an Authorization header wins.
  t.equal(
    authorizationOf({ 'sec-websocket-protocol': `${BEARER_PROTOCOL_PREFIX}${encoded}` }),
    undefined,
    'not on a plain request',
  );
  t.equal(
    authorizationOf({
      upgrade: 'websocket',
      'sec-websocket-protocol': `${WATCH_PROTOCOL}, ${BEARER_PROTOCOL_PREFIX}${encoded}`,
    }),
    `Bearer ${TOKEN}`,
  );
  t.equal(
    authorizationOf({
      authorization: 'Bearer other',
      upgrade: 'websocket',
      'sec-websocket-protocol': `${BEARER_PROTOCOL_PREFIX}${encoded}`,
    }),
    'Bearer other',
  );
  // A subprotocol token does not reach ordinary routes.
  const res = await api.app.inject({
    method: 'GET',
    url: '/v1/volumes',
    headers: { 'sec-websocket-protocol': `${BEARER_PROTOCOL_PREFIX}${encoded}` },
  });
  t.equal(res.statusCode, 401);
});
