/**
 * /scim/v2: the agency directory's provisioning client (Entra ID, Okta) creates, disables and deletes
 * accounts (src/services/provisioning.ts). HTTP only: the client's bearer token is checked before a body is
 * read, and answers and errors are SCIM's own (`application/scim+json`), which those clients parse.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../context.ts';
import { publicOrigin } from '../public-origin.ts';
import { SERVICE_STATUS } from '../problem.ts';
import { ServiceError } from '../../services/errors.ts';
import type { ProvisionedUser } from '../../services/provisioning.ts';
import { isDatabaseUnavailable } from '../../db/unavailable.ts';
import {
  SCIM_ERROR_SCHEMA,
  SCIM_LIST_SCHEMA,
  SCIM_USER_SCHEMA,
  ScimRequestError,
  changesOfPatch,
  changesOfResource,
  userNameOfFilter,
  type ScimErrorType,
} from '../../auth/scim.ts';
import {
  SCIM_CONTENT_TYPE,
  ScimListQuerySchema,
  ScimListSchema,
  ScimPatchSchema,
  ScimUserInputSchema,
  ScimUserSchema,
  scimErrorResponses,
  scimResponse,
  type ScimError,
  type ScimListQuery,
  type ScimPatch,
  type ScimUser,
  type ScimUserInput,
} from '../schemas/scim.ts';

/** Where the routes are mounted (src/api/app.ts registers this plugin with it as prefix). */
export const SCIM_PREFIX = '/scim/v2';
const USERS = '/Users';
const security = [{ scimToken: [] }];
const IdParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 128 } } } as const;

function sendScimError(reply: FastifyReply, status: number, detail: string, scimType?: ScimErrorType) {
  const body: ScimError = { schemas: [SCIM_ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail };
  return reply.code(status).type(SCIM_CONTENT_TYPE).send(body);
}

/** Every refusal in SCIM's error form: the directory shows `detail` in its provisioning log. */
function scimErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof ScimRequestError) return sendScimError(reply, error.scimType === 'uniqueness' ? 409 : 400, error.message, error.scimType);
  if (error instanceof ServiceError) return sendScimError(reply, SERVICE_STATUS[error.kind], error.message);
  if (error.validation) return sendScimError(reply, 400, `${error.validationContext ?? 'request'}${error.validation[0]?.instancePath ?? ''} ${error.validation[0]?.message ?? 'is invalid'}`, 'invalidSyntax');
  if (isDatabaseUnavailable(error)) return sendScimError(reply.header('retry-after', '5'), 503, 'the database is unavailable; retry later');
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) {
    request.log.error({ err: error }, 'SCIM request failed');
    return sendScimError(reply, 500, 'an unexpected error occurred; see the server log');
  }
  return sendScimError(reply, status, error.message, status === 400 ? 'invalidSyntax' : undefined);
}

export async function scimRoutes(app: FastifyInstance, ctx: ApiContext) {
  const settings = ctx.config.security.scim;
  const expected = settings ? Buffer.from(settings.tokenSha256, 'hex') : null;
  const provisioning = ctx.services.provisioning;

  app.setErrorHandler(scimErrorHandler);
  // Resources MaskWatch does not have (/Groups, /Schemas, /Bulk): said in SCIM's form, which the directory logs.
  app.setNotFoundHandler((request, reply) => sendScimError(reply, 404, `MaskWatch's SCIM server has no ${request.method} ${request.url.split('?')[0]}: it provisions /Users only`));
  // SCIM clients send their own media type; its body is JSON.
  app.addContentTypeParser(SCIM_CONTENT_TYPE, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  // The token before anything else: no body is read for a client without it.
  app.addHook('onRequest', async (request, reply) => {
    if (!expected) return sendScimError(reply, 404, 'SCIM provisioning is off on this server (MASKWATCH_SCIM_TOKEN_SHA256)');
    const header = request.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const given = token ? createHash('sha256').update(token).digest() : null;
    if (!given || !timingSafeEqual(given, expected)) {
      request.log.warn({ ip: request.ip, hadToken: Boolean(token) }, 'SCIM request refused: wrong or missing token');
      return sendScimError(reply.header('www-authenticate', 'Bearer realm="maskwatch-scim"'), 401, 'a valid SCIM bearer token is required');
    }
  });

  const resource = (request: FastifyRequest, u: ProvisionedUser): ScimUser => ({
    schemas: [SCIM_USER_SCHEMA],
    id: u.id,
    userName: u.userName,
    active: u.active,
    roles: [{ value: u.role, primary: true }],
    meta: { resourceType: 'User', created: u.createdAt.toISOString(), location: `${publicOrigin(ctx.config, request)}${SCIM_PREFIX}${USERS}/${u.id}` },
  });
  const sendUser = (request: FastifyRequest, reply: FastifyReply, u: ProvisionedUser) => reply.type(SCIM_CONTENT_TYPE).send(resource(request, u));
  const tags = ['provisioning'];
  const userResponse = scimResponse('the account', ScimUserSchema);

  app.get(
    '/ServiceProviderConfig',
    { schema: { tags, summary: 'What this SCIM server supports (RFC 7643 §5)', security, response: { 200: scimResponse('capabilities', { type: 'object', additionalProperties: true }), ...scimErrorResponses } } },
    async (_request, reply) =>
      reply.type(SCIM_CONTENT_TYPE).send({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
        documentationUri: 'https://github.com/maskwatch/maskwatch#provisioning-scim',
        patch: { supported: true },
        bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
        filter: { supported: true, maxResults: 200 },
        changePassword: { supported: false },
        sort: { supported: false },
        etag: { supported: false },
        authenticationSchemes: [{ type: 'oauthbearertoken', name: 'Bearer token', description: 'the token whose SHA-256 is MASKWATCH_SCIM_TOKEN_SHA256', primary: true }],
      }),
  );

  app.get<{ Querystring: ScimListQuery }>(
    USERS,
    {
      schema: {
        tags,
        summary: 'Accounts, or the one a directory matches by `filter=userName eq "…"` (any case)',
        security,
        querystring: ScimListQuerySchema,
        response: { 200: scimResponse('a page of accounts', ScimListSchema), ...scimErrorResponses },
      },
    },
    async (request, reply) => {
      const { startIndex, count } = request.query;
      const page = await provisioning.list({ userName: userNameOfFilter(request.query.filter), startIndex, count });
      return reply.type(SCIM_CONTENT_TYPE).send({
        schemas: [SCIM_LIST_SCHEMA],
        totalResults: page.total,
        startIndex,
        itemsPerPage: page.items.length,
        Resources: page.items.map((u) => resource(request, u)),
      });
    },
  );

  app.post<{ Body: ScimUserInput }>(
    USERS,
    {
      schema: {
        tags,
        summary: 'A joiner: an account with the role `roles` names (within MASKWATCH_SCIM_ROLES), signing in through the directory',
        description: 'Its password is random and unknown: the person signs in with single sign-on (linked by username), or an admin resets it. 409 uniqueness when the name exists in any case; 400 for an officer (an admin gives their unit).',
        security,
        body: ScimUserInputSchema,
        response: { 201: scimResponse('the account made', ScimUserSchema), ...scimErrorResponses },
      },
    },
    async (request, reply) => {
      const user = await provisioning.create(changesOfResource(request.body), request.ip);
      return sendUser(request, reply.code(201).header('location', `${SCIM_PREFIX}${USERS}/${user.id}`), user);
    },
  );

  app.get<{ Params: { id: string } }>(
    `${USERS}/:id`,
    { schema: { tags, summary: 'One account', security, params: IdParams, response: { 200: userResponse, ...scimErrorResponses } } },
    async (request, reply) => sendUser(request, reply, await provisioning.get(request.params.id)),
  );

  app.put<{ Params: { id: string }; Body: ScimUserInput }>(
    `${USERS}/:id`,
    {
      schema: {
        tags,
        summary: 'Replace an account: `active` (omitted: true) and `roles`; `userName` must stay the same',
        description: 'Disabling ends every session of the account at once. The last enabled admin is kept (409).',
        security,
        params: IdParams,
        body: ScimUserInputSchema,
        response: { 200: userResponse, ...scimErrorResponses },
      },
    },
    // A full replacement: `active` left out means enabled.
    async (request, reply) => sendUser(request, reply, await provisioning.change(request.params.id, { active: true, ...changesOfResource(request.body) }, request.ip)),
  );

  app.patch<{ Params: { id: string }; Body: ScimPatch }>(
    `${USERS}/:id`,
    {
      schema: {
        tags,
        summary: 'Change an account: `active`, `roles` or `roles[primary eq "True"].value`; other attributes are accepted and not stored',
        description: 'Disabling (active false, or "False" as Entra ID sends it) ends every session of the account at once. Audited `user.update` with `source: "provisioning"`.',
        security,
        params: IdParams,
        body: ScimPatchSchema,
        response: { 200: userResponse, ...scimErrorResponses },
      },
    },
    async (request, reply) => sendUser(request, reply, await provisioning.change(request.params.id, changesOfPatch(request.body.Operations), request.ip)),
  );

  app.delete<{ Params: { id: string } }>(
    `${USERS}/:id`,
    {
      schema: {
        tags,
        summary: 'A leaver: the account is deleted (anonymised; its audit trail stays) and its sessions end',
        security,
        params: IdParams,
        response: { 204: { type: 'null', description: 'deleted' }, ...scimErrorResponses },
      },
    },
    async (request, reply) => {
      await provisioning.delete(request.params.id, request.ip);
      return reply.code(204).send();
    },
  );
}
