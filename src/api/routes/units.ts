/**
 * Patrol units: CRUD (ADMIN), members (ADMIN), status (ADMIN, DISPATCHER, or an
 * officer of the unit) and position reports (an officer of the unit).
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AuthService } from '../../auth/service.ts';
import type { UnitPatch } from '../../db/repositories/units.ts';
import { UNIT_STATUSES, type UnitStatus } from '../../contracts/vocabulary.ts';
import type { UnitService } from '../../services/units.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { bearerSecurity, nullableDateTime, uuidParam } from '../schemas/common.ts';

/** What the plugin needs; ApiContext satisfies it, so `await unitRoutes(scope, ctx)` works. */
export interface UnitRoutesOptions {
  auth: AuthService;
  services: { units: UnitService };
  logger: Logger;
}

const latitude = { type: 'number', minimum: -90, maximum: 90 } as const;
const longitude = { type: 'number', minimum: -180, maximum: 180 } as const;
const callSign = { type: 'string', minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9][A-Za-z0-9 _./-]*$' } as const;
const statusEnum = { type: 'string', enum: UNIT_STATUSES } as const;

const unitProps = {
  id: { type: 'string' },
  callSign: { type: 'string' },
  status: statusEnum,
  latitude: { type: ['number', 'null'] },
  longitude: { type: ['number', 'null'] },
  positionAt: nullableDateTime,
  members: {
    type: 'array',
    items: { type: 'object', required: ['id', 'username'], properties: { id: { type: 'string' }, username: { type: 'string' } } },
  },
  openAlertIds: { type: 'array', items: { type: 'string' } },
  createdAt: { type: 'string', format: 'date-time' },
  updatedAt: { type: 'string', format: 'date-time' },
} as const;
export const unitSchema = { type: 'object', required: Object.keys(unitProps), properties: unitProps } as const;

export async function unitRoutes(app: FastifyInstance, opts: UnitRoutesOptions) {
  const units = opts.services.units;
  const loggedIn = requireUser(opts.auth);
  const admin = requireUser(opts.auth, { roles: ['ADMIN'] });

  app.get(
    '/api/v1/units',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['units'],
        summary: 'Patrol units with status, last position and members (officers see their own unit only)',
        security: bearerSecurity,
        response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: unitSchema } } }, ...problemResponses },
      },
    },
    async (request) => ({ items: await units.list(userOf(request)) }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/units/:id',
    {
      onRequest: loggedIn,
      schema: { tags: ['units'], security: bearerSecurity, params: uuidParam, response: { 200: unitSchema, ...problemResponses } },
    },
    async (request) => units.get(userOf(request), request.params.id),
  );

  app.post<{ Body: { callSign: string; status?: UnitStatus; latitude?: number; longitude?: number } }>(
    '/api/v1/units',
    {
      onRequest: admin,
      schema: {
        tags: ['units'],
        summary: 'Create a patrol unit',
        security: bearerSecurity,
        body: {
          type: 'object',
          required: ['callSign'],
          additionalProperties: false,
          properties: { callSign, status: statusEnum, latitude, longitude },
          dependencies: { latitude: ['longitude'], longitude: ['latitude'] },
        },
        response: { 201: unitSchema, ...problemResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await units.create(request.body, userOf(request))),
  );

  app.patch<{ Params: { id: string }; Body: UnitPatch }>(
    '/api/v1/units/:id',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['units'],
        summary: 'Change call sign (ADMIN) or status (ADMIN, DISPATCHER, or an officer of the unit)',
        security: bearerSecurity,
        params: uuidParam,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { callSign, status: statusEnum } },
        response: { 200: unitSchema, ...problemResponses },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { id } = request.params;
      if (request.body.callSign !== undefined && user.role !== 'ADMIN') throw new HttpProblem(403, 'only an admin may rename a unit', 'forbidden');
      if (user.role === 'OFFICER' && user.unitId !== id) throw new HttpProblem(403, 'officers may only change their own unit', 'forbidden');
      return units.update(id, request.body, user);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/units/:id',
    {
      onRequest: admin,
      schema: { tags: ['units'], security: bearerSecurity, params: uuidParam, response: { 204: { type: 'null' }, ...problemResponses } },
    },
    async (request, reply) => {
      await units.remove(request.params.id, userOf(request));
      return reply.code(204).send();
    },
  );

  app.put<{ Params: { id: string }; Body: { userIds: string[] } }>(
    '/api/v1/units/:id/members',
    {
      onRequest: admin,
      schema: {
        tags: ['units'],
        summary: 'Set the unit members (officers); users not listed leave the unit',
        security: bearerSecurity,
        params: uuidParam,
        body: {
          type: 'object',
          required: ['userIds'],
          additionalProperties: false,
          properties: { userIds: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 64 } } },
        },
        response: { 200: unitSchema, ...problemResponses },
      },
    },
    async (request) => units.setMembers(request.params.id, request.body.userIds, userOf(request)),
  );

  app.post<{ Params: { id: string }; Body: { latitude: number; longitude: number } }>(
    '/api/v1/units/:id/position',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['units'],
        summary: "Report the unit's position (an officer of that unit)",
        security: bearerSecurity,
        params: uuidParam,
        body: { type: 'object', required: ['latitude', 'longitude'], additionalProperties: false, properties: { latitude, longitude } },
        response: { 200: unitSchema, ...problemResponses },
      },
    },
    async (request) => {
      const user = userOf(request);
      if (user.role !== 'OFFICER' || user.unitId !== request.params.id) {
        throw new HttpProblem(403, 'only an officer of this unit may report its position', 'forbidden');
      }
      // Positions are frequent and not security events: logged, not audited.
      const unit = await units.setPosition(request.params.id, request.body.latitude, request.body.longitude);
      opts.logger.debug({ unitId: unit.id, userId: user.id }, 'unit position reported');
      return unit;
    },
  );
}
