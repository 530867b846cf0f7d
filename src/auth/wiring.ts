/**
 * The auth service as the API and the CLI's `users` commands build it: repositories of the database,
 * and the login throttle in Redis when there is one. Apart from the HTTP app, which the CLI's `users`
 * commands have no need to load.
 */
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import type { Db } from '../db/client.ts';
import { createRepositories } from '../db/repositories/index.ts';
import { createLoginThrottle } from './login-throttle.ts';
import { createAuthService, type AuthService } from './service.ts';

export function buildAuthService(deps: { config: Config; db: { prisma: Db }; logger: Logger; redis?: Redis }): AuthService {
  const repos = createRepositories(deps.db.prisma);
  const { security } = deps.config;
  return createAuthService({
    users: repos.users,
    sessions: repos.sessions,
    audit: repos.audit,
    tokenTtlSeconds: deps.config.tokenTtlSeconds,
    logger: deps.logger,
    throttle: deps.redis
      ? createLoginThrottle({
          redis: deps.redis,
          prefix: deps.config.queuePrefix,
          freeFailures: security.loginMaxFailures,
          baseDelayMs: security.loginBaseDelayMs,
          maxDelayMs: security.loginLockSeconds * 1000,
        })
      : undefined,
  });
}
