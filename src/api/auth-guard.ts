import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { AuthService } from '../auth/service.ts';
import { bearerToken } from '../auth/tokens.ts';
import type { AuthUser, Role } from '../auth/roles.ts';
import { HttpProblem } from './problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireUser` for authenticated routes. */
    user: AuthUser | null;
    /** The bearer token that authenticated the request (for logout). */
    authToken: string | null;
  }
}

/** Route `config` read by the guard. */
export interface RouteAccess {
  /** Reachable while the user must still change their password (auth routes only). */
  allowPendingPasswordChange?: boolean;
  /** Reachable while the user must still enrol a second factor or add a security key (auth routes only). */
  allowPendingMfaSetup?: boolean;
}

declare module 'fastify' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface FastifyContextConfig extends RouteAccess {}
}

/**
 * An onRequest hook (runs before the body is read or validated) that requires a logged-in user (bearer token), and one of `roles`
 * when given. Only the Authorization header: a token in a URL ends up in proxy and browser logs.
 */
export function requireUser(auth: AuthService, opts: { roles?: readonly Role[] } = {}): onRequestAsyncHookHandler {
  return async function guard(request: FastifyRequest, _reply: FastifyReply) {
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      throw new HttpProblem(401, 'login required: Authorization: Bearer <token>', 'unauthorized', {
        'www-authenticate': 'Bearer',
      });
    }
    const user = await auth.authenticate(token);
    if (!user) {
      throw new HttpProblem(401, 'invalid or expired token', 'unauthorized', { 'www-authenticate': 'Bearer' });
    }
    // The first admin's setup password (from the environment) opens only the routes marked
    // `config: { allowPendingPasswordChange: true }`: the password change and the session routes.
    const access = request.routeOptions.config as RouteAccess | undefined;
    if (user.mustChangePassword && !access?.allowPendingPasswordChange) {
      throw new HttpProblem(403, 'change your password first: POST /api/v1/auth/password', 'password-change-required');
    }
    // A role that must sign in with two factors (MASKWATCH_MFA_REQUIRED) and has none yet: only enrolment is open.
    if (user.mfaSetupRequired && !access?.allowPendingMfaSetup) {
      throw new HttpProblem(403, 'set up two-factor sign-in first: POST /api/v1/auth/mfa/setup', 'mfa-setup-required');
    }
    // A role that must sign in with a security key (MASKWATCH_SECURITY_KEY_REQUIRED) and has none yet: only adding one is open.
    if (user.securityKeySetupRequired && !access?.allowPendingMfaSetup) {
      throw new HttpProblem(403, 'add a security key first: POST /api/v1/auth/mfa/keys/options, then /api/v1/auth/mfa/keys', 'security-key-setup-required');
    }
    if (opts.roles && !opts.roles.includes(user.role)) {
      throw new HttpProblem(403, `requires role ${opts.roles.join(' or ')}`, 'forbidden');
    }
    request.user = user;
    request.authToken = token;
  };
}

/** The authenticated user of a guarded route (throws if the guard was forgotten). */
export function userOf(request: FastifyRequest): AuthUser {
  if (!request.user) throw new Error('route is missing its requireUser guard');
  return request.user;
}
