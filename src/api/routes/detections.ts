import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { problemResponses } from '../problem.ts';
import { bearerToken } from '../../auth/tokens.ts';
import { DetectionsAcceptedSchema, DetectionsRequestSchema, MAX_DETECTED_FACES, type DetectionsRequest } from '../../contracts/api.ts';

export const DETECTIONS_CONTENT_TYPES = ['application/json'];

/** Edge analysis: an agent that ran the vision engine on site posts what it found (the frame stays on site). */
export async function detectionRoutes(app: FastifyInstance, ctx: ApiContext) {
  app.post<{ Body: DetectionsRequest }>(
    '/api/v1/detections',
    {
      // Never more than a frame: crops of the violating faces only (each ≤ 256 KiB), checked before the body is read.
      bodyLimit: ctx.config.ingest.maxFrameBytes,
      schema: {
        tags: ['ingestion'],
        summary: "Submit an edge agent's detections for one frame (`maskwatch agent --analyze`)",
        description:
          'Authorization: Bearer <camera API key>, exactly like POST /api/v1/frames (same per-camera rate limit, backlog and 503 + Retry-After). ' +
          `At most ${MAX_DETECTED_FACES} faces (\`maskwatch agent --analyze\` sends the ${MAX_DETECTED_FACES} largest of a bigger crowd); boxes inside the frame; probabilities in [0, 1] summing to 1. Which faces are violations is ` +
          "decided by the server's rule (the deployed mask head's thresholds and gates, and the deployed second-opinion rule applied to a face's " +
          '`secondOpinion` reading when the agent sends one), and a base64 JPEG crop (≤ 256 KiB, decodable) is ' +
          'required for exactly those faces and refused for the others. Answers 202 once the detections are durably queued (or at once, without a job, ' +
          'when they can change nothing: nobody in view, or masked faces only while no track of the camera can be live); they are ' +
          'tracked, confirmed, grouped and alerted through the same code path as a frame analysed centrally. The alert has face crops and no frame snapshot.',
        security: [{ cameraKey: [] }],
        body: DetectionsRequestSchema,
        response: { 202: DetectionsAcceptedSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const result = await ctx.ingestDetections({ apiKey: bearerToken(request.headers.authorization), body: request.body });
      return reply.code(202).send({ frameId: result.frameId, violations: result.violations });
    },
  );
}
