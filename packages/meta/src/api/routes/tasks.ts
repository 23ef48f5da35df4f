import type { FastifyPluginAsync } from 'fastify';
import { BallastError } from '@ballast/common';
import type { TaskRecord, TaskState } from '../../map/index.js';
import { commit, type ApiContext } from '../context.js';
import { paginate } from '../pagination.js';
import {
  NoQuery,
  TaskIdParams,
  TaskList,
  TaskListQuery,
  TaskFinishBody,
  TaskProgressBody,
  TaskView,
  errorResponses,
} from '../schemas.js';

/** A task as the API shows it: the record plus its average rate while it ran. */
export function taskView(task: TaskRecord): TaskRecord & { bytesPerSecond?: number } {
  if (task.startedAt === undefined) return task;
  const end = task.finishedAt ?? task.updatedAt;
  const elapsedMs = end - task.startedAt;
  if (elapsedMs <= 0) return task;
  return { ...task, bytesPerSecond: Math.round((task.doneBytes * 1000) / elapsedMs) };
}

export const taskRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  const { store } = ctx;

  app.get<{ Querystring: { limit?: number; cursor?: string; state?: TaskState; volume?: string } }>(
    '/v1/tasks',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Rebuild, move, delete and drain jobs with their progress, sorted by id',
        querystring: TaskListQuery,
        response: { 200: TaskList, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      const { limit, cursor, state, volume } = request.query;
      const page = paginate(store.map.listTasks(), (t) => t.id, {
        limit,
        cursor,
        filter:
          state === undefined && volume === undefined
            ? undefined
            : (t) =>
                (state === undefined || t.state === state) &&
                (volume === undefined || t.volumeId === volume),
      });
      return { ...page, items: page.items.map(taskView), revision: store.map.revision };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/tasks/:id',
    {
      schema: {
        querystring: NoQuery,
        tags: ['tasks'],
        summary: 'One task',
        params: TaskIdParams,
        response: { 200: TaskView, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      const task = store.map.getTask(request.params.id);
      if (!task) throw new BallastError('NOT_FOUND', `task ${request.params.id} does not exist`);
      return taskView(task);
    },
  );

  app.post<{ Params: { id: string }; Body: TaskProgressBody }>(
    '/v1/tasks/:id/progress',
    {
      schema: {
        querystring: NoQuery,
        tags: ['tasks'],
        summary: 'Report progress of a task (a node copying a rebuild): it becomes running',
        params: TaskIdParams,
        body: TaskProgressBody,
        response: { 200: TaskView, ...errorResponses },
      },
    },
    async (request) => {
      const { doneBytes, totalBytes, message } = request.body;
      const task = await commit(ctx, {
        type: 'updateTask',
        taskId: request.params.id,
        doneBytes,
        ...(totalBytes !== undefined ? { totalBytes } : {}),
        ...(message !== undefined ? { message } : {}),
      });
      return taskView(task as TaskRecord);
    },
  );

  app.post<{ Params: { id: string }; Body: TaskFinishBody }>(
    '/v1/tasks/:id/finish',
    {
      schema: {
        querystring: NoQuery,
        tags: ['tasks'],
        summary: 'Finish a task; final (the same outcome again is a no-op, another one is 409)',
        params: TaskIdParams,
        body: TaskFinishBody,
        response: { 200: TaskView, ...errorResponses },
      },
    },
    async (request) => {
      const { outcome, message } = request.body;
      const task = await commit(ctx, {
        type: 'finishTask',
        taskId: request.params.id,
        outcome,
        ...(message !== undefined ? { message } : {}),
      });
      return taskView(task as TaskRecord);
    },
  );
};
