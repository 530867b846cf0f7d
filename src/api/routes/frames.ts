import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { ApiContext } from '../context.ts';
import { problemResponses } from '../problem.ts';
import { bearerToken } from '../../auth/tokens.ts';

/** Raw bodies accepted by ingestion; the real type is then checked by magic bytes. */
export const FRAME_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'];

const frameQuery = Type.Object({ capturedAt: Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601 capture time (default: now)' })) });
const frameHeaders = Type.Object({ 'x-captured-at': Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601 capture time' })) });

export async function frameRoutes(app: FastifyInstance, ctx: ApiContext) {
  const bodyLimit = ctx.config.ingest.maxFrameBytes;
  // Encapsulated in this plugin: only /frames takes binary bodies.
  app.addContentTypeParser(FRAME_CONTENT_TYPES, { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

  app.post<{ Querystring: Static<typeof frameQuery>; Headers: Static<typeof frameHeaders> }>(
    '/api/v1/frames',
    {
      bodyLimit,
      schema: {
        tags: ['ingestion'],
        summary: 'Submit one camera frame (raw JPEG / PNG / WebP body)',
        description:
          'Authorization: Bearer <camera API key>. Answers 202 once the frame is stored and its analysis job is durably in the queue. ' +
          '503 + Retry-After when the queue is unavailable or this camera has too many frames waiting.',
        security: [{ cameraKey: [] }],
        consumes: FRAME_CONTENT_TYPES,
        // Per-media-type body schemas: nothing to validate in raw bytes (magic bytes are checked in
        // the handler), but this documents the binary body in OpenAPI.
        body: {
          content: Object.fromEntries(
            FRAME_CONTENT_TYPES.map((t) => [t, { schema: { description: 'raw image bytes (format: binary)' } }]),
          ),
        },
        querystring: frameQuery,
        headers: frameHeaders,
        response: {
          202: { type: 'object', required: ['frameId'], properties: { frameId: { type: 'string', format: 'uuid' } } },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const result = await ctx.ingest({
        apiKey: bearerToken(request.headers.authorization),
        body: Buffer.isBuffer(body) ? body : Buffer.alloc(0),
        capturedAt: request.headers['x-captured-at'] ?? request.query.capturedAt,
      });
      return reply.code(202).send({ frameId: result.frameId });
    },
  );
}
