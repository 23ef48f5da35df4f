import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Where the web console is served on the API's port. */
export const CONSOLE_PREFIX = '/ui/';

/**
 * The web console's built files (@ballast/console's dist/ui), or undefined when that package is
 * not installed. Whether it was built is checked when the API starts (see `consoleRoutes`).
 */
export function defaultConsoleDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@ballast/console/package.json');
    return join(dirname(pkg), 'dist', 'ui');
  } catch {
    return undefined;
  }
}

/** Is `dir` a built console (its index.html and app bundle are there)? */
export function isConsoleBuilt(dir: string | undefined): dir is string {
  return (
    dir !== undefined && existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'app.js'))
  );
}

/**
 * Headers of every console answer. The page loads only its own files (no CDN, no inline script)
 * and talks only to this member (fetch to /v1, the watch websocket); it may not be framed.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function notBuiltPage(dir: string | undefined): string {
  const where =
    dir === undefined
      ? 'the @ballast/console package is not installed next to this meta member'
      : `its files are missing from ${dir}`;
  const escaped = where.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ballast console not built</title></head>
<body style="font-family: sans-serif; max-width: 44rem; margin: 3rem auto">
<h1>The Ballast web console is not built</h1>
<p>This meta member serves the console from static files, and ${escaped}.</p>
<p>Build it with <code>npm run build</code> at the top of the repository (it builds
<code>packages/console</code> into <code>packages/console/dist/ui</code>), then reload this page.
Nothing else is affected: the REST API under <code>/v1</code> and its documentation at
<a href="/docs">/docs</a> work as usual.</p>
</body></html>
`;
}

/**
 * The web console at /ui/: static files (HTML, JS, CSS) without a token, since they hold no
 * cluster data; the page asks the user for a token and sends it with every /v1 call and the
 * watch. Without a build, every /ui/ path answers 503 with a page that says how to build it.
 * The routes are public through the `onRoute` hook in buildApi (like /docs).
 */
export async function consoleRoutes(app: FastifyInstance, dir: string | undefined): Promise<void> {
  app.get('/ui', { schema: { hide: true } }, async (_request, reply) =>
    reply.redirect(CONSOLE_PREFIX, 302),
  );
  if (!isConsoleBuilt(dir)) {
    const page = notBuiltPage(dir);
    const answer = async (_request: unknown, reply: FastifyReply): Promise<string> => {
      reply.code(503).headers(SECURITY_HEADERS).type('text/html; charset=utf-8');
      reply.header('cache-control', 'no-store');
      return page;
    };
    app.get(CONSOLE_PREFIX, { schema: { hide: true } }, answer);
    app.get(`${CONSOLE_PREFIX}*`, { schema: { hide: true } }, answer);
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: CONSOLE_PREFIX,
    decorateReply: false,
    index: ['index.html'],
    serveDotFiles: false,
    // No dot file or directory, whatever `send` would do with it.
    allowedPath: (pathname) => !pathname.split('/').some((part) => part.startsWith('.')),
    // The bundle's name does not change between builds: revalidate every time.
    cacheControl: false,
    setHeaders: (res) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      res.setHeader('cache-control', 'no-cache');
    },
  });
}
