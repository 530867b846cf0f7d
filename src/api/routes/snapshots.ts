import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { HttpProblem, problemResponses, rawResponse } from '../problem.ts';

const TYPES: Record<string, string> = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp' };
// Each path segment: no leading dot (so no "..", no hidden files), a conservative alphabet.
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,200}$/;

/**
 * Maps the wildcard of /api/v1/snapshots/* to a file under `root`, or null when
 * the path is not a plain relative image path. Pure; symlinks are checked by the caller.
 */
export function snapshotFile(root: string, wildcard: string): string | null {
  if (wildcard.length === 0 || wildcard.length > 1024 || wildcard.includes('\\')) return null;
  const segments = wildcard.split('/');
  if (!segments.every((s) => SEGMENT.test(s))) return null;
  if (!TYPES[path.extname(wildcard).toLowerCase()]) return null;
  const full = path.resolve(root, ...segments);
  return full.startsWith(path.resolve(root) + path.sep) ? full : null;
}

const snapshotParams = Type.Object({ '*': Type.Optional(Type.String()) });
/** The router always sets the wildcard (the schema never required it). */
type SnapshotParams = Required<Static<typeof snapshotParams>>;

export async function snapshotRoutes(app: FastifyInstance, ctx: ApiContext) {
  const root = path.join(ctx.config.dataDir, 'snapshots');
  // Bearer header only, no ?token= (tokens in URLs end up in proxy logs): the dashboard fetches images
  // with the header and shows them as data: URLs (src/web/images.ts).
  const loggedIn = requireUser(ctx.auth);

  app.get<{ Params: SnapshotParams }>(
    '/api/v1/snapshots/*',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['snapshots'],
        summary: 'A face crop shown by an alert (login token as Bearer header; never in the URL); each view is audited',
        description:
          "Only crops an alert shows (its snapshot, a person's best shot, a violation's crop); officers only their unit's, and not those of a person marked false positive. " +
          "Stored frames are not served here: use an alert's frameSnapshotUrl (GET /api/v1/alerts/:id/frames/:frameId). Every refusal is the same 404.",
        security: [{ bearerAuth: [] }],
        params: snapshotParams,
        response: { 200: rawResponse('image/jpeg', 'the face crop (JPEG)'), ...problemResponses },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const notFound = () => new HttpProblem(404, 'no such snapshot', 'not-found');
      const file = snapshotFile(root, request.params['*']);
      if (!file) throw notFound();
      let real: string;
      try {
        real = await realpath(file);
        if (!(await stat(real)).isFile()) throw notFound();
      } catch (err) {
        if (err instanceof HttpProblem) throw err;
        throw notFound();
      }
      // A symlink planted inside snapshots/ must not lead outside it.
      const realRoot = await realpath(root).catch(() => root);
      if (!real.startsWith(realRoot + path.sep)) throw notFound();
      // Only crops an alert shows; officers only their own unit's (404 either way: existence is not revealed).
      const subject = path.relative(root, file).split(path.sep).join('/');
      if (!(await ctx.services.snapshots.maySee(user, `snapshots/${subject}`))) throw notFound();
      await ctx.services.snapshots.recordView(user, subject, request.ip);
      return reply
        .type(TYPES[path.extname(file).toLowerCase()]!)
        .header('cache-control', 'private, no-store')
        .header('x-content-type-options', 'nosniff')
        .send(createReadStream(real));
    },
  );
}
