/**
 * Access from the agency directory's groups (single sign-on): which role, and which zones a dispatcher
 * watches, the groups of a person's sign-on give them. Pure: the sign-on service applies the answer.
 */
import { ROLES, type Role } from '../contracts/vocabulary.ts';

/** The zone "every zone": its groups give a dispatcher the whole city. */
export const EVERY_ZONE = '*';

/** MASKWATCH_SSO_GROUPS_CLAIM, MASKWATCH_SSO_ROLE_GROUPS, MASKWATCH_SSO_ZONE_GROUPS. */
export interface DirectoryGroupMap {
  /** The claim that lists a person's groups (default `groups`). */
  claim: string;
  /** Role → the groups that give it. null: roles are set in MaskWatch. */
  roles: Partial<Record<Role, readonly string[]>> | null;
  /** Zone (or EVERY_ZONE) → the groups that give it to a dispatcher. null: zones are set in MaskWatch. */
  zones: Readonly<Record<string, readonly string[]>> | null;
  /** MASKWATCH_SSO_CREATE_ACCOUNTS: a person of a role group without an account gets one at their first sign-on (needs `roles`). */
  createAccounts: boolean;
}

/** What the groups decide: a role and zones (null where MaskWatch's own setting stays), or a refusal. */
export type DirectoryAccess = { ok: true; role: Role | null; zones: string[] | null } | { ok: false; why: string };

/**
 * The access a person's groups give. Several role groups: the highest role. A dispatcher's zones are
 * every zone their groups name (EVERY_ZONE: all, stored as no limit). Fails closed: with a map set, no
 * group of it means no access, rather than a default that might be too wide.
 */
export function accessFromGroups(map: DirectoryGroupMap, groups: readonly string[], currentRole: Role): DirectoryAccess {
  const member = new Set(groups);
  const inAny = (wanted: readonly string[] | undefined) => (wanted ?? []).some((g) => member.has(g));
  let role: Role | null = null;
  if (map.roles) {
    role = ROLES.find((r) => inAny(map.roles![r])) ?? null;
    if (!role) return { ok: false, why: 'no group of the directory gives a MaskWatch role' };
  }
  if (!map.zones || (role ?? currentRole) !== 'DISPATCHER') return { ok: true, role, zones: null };
  if (inAny(map.zones[EVERY_ZONE])) return { ok: true, role, zones: [] };
  const zones = Object.keys(map.zones)
    .filter((zone) => zone !== EVERY_ZONE && inAny(map.zones![zone]))
    .sort();
  if (zones.length === 0) return { ok: false, why: 'no group of the directory gives the dispatcher a zone' };
  return { ok: true, role, zones };
}

/** A groups claim as providers send it: an array of names (or ids), or one name; anything else is none. */
export function groupsOfClaim(value: unknown): string[] | null {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string');
  return null;
}
