/**
 * POST /api/v1/frames is checked BEFORE its body is read: camera key, content
 * type and Content-Length, in an onRequest hook. A refused upload costs a
 * header parse and (for keys not seen lately) one Redis round trip — never a
 * buffered body (40 concurrent 8 MB uploads with a bogus key used to cost the
 * API 340 MB).
 *
 * Clients that send `Expect: 100-continue` (curl does for large bodies) get
 * `100 Continue` only once every check has passed (see `continueWhenAccepted`),
 * so a refused client never sends its body at all.
 *
 * A client that sends its body without waiting (Node's fetch) gets a refusal it
 * can read: the rest of the body is read and thrown away, up to a bound, before
 * the connection may close — closing on a client that is still sending makes
 * its TCP stack discard our answer (EPIPE / ECONNRESET instead of 413).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, hashSecret } from '../../auth/tokens.ts';
import { HttpProblem } from '../problem.ts';
import type { ApiMetrics, RejectReason } from '../metrics.ts';
import type { CameraGate } from './camera-gate.ts';

export interface UploadGuardOptions {
  gate: CameraGate;
  metrics: ApiMetrics;
  maxFrameBytes: number;
  contentTypes: readonly string[];
  /**
   * How long a key that passed is not asked about again BEFORE the body. The
   * handler still checks it with Redis (authoritatively) before the frame is
   * stored, so a rotated key at worst gets its body read for this long.
   */
  recentKeyMs?: number;
  now?: () => number;
}

/** Bytes of a refused body read and discarded before the connection is cut. */
export const DISCARD_LIMIT_BYTES = 16 * 1024 * 1024;

export function createUploadGuard(opts: UploadGuardOptions) {
  const recentMs = opts.recentKeyMs ?? 2000;
  const now = opts.now ?? Date.now;
  const refuse = (reason: RejectReason, status: number, detail: string, headers?: Record<string, string>): never => {
    opts.metrics.frameReceived();
    opts.metrics.frameRejected(reason);
    throw new HttpProblem(status, detail, reason.replace(/_/g, '-'), headers);
  };

  async function keyIsValid(keyHash: string): Promise<boolean> {
    // Any admit of this instance counts (this guard's or the handler's, which runs on every accepted
    // upload): a camera sending every few seconds costs no Redis call here at all.
    const validAt = opts.gate.validAt(keyHash);
    if (validAt !== undefined && now() - validAt < recentMs) return true;
    let admission;
    try {
      admission = await opts.gate.admit(keyHash, null, 1);
    } catch {
      return refuse('queue_unavailable', 503, 'frame queue unavailable; retry later', { 'retry-after': '5' });
    }
    return admission.status !== 'unknown' && admission.status !== 'disabled';
  }

  return async function uploadGuard(request: FastifyRequest): Promise<void> {
    const key = bearerToken(request.headers.authorization);
    if (!key) return refuse('unauthorized', 401, 'camera API key required: Authorization: Bearer <key>');
    // The key first: an unauthenticated caller only ever learns "401".
    if (!(await keyIsValid(hashSecret(key)))) return refuse('unauthorized', 401, 'unknown or disabled camera API key');
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!opts.contentTypes.includes(type)) {
      return refuse('unsupported_type', 415, `Content-Type must be one of ${opts.contentTypes.join(', ')}`);
    }
    const declared = request.headers['content-length'];
    if (declared !== undefined && Number(declared) > opts.maxFrameBytes) {
      return refuse('too_large', 413, `body of ${declared} bytes; at most ${opts.maxFrameBytes} bytes allowed`);
    }
  };
}

/**
 * Reads and discards what is left of a refused request's body so the client
 * can finish sending and read the answer; past `limit` bytes, cuts the
 * connection (a client streaming forever gets nothing more from us).
 */
export function discardRest(req: IncomingMessage, limit = DISCARD_LIMIT_BYTES): void {
  if (req.complete || req.destroyed) return;
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > limit) req.socket.destroy();
  });
  req.on('error', () => undefined); // the client going away is fine here
  req.resume();
}

/** onSend for upload routes: a refused body is drained (bounded), not left to kill the client's read. */
export async function drainRefusedBody(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (reply.statusCode >= 400 && !request.raw.complete) {
    // With Expect: 100-continue and no 100 sent, the client never sends the body: Node closes the
    // connection after the answer by itself. Otherwise the body is on its way: take it, then keep going.
    if (!expectsContinue(request.raw)) {
      reply.removeHeader('connection');
      discardRest(request.raw);
    }
  }
  return payload;
}

export function expectsContinue(req: IncomingMessage): boolean {
  return /^100-continue$/i.test(String(req.headers.expect ?? '').trim());
}

const CONTINUED = Symbol('mw.continued');

/**
 * Node answers `Expect: 100-continue` with `100 Continue` before any handler
 * runs, unless a 'checkContinue' listener exists. This one hands the request to
 * the usual handlers without it; a preParsing hook (after every onRequest
 * check: rate limits, authentication, the upload guard) sends it, i.e. only
 * when the body is actually going to be read. Socket.IO's own paths (not
 * routed through Fastify) get it at once, as before.
 */
export function continueWhenAccepted(app: FastifyInstance, socketIoPath = '/socket.io/'): void {
  const server = app.server as Server;
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith(socketIoPath)) res.writeContinue();
    server.emit('request', req, res);
  });
  app.addHook('preParsing', async (request, reply, payload) => {
    const raw = reply.raw as ServerResponse & { [CONTINUED]?: boolean };
    if (expectsContinue(request.raw) && !raw[CONTINUED] && !raw.headersSent) {
      raw[CONTINUED] = true;
      raw.writeContinue();
    }
    return payload;
  });
}
