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
import { createSecondFactor, type SecondFactor, type SecondFactorDeps } from './second-factor.ts';
import { createSecretBox, type SecretBox } from './secret-box.ts';
import { createSecurityKeys, type ChallengeStore } from './security-keys.ts';
import { secretKeys } from '../system/secret-key.ts';

/** Security-key challenges in Redis, each taken once by whichever instance gets the answer. */
export function redisChallengeStore(redis: Redis, prefix: string): ChallengeStore {
  const key = (k: string) => `${prefix}:webauthn:${k}`;
  return {
    async put(k, value, ttlMs) {
      await redis.set(key(k), value, 'PX', ttlMs);
    },
    take: (k) => redis.getdel(key(k)),
  };
}

/**
 * TOTP checks with the secrets sealed by a key derived from the server's secret key, and security keys
 * when there is a Redis for their challenges.
 */
export function buildSecondFactor(deps: {
  config: Config;
  users: SecondFactorDeps['users'];
  keys: SecondFactorDeps['keys'];
  redis?: Redis;
  now?: () => Date;
}): SecondFactor {
  const keys = secretKeys(deps.config);
  let box: Promise<SecretBox> | null = null;
  return createSecondFactor({
    users: deps.users,
    keys: deps.keys,
    securityKeys: deps.redis ? createSecurityKeys({ challenges: redisChallengeStore(deps.redis, deps.config.queuePrefix) }) : undefined,
    requiredRoles: deps.config.security.mfa.requiredRoles,
    securityKeyRoles: deps.config.security.mfa.securityKeyRoles,
    now: deps.now,
    box: () =>
      (box ??= keys('totp secrets').then(createSecretBox, (err: unknown) => {
        box = null;
        throw err;
      })),
  });
}

export function buildAuthService(deps: { config: Config; db: { prisma: Db }; logger: Logger; redis?: Redis; totpClock?: () => Date }): AuthService {
  const repos = createRepositories(deps.db.prisma);
  const { security } = deps.config;
  return createAuthService({
    users: repos.users,
    sessions: repos.sessions,
    audit: repos.audit,
    tokenTtlSeconds: deps.config.tokenTtlSeconds,
    logger: deps.logger,
    secondFactor: buildSecondFactor({ config: deps.config, users: repos.users, keys: repos.securityKeys, redis: deps.redis, now: deps.totpClock }),
    ssoRequiredRoles: deps.config.security.sso?.requiredRoles,
    ssoSessionHours: deps.config.security.sso?.sessionHours,
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
