import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { databaseFailureReason, isDatabaseUnavailable } from '../../db/unavailable.ts';
import type { ApiContext } from '../context.ts';
import { problemResponses, rawResponse } from '../problem.ts';

async function timed<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * /readyz is unauthenticated: the database's state is one word there ("unreachable", "failed"), the
 * driver's words (host names, SQL, Prisma's call-site dump) go to the log only.
 */
function describeDatabaseFailure(log: FastifyBaseLogger) {
  return (err: unknown): string => {
    log.warn({ reason: databaseFailureReason(err) }, 'readiness: database check failed');
    if (isDatabaseUnavailable(err)) return 'unreachable';
    return err instanceof Error && err.message.startsWith('timed out') ? 'timed out' : 'failed';
  };
}

/** The same for Redis: whether the connection is down or only not answering; the driver's text ("Stream isn't writeable…") in the log. */
function describeRedisFailure(log: FastifyBaseLogger, redis: { status: string }) {
  return (err: unknown): string => {
    log.warn({ err: (err as Error).message, connection: redis.status }, 'readiness: Redis ping failed');
    return `failed: ${redis.status !== 'ready' ? 'unreachable' : 'not answering'}`;
  };
}

export async function opsRoutes(app: FastifyInstance, ctx: ApiContext) {
  let wasReady = false;
  app.get(
    '/healthz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['operations'],
        summary: 'Process is up',
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['operations'],
        summary: 'Database, Redis and (in `maskwatch start`) workers are usable',
        response: {
          200: { $ref: 'Readiness#' },
          503: { $ref: 'Readiness#' },
        },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, string> = {};
      const run = async (name: string, fn: () => Promise<unknown> | unknown, describe?: (err: unknown) => string) => {
        try {
          await timed(Promise.resolve(fn()), 2000);
          checks[name] = 'ok';
        } catch (err) {
          checks[name] = describe ? describe(err) : `failed: ${(err as Error).message}`;
        }
      };
      await Promise.all([
        run('database', () => ctx.pingDatabase(), describeDatabaseFailure(reply.log)),
        run('redis', () => ctx.producer.ping(), describeRedisFailure(reply.log, ctx.producer.redis)),
        ...ctx.readinessChecks.map((c) => run(c.name, () => c.check())),
      ]);
      const ready = Object.values(checks).every((v) => v === 'ok');
      // Not ready is an answer, not a failed request. Before the first ready answer the system is starting (workers
      // loading models), which a readiness probe polling meanwhile should not turn into warnings; after it, one
      // warning naming what failed. (Redis or the database down warn above either way.)
      if (ready) wasReady = true;
      else if (wasReady) reply.log.warn({ checks: Object.fromEntries(Object.entries(checks).filter(([, v]) => v !== 'ok')) }, 'not ready');
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
    },
  );

  app.get(
    '/metrics',
    { logLevel: 'warn', schema: { tags: ['operations'], summary: 'Prometheus metrics', response: { 200: rawResponse('text/plain', 'Prometheus text exposition format'), ...problemResponses } } },
    async (_request, reply) => {
      const body = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(body);
    },
  );
}

export const readinessSchema = {
  $id: 'Readiness',
  type: 'object',
  required: ['status', 'checks'],
  properties: { status: { type: 'string' }, checks: { type: 'object', additionalProperties: { type: 'string' } } },
} as const;
