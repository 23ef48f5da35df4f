// The console's only ways to the cluster: the REST API under /v1 (with the token the user gave,
// kept in sessionStorage for this tab) and the watch stream (GET /v1/watch over a websocket).
import type { ListPage, Problem, WatchMessage } from './types.js';

const TOKEN_KEY = 'ballast.console.token';

/** The subprotocols of the watch socket: the one meta answers with, and the token's carrier. */
export const WATCH_PROTOCOL = 'ballast.watch.v1';
export const BEARER_PROTOCOL_PREFIX = 'ballast.bearer.';

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** A refused or failed call, with meta's problem details when it sent them. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem | undefined;

  constructor(status: number, code: string, message: string, problem?: Problem) {
    super(message);
    this.status = status;
    this.code = code;
    this.problem = problem;
  }
}

function isProblem(body: unknown): body is Problem {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as Problem).detail === 'string' &&
    typeof (body as Problem).code === 'string'
  );
}

/** One call to the API; resolves to the JSON body, or rejects with an ApiError that says why. */
export async function api<T>(
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? null : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError(0, 'UNAVAILABLE', `meta did not answer: ${(err as Error).message}`);
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: said below.
  }
  if (!response.ok) {
    if (isProblem(parsed)) {
      throw new ApiError(response.status, parsed.code, parsed.detail, parsed);
    }
    throw new ApiError(
      response.status,
      'HTTP_' + response.status,
      `${method} ${path}: HTTP ${response.status} ${text.slice(0, 200)}`,
    );
  }
  return parsed as T;
}

/** Every item of a list route (following nextCursor), and the revision of its first page. */
export async function listAll<T>(
  token: string,
  path: string,
): Promise<{ items: T[]; revision: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let revision = 0;
  for (let page = 0; page < 1000; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const url: string =
      cursor === null
        ? `${path}${sep}limit=500`
        : `${path}${sep}limit=500&cursor=${encodeURIComponent(cursor)}`;
    const body: ListPage<T> = await api<ListPage<T>>(token, 'GET', url);
    if (page === 0) revision = body.revision;
    items.push(...body.items);
    cursor = body.nextCursor;
    if (cursor === null) break;
  }
  return { items, revision };
}

function base64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export interface WatchHandlers {
  onMessage(message: WatchMessage): void;
  /** The socket closed (code and reason as the server gave them; 1006 when it just broke). */
  onClose(code: number, reason: string): void;
  onOpen(): void;
}

/**
 * Opens the watch from `fromRevision`. A browser cannot set an Authorization header on a
 * websocket, so the token travels as a subprotocol (`ballast.bearer.<base64url>`), next to the
 * protocol meta answers with. Returns a function that closes it.
 */
export function openWatch(
  token: string,
  fromRevision: number,
  handlers: WatchHandlers,
): () => void {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.host}/v1/watch?fromRevision=${fromRevision}`;
  const socket = new WebSocket(url, [WATCH_PROTOCOL, BEARER_PROTOCOL_PREFIX + base64url(token)]);
  let closedByUs = false;
  socket.onopen = () => handlers.onOpen();
  socket.onmessage = (ev: MessageEvent) => {
    if (typeof ev.data !== 'string') return;
    try {
      handlers.onMessage(JSON.parse(ev.data) as WatchMessage);
    } catch {
      // A message that is not JSON: ignore it, the next list corrects the view.
    }
  };
  socket.onclose = (ev: CloseEvent) => {
    if (!closedByUs) handlers.onClose(ev.code, ev.reason);
  };
  return () => {
    closedByUs = true;
    socket.close(1000, 'console closed the watch');
  };
}
