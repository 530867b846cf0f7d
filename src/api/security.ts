/**
 * HTTP hardening for the API in one place: security headers (@fastify/helmet,
 * with a CSP the dashboard works under), CORS closed unless origins are
 * configured, and rate limits (@fastify/rate-limit) per IP, per camera key and
 * on login — each answering 429 problem+json with Retry-After.
 *
 * Register with `app.register(securityPlugin, opts)` BEFORE the routes: the
 * limits run in an app-level onRequest hook, i.e. before authentication, so a
 * flood of bad tokens is refused before it costs a database lookup.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { hashSecret, bearerToken } from '../auth/tokens.ts';
import { HttpProblem, PROBLEM_CONTENT_TYPE, problem } from './problem.ts';

export interface SecurityOptions {
  corsOrigins: readonly string[];
  /** Extra origins the dashboard may load images from (the map tile server), for the CSP. */
  imageOrigins?: readonly string[];
  rateLimit: {
    windowMs: number;
    /** Every route except ingestion and login, per client IP. 0 = off. */
    perIp: number;
    /** POST /api/v1/frames per client IP (many cameras may share a NAT address). 0 = off. */
    perIpIngest: number;
    /** POST /api/v1/frames per camera API key per cameraWindowMs. 0 = off. */
    perCamera: number;
    /** The per-camera limit's own (short) window; windowMs when absent. */
    cameraWindowMs?: number;
    /** POST /api/v1/auth/login per client IP (account lockout is separate, per user). 0 = off. */
    loginPerIp: number;
  };
}

export const INGEST_ROUTE = '/api/v1/frames';
/** Edge agents' detections: limited and authenticated like frames (same camera key, same limits). */
export const DETECTIONS_ROUTE = '/api/v1/detections';
const INGEST_ROUTES: readonly string[] = [INGEST_ROUTE, DETECTIONS_ROUTE];
export const LOGIN_ROUTE = '/api/v1/auth/login';
/** The self-service password change asks for the current password: limited per IP like logins. */
export const PASSWORD_CHANGE_ROUTE = '/api/v1/auth/password';

/**
 * CSP for the dashboard (Vite build: external module script + stylesheet, images
 * as data: URLs, Socket.IO on the same origin) and Swagger UI at /docs (inline
 * style attributes). No inline scripts anywhere.
 */
export function contentSecurityPolicy(imageOrigins: readonly string[] = []) {
  return {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', ...imageOrigins],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      scriptSrcAttr: ["'none'"],
    },
  };
}

/** Liveness and readiness probes: an orchestrator's health check must not be refused because a noisy client shares its address. */
const PROBE_ROUTES: readonly string[] = ['/healthz', '/readyz'];

/** Which limit class a request falls in (pure, for the hook and tests); probes are not limited. */
export function limitClass(method: string, routeUrl: string | undefined): 'ingest' | 'login' | 'api' | 'probe' {
  if (method === 'GET' && routeUrl !== undefined && PROBE_ROUTES.includes(routeUrl)) return 'probe';
  if (method === 'POST' && routeUrl !== undefined && INGEST_ROUTES.includes(routeUrl)) return 'ingest';
  if (method === 'POST' && (routeUrl === LOGIN_ROUTE || routeUrl === PASSWORD_CHANGE_ROUTE)) return 'login';
  return 'api';
}

/** CORS response headers for a request's Origin, or null when it is not allowed (pure). */
export function corsHeaders(origin: string | undefined, allowed: readonly string[], preflight: boolean): Record<string, string> | null {
  if (!origin || !allowed.includes(origin)) return null;
  const headers: Record<string, string> = { 'access-control-allow-origin': origin, vary: 'Origin' };
  if (preflight) {
    headers['access-control-allow-methods'] = 'GET, POST, PATCH, PUT, DELETE';
    headers['access-control-allow-headers'] = 'authorization, content-type, x-captured-at, x-request-id';
    headers['access-control-max-age'] = '600';
  }
  return headers;
}

// isAllowed is true only for allow-listed keys; "over the limit" is isExceeded.
/**
 * Errors Node's HTTP parser raises before Fastify sees a request (header too
 * large, malformed request line, request timeout) answered as problem+json too.
 * Pass as Fastify's `clientErrorHandler`.
 */
export function problemClientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const detail =
    status === 408 ? 'the request was not received in time' : status === 431 ? 'request line or headers are too large' : 'malformed HTTP request';
  const body = JSON.stringify(problem(status, detail, status === 400 ? 'bad-request' : undefined));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${problem(status).title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** True when the query string is not valid percent-encoded UTF-8 (pure). */
export function badQueryEncoding(rawUrl: string | undefined): boolean {
  const q = rawUrl?.indexOf('?') ?? -1;
  if (!rawUrl || q < 0) return false;
  try {
    decodeURIComponent(rawUrl.slice(q + 1).replace(/\+/g, ' '));
    return false;
  } catch {
    return true;
  }
}

/**
 * Schema validators: query, params and headers are strings on the wire and are
 * coerced to their schema types; JSON bodies are NOT coerced — with coercion,
 * `{"latitude": null}` became 0 and `{"latitude": "Infinity"}` passed a
 * `maximum: 90` (Ajv 8). Options otherwise as Fastify's defaults.
 */
function schemaValidators() {
  const base = { useDefaults: true, removeAdditional: false, allErrors: false, addUsedSchema: false, strict: false } as const;
  const AjvClass = Ajv as unknown as typeof Ajv.default;
  const withFormats = addFormats as unknown as typeof addFormats.default;
  const body = withFormats(new AjvClass({ ...base, coerceTypes: false }));
  const other = withFormats(new AjvClass({ ...base, coerceTypes: true }));
  return ({ schema, httpPart }: { schema: FastifySchema; httpPart?: string }) =>
    (httpPart === 'body' ? body : other).compile(schema as object);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

type Limiter = (req: FastifyRequest) => Promise<{ isAllowed: true } | { isAllowed: false; isExceeded: boolean; ttlInSeconds: number; max: number }>;

async function registerSecurity(app: FastifyInstance, opts: SecurityOptions): Promise<void> {
  app.setValidatorCompiler(schemaValidators());

  // JSON bodies must be valid UTF-8 (the default parser silently turns bad bytes into U+FFFD),
  // and text/plain is not a way in: every JSON route needs application/json. An empty body is no body:
  // many HTTP clients send Content-Type: application/json on a POST without one (logout, rotate-key);
  // a route that needs a body still says so (400, "body must be object").
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    if ((body as Buffer).length === 0) {
      done(null, undefined);
      return;
    }
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new HttpProblem(400, 'request body is not valid UTF-8', 'invalid-utf8'), undefined);
      return;
    }
    jsonParser(request, text, done);
  });

  // Ingestion answers cameras, not browsers, and @fastify/helmet builds its middleware on every
  // request (measured: it halves a trivial route's throughput): the frame route goes without.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (INGEST_ROUTES.includes(route.url) && methods.includes('POST')) {
      route.config = { ...(route.config as object), helmet: { skipRoute: true } } as typeof route.config;
    }
  });
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: contentSecurityPolicy(opts.imageOrigins),
    // Plain-HTTP deployments inside a closed network exist; HSTS belongs to the TLS proxy.
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
  });

  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (badQueryEncoding(request.raw.url)) throw new HttpProblem(400, 'query string is not valid percent-encoded UTF-8', 'bad-query-encoding');
  });

  // CORS: no Access-Control-* header at all unless the Origin is configured.
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    const preflight = request.method === 'OPTIONS' && typeof request.headers['access-control-request-method'] === 'string';
    const headers = corsHeaders(typeof origin === 'string' ? origin : undefined, opts.corsOrigins, preflight);
    if (headers) reply.headers(headers);
    if (preflight && headers) return reply.code(204).send();
  });

  // global:false — the plugin adds no route hooks; the one hook below applies every limit.
  await app.register(rateLimit, { global: false });
  const rl = opts.rateLimit;
  const make = (max: number, keyGenerator: (req: FastifyRequest) => string, timeWindow = rl.windowMs): Limiter | null =>
    max > 0
      ? // `cache` (LRU size of this limiter's store; default 5,000 keys) is honoured at run time but missing from the types.
        (app.createRateLimit({ max, timeWindow, keyGenerator, ...({ cache: 50_000 } as object) }) as unknown as Limiter)
      : null;
  const byIp = (req: FastifyRequest) => req.ip;
  const limiters = {
    api: make(rl.perIp, byIp),
    ingest: make(rl.perIpIngest, byIp),
    login: make(rl.loginPerIp, byIp),
    // Keyed by the key's hash so the cache holds no secrets; keyless requests fall back to the IP.
    camera: make(rl.perCamera, (req) => {
      const key = bearerToken(req.headers.authorization);
      return key ? `cam:${hashSecret(key)}` : `ip:${req.ip}`;
    }, rl.cameraWindowMs ?? rl.windowMs),
  };

  const enforce = async (limiter: Limiter | null, request: FastifyRequest, what: string, windowMs = rl.windowMs) => {
    if (!limiter) return;
    const res = await limiter(request);
    if (res.isAllowed || !res.isExceeded) return;
    const retry = String(Math.max(1, res.ttlInSeconds));
    throw new HttpProblem(429, `rate limit of ${res.max} requests per ${windowMs / 1000} s ${what} exceeded; retry in ${retry} s`, 'rate-limited', {
      'retry-after': retry,
    });
  };

  app.addHook('onRequest', async (request: FastifyRequest) => {
    const cls = limitClass(request.method, request.routeOptions.url);
    if (cls === 'ingest') {
      await enforce(limiters.ingest, request, 'per IP');
      await enforce(limiters.camera, request, 'per camera', rl.cameraWindowMs ?? rl.windowMs);
    } else if (cls === 'login') {
      await enforce(limiters.login, request, 'for logins per IP');
    } else if (cls === 'api') {
      await enforce(limiters.api, request, 'per IP');
    }
  });
}

/** The plugin form; skip-override (what fastify-plugin sets) makes its hooks apply to the whole app, not a child scope. */
export const securityPlugin = Object.assign(registerSecurity, { [Symbol.for('skip-override')]: true });
