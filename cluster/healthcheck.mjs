// The image's HEALTHCHECK: asks the process in this container whether it is healthy, over its ops
// HTTP endpoint. The URL is BALLAST_HEALTHCHECK_URL when set; otherwise it is derived from the
// settings the process itself reads: BALLAST_OPS_LISTEN (storage nodes and agents: /readyz) or
// BALLAST_LISTEN (meta members, whose API serves /healthz). Exit 0 healthy, 1 not.
const TIMEOUT_MS = 4_000;

function localUrl(listen, path) {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen.trim());
  if (m === null) return undefined;
  const host = m[1] ?? m[2];
  // A wildcard listener is reached on loopback from inside the container.
  const target =
    host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : m[1] ? `[${host}]` : host;
  return `http://${target}:${m[3]}${path}`;
}

function healthUrl(env) {
  if (env.BALLAST_HEALTHCHECK_URL) return env.BALLAST_HEALTHCHECK_URL;
  if (env.BALLAST_OPS_LISTEN) return localUrl(env.BALLAST_OPS_LISTEN, '/readyz');
  if (env.BALLAST_LISTEN) return localUrl(env.BALLAST_LISTEN, '/healthz');
  return undefined;
}

const url = healthUrl(process.env);
if (url === undefined) {
  console.error(
    'healthcheck: set BALLAST_OPS_LISTEN (node, agent), BALLAST_LISTEN (meta) or BALLAST_HEALTHCHECK_URL',
  );
  process.exit(1);
}
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const body = await response.text();
  if (!response.ok) {
    console.error(`healthcheck: ${url} answered ${response.status}: ${body.slice(0, 200)}`);
    process.exit(1);
  }
  console.log(`healthcheck: ${url} ok`);
} catch (err) {
  console.error(`healthcheck: ${url}: ${err.message}`);
  process.exit(1);
}
