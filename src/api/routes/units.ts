/**
 * Patrol units: CRUD (ADMIN), members (ADMIN), status (ADMIN, DISPATCHER, or an
 * officer of the unit) and position reports (an officer of the unit).
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AuthService } from '../../auth/service.ts';
import type { UnitService } from '../../services/units.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { bearerSecurity, uuidParam, type UuidParam } from '../schemas/common.ts';
import {
  UnitInputSchema,
  UnitMembersSchema,
  UnitPatchSchema,
  UnitPositionSchema,
  UnitSchema,
  type UnitInput,
  type UnitMembers,
  type UnitPatch,
  type UnitPosition,
} from '../../contracts/api.ts';

/** What the plugin needs; ApiContext satisfies it, so `await unitRoutes(scope, ctx)` works. */
export interface UnitRoutesOptions {
  auth: AuthService;
  services: { units: UnitService };
  logger: Logger;
}

export const unitSchema = UnitSchema;

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

  app.get<{ Params: UuidParam }>(
    '/api/v1/units/:id',
    {
      onRequest: loggedIn,
      schema: { tags: ['units'], security: bearerSecurity, params: uuidParam, response: { 200: unitSchema, ...problemResponses } },
    },
    async (request) => units.get(userOf(request), request.params.id),
  );

  app.post<{ Body: UnitInput }>(
    '/api/v1/units',
    {
      onRequest: admin,
      schema: {
        tags: ['units'],
        summary: 'Create a patrol unit',
        security: bearerSecurity,
        body: UnitInputSchema,
        response: { 201: unitSchema, ...problemResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await units.create(request.body, userOf(request))),
  );

  app.patch<{ Params: UuidParam; Body: UnitPatch }>(
    '/api/v1/units/:id',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['units'],
        summary: 'Change call sign (ADMIN) or status (ADMIN, DISPATCHER, or an officer of the unit)',
        security: bearerSecurity,
        params: uuidParam,
        body: UnitPatchSchema,
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

  app.delete<{ Params: UuidParam }>(
    '/api/v1/units/:id',
    {
      onRequest: admin,
      schema: {
        tags: ['units'],
        summary: 'Delete a unit (409 while it has open alerts or officers: reassign them first)',
        security: bearerSecurity,
        params: uuidParam,
        response: { 204: { type: 'null' }, ...problemResponses },
      },
    },
    async (request, reply) => {
      await units.remove(request.params.id, userOf(request));
      return reply.code(204).send();
    },
  );

  app.put<{ Params: UuidParam; Body: UnitMembers }>(
    '/api/v1/units/:id/members',
    {
      onRequest: admin,
      schema: {
        tags: ['units'],
        summary: 'Set the unit members (officers); users not listed leave the unit',
        description: 'An officer needs a unit: one not listed must be in another unit\'s list first (409 naming them otherwise). Listing an officer of another unit moves them here.',
        security: bearerSecurity,
        params: uuidParam,
        body: UnitMembersSchema,
        response: { 200: unitSchema, ...problemResponses },
      },
    },
    async (request) => units.setMembers(request.params.id, request.body.userIds, userOf(request)),
  );

  app.post<{ Params: UuidParam; Body: UnitPosition }>(
    '/api/v1/units/:id/position',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['units'],
        summary: "Report the unit's position (an officer of that unit)",
        security: bearerSecurity,
        params: uuidParam,
        body: UnitPositionSchema,
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
