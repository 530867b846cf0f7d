/** Admin › System over HTTP: the deployment checks of `maskwatch doctor`, as this API instance runs them, and the running instances. */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { bearerSecurity } from '../schemas/common.ts';
import { SystemChecksSchema } from '../../contracts/api.ts';

export async function systemRoutes(app: FastifyInstance, ctx: ApiContext) {
  app.get(
    '/api/v1/system/checks',
    {
      onRequest: requireUser(ctx.auth, { roles: ['ADMIN'] }),
      schema: {
        tags: ['operations'],
        summary: 'The deployment checks of `maskwatch doctor`, run now by the API instance that answers (admins)',
        description:
          'The database and its migrations, Redis (append-only file, noeviction, version), the database and Redis servers\' clocks against this host\'s, ' +
          'the workers on the frames queue, the data folder (writable, owner-only, free space), the secret key, the sign-on provider and the webhook targets: each `ok`, `warn`, `fail` or `skipped`, ' +
          'with what was found and the fix. The models are not checked here (`vision` is `skipped`): they run on worker hosts, where `maskwatch doctor` checks them. ' +
          '`instances`: every API and worker process announcing itself on this Redis and queue prefix (every 10 s; gone 30 s after its last announcement), ' +
          'oldest first; the `instances` check fails when they use different secret keys and warns when their release or retention / mask settings differ. ' +
          'Changes nothing; a request while a run is in progress gets that run\'s answer.',
        security: bearerSecurity,
        response: { 200: SystemChecksSchema, ...problemResponses },
      },
    },
    async () => ctx.services.systemChecks.check(),
  );
}
