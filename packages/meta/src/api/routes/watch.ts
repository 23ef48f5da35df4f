import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import { isBallastError, type ErrorCode } from '@ballast/common';
import type { WatchMessage } from '../../store/index.js';
import type { ApiContext } from '../context.js';
import { problem, sendProblem, type Problem } from '../problem.js';
import { WatchQuery, errorResponses } from '../schemas.js';

export interface WatchOptions {
  /** A watcher whose socket holds more unsent bytes than this is too slow and is closed. */
  maxBufferedBytes: number;
  pingIntervalMs: number;
}

/**
 * Close codes of the watch socket: 4000 + the HTTP status the problem would have had, so a client
 * can tell "list again" (4410) from "bad request" (4400) from "try another member" (4503).
 */
export const WATCH_CLOSE = {
  badRequest: 4400,
  compacted: 4410,
  tooSlow: 4429,
  unavailable: 4503,
  reset: 4409,
} as const;

function sendJson(
  socket: WebSocket,
  message: WatchMessage | { type: 'error'; problem: Problem },
): void {
  socket.send(JSON.stringify(message));
}

function closeWithProblem(socket: WebSocket, closeCode: number, body: Problem): void {
  if (socket.readyState !== socket.OPEN) return;
  sendJson(socket, { type: 'error', problem: body });
  socket.close(closeCode, body.code);
}

export const watchRoutes: FastifyPluginAsync<ApiContext & { watch: WatchOptions }> = async (
  app,
  ctx,
) => {
  const { store } = ctx;

  app.route<{ Querystring: { fromRevision?: number } }>({
    method: 'GET',
    url: '/v1/watch',
    schema: {
      tags: ['watch'],
      summary: 'Stream of map changes over a websocket, from a revision on',
      description:
        'Upgrade to a websocket. Messages (JSON): {type:"event", event} for each change in revision order, ' +
        '{type:"synced", revision} once the replay caught up, {type:"reset"} when history was lost (list again), ' +
        '{type:"error", problem} before a close. A fromRevision older than the kept history gets an error with ' +
        'code CONFLICT and details.reason "compacted" and close code 4410: list again (lists return their revision) ' +
        'and watch from that revision + 1.',
      querystring: WatchQuery,
      response: { ...errorResponses },
    },
    handler: async (request, reply) =>
      sendProblem(
        reply,
        problem('INVALID_ARGUMENT', 'GET /v1/watch needs a websocket upgrade', {
          status: 426,
          instance: '/v1/watch',
        }),
      ).header('upgrade', 'websocket'),
    wsHandler: async (socket, request) => {
      // Filled in once subscribed; the close handler may run before that.
      const live: { cancel?: () => void; ping?: NodeJS.Timeout } = {};
      socket.on('close', () => {
        live.cancel?.();
        if (live.ping) clearInterval(live.ping);
      });
      // Clients have nothing to say on this socket; anything they send is ignored (and bounded
      // by the server's maxPayload).
      socket.on('message', () => undefined);

      try {
        await store.linearizableRead();
      } catch (err) {
        const code: ErrorCode = isBallastError(err) ? err.code : 'UNAVAILABLE';
        closeWithProblem(socket, WATCH_CLOSE.unavailable, problem(code, (err as Error).message));
        return;
      }
      if (socket.readyState !== socket.OPEN) return;

      const listener = (message: WatchMessage) => {
        if (socket.readyState !== socket.OPEN) {
          // Gone without a close event reaching us yet: stop feeding it.
          live.cancel?.();
          return;
        }
        if (socket.bufferedAmount > ctx.watch.maxBufferedBytes) {
          live.cancel?.();
          closeWithProblem(
            socket,
            WATCH_CLOSE.tooSlow,
            problem(
              'RATE_LIMITED',
              'this watcher fell too far behind; list again and watch from the revision the list returns + 1',
            ),
          );
          return;
        }
        sendJson(socket, message);
        if (message.type === 'reset') socket.close(WATCH_CLOSE.reset, 'reset');
      };
      const from = request.query.fromRevision ?? store.map.revision + 1;
      let subscription;
      try {
        subscription = store.watch(from, listener);
      } catch (err) {
        const code: ErrorCode = isBallastError(err) ? err.code : 'UNAVAILABLE';
        closeWithProblem(socket, WATCH_CLOSE.unavailable, problem(code, (err as Error).message));
        return;
      }
      if (!subscription.ok) {
        const compacted = subscription.reason === 'compacted';
        closeWithProblem(
          socket,
          compacted ? WATCH_CLOSE.compacted : WATCH_CLOSE.badRequest,
          problem(compacted ? 'CONFLICT' : 'INVALID_ARGUMENT', subscription.message, {
            details: {
              reason: subscription.reason,
              oldestRevision: subscription.oldestRevision,
              currentRevision: subscription.currentRevision,
            },
          }),
        );
        return;
      }
      live.cancel = subscription.cancel;
      if (socket.readyState !== socket.OPEN) {
        live.cancel();
        return;
      }
      live.ping = setInterval(() => socket.ping(), ctx.watch.pingIntervalMs);
      live.ping.unref();
    },
  });
};
