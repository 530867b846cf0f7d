/**
 * The audit trail's hash chain: each seal hashes its segment's events, in
 * (at, id) order, onto the previous seal's hash, and signs the result with a
 * key kept out of the database. Pure: events, hashes and keys come in.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The chain's start, before the first seal. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainEvent {
  id: string;
  at: Date;
  actorType: string;
  actorId: string | null;
  actorRole: string | null;
  action: string;
  subjectType: string;
  subjectId: string | null;
  /** The stored JSON text, as stored: any change to it changes the hash. */
  details: string | null;
}

export interface SealFields {
  seq: number;
  fromAt: Date;
  toAt: Date;
  toId: string;
  count: number;
  hash: string;
}

/** Every field of an event, in a fixed order and form. */
export function canonicalEvent(e: ChainEvent): string {
  return JSON.stringify([e.id, e.at.toISOString(), e.actorType, e.actorId, e.actorRole, e.action, e.subjectType, e.subjectId, e.details]);
}

/** Hashes a segment onto `previousHash`, event by event (segments are read in pages). */
export function chainHasher(previousHash: string) {
  const hash = createHash('sha256').update(previousHash);
  let count = 0;
  return {
    add(e: ChainEvent): void {
      hash.update('\n').update(canonicalEvent(e));
      count++;
    },
    get count(): number {
      return count;
    },
    digest(): string {
      return hash.digest('hex');
    },
  };
}

/** The seal's signature: whoever lacks the key cannot make a recomputed seal look genuine. */
export function sealMac(key: Buffer, seal: SealFields): string {
  return createHmac('sha256', key)
    .update(JSON.stringify([seal.seq, seal.fromAt.toISOString(), seal.toAt.toISOString(), seal.toId, seal.count, seal.hash]))
    .digest('hex');
}

export function sealMacValid(key: Buffer, seal: SealFields & { mac: string }): boolean {
  const expected = Buffer.from(sealMac(key, seal), 'hex');
  const given = Buffer.from(seal.mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
