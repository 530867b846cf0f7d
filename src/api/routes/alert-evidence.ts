/**
 * Evidence per alert over HTTP: an alert's view of one of its frames (the
 * `frameSnapshotUrl` of the alert, of its people, of their track items and of
 * violations), and evidence packages of an incident or of a case, and the key that signs them (admins). The use cases
 * (access, rendering, audit) are services/evidence.ts and evidence-package.ts.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import { Type, type Static } from 'typebox';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { problemResponses, rawResponse } from '../problem.ts';
import { bearerSecurity, uuidParam, type UuidParam } from '../schemas/common.ts';
import { EvidenceCaseInputSchema, EvidenceSigningKeySchema, type EvidenceCaseInput } from '../../contracts/api.ts';

const idPattern = () => Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' });
const frameParams = Type.Object({ id: idPattern(), frameId: idPattern() }, { additionalProperties: false });
type FrameParams = Static<typeof frameParams>;

/** A package as a download nobody caches. */
const sendPackage = (reply: FastifyReply, pkg: { filename: string; stream: Readable }) =>
  reply
    .type('application/zip')
    .header('content-disposition', `attachment; filename="${pkg.filename}"`)
    .header('cache-control', 'private, no-store')
    .header('x-content-type-options', 'nosniff')
    .send(pkg.stream);

export async function alertEvidenceRoutes(app: FastifyInstance, ctx: ApiContext) {
  // Bearer header only, never a token in the URL (the dashboard fetches images with the header, src/web/images.ts).
  const loggedIn = requireUser(ctx.auth);

  app.get<{ Params: FrameParams }>(
    '/api/v1/alerts/:id/frames/:frameId',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['alerts'],
        summary: "An alert's annotated frame: only this alert's people unblurred (JPEG; login token as Bearer header, never in the URL)",
        description:
          'Rendered for this alert on each request from the stored frame: the faces of the alert\'s people (not marked false positive) stay ' +
          'sharp and are boxed in red; every other face of the frame (bystanders, other alerts\' people, unconfirmed violators, people ' +
          'marked false positive) is blurred and boxed in grey. `frameSnapshotUrl` of alerts, people, track items and violations point here. ' +
          "Officers: their unit's alerts only; dispatchers with zones: their zones' alerts only. Every refusal (no such alert, another unit's or zone's alert, a frame this alert does not show, a frame " +
          'deleted by retention) is the same 404 problem. Each view is audited (`snapshot.view`, subject `AlertFrame`, with the client IP); ' +
          'responses are `Cache-Control: private, no-store`.',
        security: bearerSecurity,
        params: frameParams,
        response: { 200: rawResponse('image/jpeg', 'the frame rendered for this alert (JPEG)'), ...problemResponses },
      },
    },
    async (request, reply) => {
      const jpeg = await ctx.services.evidence.alertFrame(request.params.id, request.params.frameId, userOf(request), request.ip);
      return reply.type('image/jpeg').header('cache-control', 'private, no-store').header('x-content-type-options', 'nosniff').send(jpeg);
    },
  );

  app.get(
    '/api/v1/evidence-signing-key',
    {
      onRequest: requireUser(ctx.auth, { roles: ['ADMIN'] }),
      schema: {
        tags: ['alerts'],
        summary: 'The public key that signs evidence packages (Ed25519), and its fingerprint, to publish for prosecutors and courts',
        description:
          'Derived from the server\'s secret key (MASKWATCH_SECRET_KEY or secret.key), so every instance signs with it and it changes only when the secret key does. ' +
          'A receiving side compares a package\'s signing-key.pem with this fingerprint (`maskwatch evidence key` prints the same).',
        security: bearerSecurity,
        response: { 200: EvidenceSigningKeySchema, ...problemResponses },
      },
    },
    async () => ctx.services.evidencePackages.signingKey(),
  );

  app.get<{ Params: UuidParam }>(
    '/api/v1/alerts/:id/evidence-package',
    {
      onRequest: requireUser(ctx.auth, { roles: ['ADMIN'] }),
      schema: {
        tags: ['alerts'],
        summary: "An incident's evidence package (ZIP): its frames as the alert shows them, each person's best shot and crops, incident.json, and every file's SHA-256",
        description:
          'For a prosecutor, a court or an inquiry (admins). `frames/`: every frame of the incident\'s people, rendered like GET /api/v1/alerts/:id/frames/:frameId ' +
          '(only the alert\'s people unblurred); `people/<n>/`: best shot and track crops (none of a person marked false positive); `incident.json`: the alert as ' +
          'GET /api/v1/alerts/:id gives it, the camera, the hold, the dispatch timeline, each person\'s sightings pointing at their files, and `custody` (who viewed the evidence, earlier exports) (files retention deleted ' +
          'are listed under `missing`); `README.txt`; `manifest.json` (`format` maskwatch-evidence-package/1, `alertId`, `exportedAt`, `exportedBy`, `files` ' +
          '[{path, sha256, bytes}]) and `SHA256SUMS` (for `sha256sum -c`). Streamed as it is rendered. Audited as `evidence.export` with `manifestSha256` before ' +
          'the archive completes (`completed: false` when the download is cut short); `maskwatch evidence verify FILE` checks a package against it. ' +
          '`manifest.sig` is the Ed25519 signature of manifest.json, and `signing-key.pem` the public key (its fingerprint is in the manifest\'s `signature` and in ' +
          'GET /api/v1/evidence-signing-key), so the receiving side checks the package\'s origin with openssl or `maskwatch evidence verify --public-key`. 404 alert-not-found.',
        security: bearerSecurity,
        params: uuidParam,
        response: { 200: rawResponse('application/zip', 'the evidence package (ZIP, stored entries)'), ...problemResponses },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const pkg = await ctx.services.evidencePackages.open(request.params.id, { ...user, clientIp: request.ip });
      request.log.info({ alertId: request.params.id, userId: user.id }, 'evidence package export');
      return sendPackage(reply, pkg);
    },
  );

  app.post<{ Body: EvidenceCaseInput }>(
    '/api/v1/evidence-packages',
    {
      onRequest: requireUser(ctx.auth, { roles: ['ADMIN'] }),
      schema: {
        tags: ['alerts'],
        summary: "A case's evidence package (ZIP): several incidents under the agency's case reference, each as its own package holds it, under one signed manifest",
        description:
          'For a case that spans incidents (the same person on several days, one event seen by several cameras). `incidents/NNN-<alertId>/`: each incident, oldest ' +
          'first, with the files of GET /api/v1/alerts/:id/evidence-package (its `incident.json`, `frames/`, `people/<n>/`; paths inside incident.json are relative ' +
          'to its folder); `case.json` (`format` maskwatch-evidence-case/1, `reference`, `exportedAt`, `exportedBy`, `incidents` [{number, alertId, folder, status, ' +
          'createdAt, lastSeenAt, camera, people}]); `README.txt`; `manifest.json` (`format` maskwatch-evidence-case/1, `reference`, `alertIds` in package order, ' +
          '`exportedAt`, `exportedBy`, `files`, `signature`), `SHA256SUMS`, `manifest.sig` and `signing-key.pem`, as in an incident\'s package. Streamed as it is ' +
          'rendered. Audited once per incident as `evidence.export` with `manifestSha256` and `case` {reference, alertIds} before the archive completes, so ' +
          'each incident\'s custody lists the case export; `maskwatch evidence verify FILE` checks a case package too. 404 alert-not-found names the first ' +
          'alert that does not exist, before anything is packaged or audited. With `passphrase`: the same package, unchanged, as the one file ' +
          '(`maskwatch-case-<reference>.zip`) of a ZIP encrypted with AES-256 (WinZip AE-2; `7z x` asks for the passphrase), named ' +
          '`maskwatch-case-<reference>-encrypted.zip`; the audit events say `encrypted: true`.',
        security: bearerSecurity,
        body: EvidenceCaseInputSchema,
        response: { 200: rawResponse('application/zip', 'the case package (ZIP, stored entries)'), ...problemResponses },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const pkg = await ctx.services.evidencePackages.openCase(request.body, { ...user, clientIp: request.ip });
      request.log.info({ reference: request.body.reference, alerts: request.body.alertIds.length, userId: user.id }, 'case evidence package export');
      return sendPackage(reply, pkg);
    },
  );
}
