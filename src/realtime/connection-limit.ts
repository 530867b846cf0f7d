import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';

/**
 * New Socket.IO connections per client IP per window (in memory, per API
 * instance, like the HTTP rate limits). Checked in engine.io's allowRequest,
 * i.e. before the handshake and before any token lookup, so a connection flood
 * costs neither a session nor a database query.
 *
 * The client IP is the peer address, or — when the peer is a configured proxy
 * (MASKWATCH_TRUST_PROXY) — the last address in X-Forwarded-For that the proxy
 * appended.
 */
export interface ConnectionLimitOptions {
  /** 0 = off. */
  maxPerWindow: number;
  windowMs: number;
  trustProxy?: readonly string[];
  now?: () => number;
}

function blockListOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, bits] = entry.split('/') as [string, string | undefined];
    const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (!isIPv4(addr) && !isIPv6(addr)) continue; // config.ts validated the shape already
    if (bits !== undefined) list.addSubnet(addr, Number(bits), type);
    else list.addAddress(addr, type);
  }
  return list;
}

const plain = (ip: string) => (ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip);

export function createConnectionLimit(opts: ConnectionLimitOptions) {
  const now = opts.now ?? Date.now;
  const trusted = blockListOf(opts.trustProxy ?? []);
  const isTrusted = (ip: string) => (isIPv4(ip) ? trusted.check(ip, 'ipv4') : isIPv6(ip) ? trusted.check(ip, 'ipv6') : false);
  const windows = new Map<string, { start: number; count: number }>();

  function clientIp(req: IncomingMessage): string {
    const peer = plain(req.socket.remoteAddress ?? '');
    if (!isTrusted(peer)) return peer;
    const forwarded = String(req.headers['x-forwarded-for'] ?? '')
      .split(',')
      .map((s) => plain(s.trim()))
      .filter(Boolean);
    // Walk back from the proxy: the first address not itself a trusted proxy is the client.
    for (let i = forwarded.length - 1; i >= 0; i--) if (!isTrusted(forwarded[i]!)) return forwarded[i]!;
    return forwarded[0] ?? peer;
  }

  return {
    clientIp,
    /** Counts a new connection of `ip`; false when it is over the limit. */
    allow(ip: string): boolean {
      if (opts.maxPerWindow <= 0) return true;
      const t = now();
      if (windows.size > 50_000) for (const [k, w] of windows) if (t - w.start >= opts.windowMs) windows.delete(k);
      const w = windows.get(ip);
      if (!w || t - w.start >= opts.windowMs) {
        windows.set(ip, { start: t, count: 1 });
        return true;
      }
      w.count += 1;
      return w.count <= opts.maxPerWindow;
    },
    /** engine.io's allowRequest: counts handshakes only (an upgrade of an existing session carries its sid). */
    allowRequest(req: IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void): void {
      if (/[?&]sid=/.test(req.url ?? '')) return callback(null, true);
      if (this.allow(clientIp(req))) return callback(null, true);
      callback('too many connections from this address; retry later', false);
    },
  };
}

export type ConnectionLimit = ReturnType<typeof createConnectionLimit>;
