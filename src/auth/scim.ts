/**
 * SCIM 2.0 (RFC 7643, RFC 7644) as the agency directory's provisioning service speaks it (Entra ID, Okta,
 * Keycloak's SCIM plugins): the parts MaskWatch acts on, read out of its requests. Pure: the provisioning
 * service applies the answers. MaskWatch keeps a username, a role and whether the account is enabled; the
 * other attributes a directory sends (names, e-mail, department) are accepted and not stored.
 */
import { ROLES, type Role } from '../contracts/vocabulary.ts';

export const SCIM_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCIM_PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12's error types MaskWatch answers with. */
export type ScimErrorType = 'invalidFilter' | 'invalidValue' | 'invalidSyntax' | 'mutability' | 'uniqueness' | 'noTarget';

/** A request MaskWatch cannot act on, with the SCIM error type the directory logs. */
export class ScimRequestError extends Error {
  constructor(
    readonly scimType: ScimErrorType,
    message: string,
  ) {
    super(message);
    this.name = 'ScimRequestError';
  }
}

/** What a request asks of an account: each field absent where it asks nothing of it. */
export interface ScimUserChanges {
  userName?: string;
  active?: boolean;
  role?: Role;
}

/** A `roles` entry as directories send it (Entra ID: the app role's value, `primary` as a string). */
export interface ScimRole {
  value?: unknown;
  primary?: unknown;
}

/** SCIM booleans: Entra ID sends "True" and "False" as strings in PATCH operations. */
export function scimBoolean(value: unknown, attribute: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw new ScimRequestError('invalidValue', `${attribute} must be true or false, got ${JSON.stringify(value)}`);
}

/** A role value: MaskWatch's role names, in any case (the directory's app roles are given these values). */
export function scimRole(value: unknown): Role {
  const name = typeof value === 'string' ? value.trim().toUpperCase() : '';
  const role = ROLES.find((r) => r === name);
  if (!role) throw new ScimRequestError('invalidValue', `a role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(value)}`);
  return role;
}

/** The role of a `roles` list: the primary entry's, or the only one's; undefined for an empty list. */
export function roleOfRoles(roles: unknown): Role | undefined {
  if (!Array.isArray(roles)) throw new ScimRequestError('invalidValue', 'roles must be a list of {value}');
  const entries = roles as ScimRole[];
  if (entries.length === 0) return undefined;
  const primary = entries.filter((r) => r?.primary !== undefined && scimBoolean(r.primary, 'roles.primary'));
  const chosen = primary.length === 1 ? primary : entries;
  if (chosen.length > 1) throw new ScimRequestError('invalidValue', 'a MaskWatch account has one role: send one, or mark one primary');
  return scimRole(chosen[0]?.value);
}

/** The filter of GET /Users: MaskWatch answers `userName eq "…"`, the one directories match accounts by. */
export function userNameOfFilter(filter: string | undefined): string | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  const match = /^\s*userName\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(filter);
  if (!match) throw new ScimRequestError('invalidFilter', `only userName eq "…" filters are supported, got ${JSON.stringify(filter.slice(0, 200))}`);
  return JSON.parse(`"${match[1]}"`) as string;
}

/** The attributes of a resource body (POST, PUT, or a PATCH operation without a path) MaskWatch acts on. */
export function changesOfResource(body: Record<string, unknown>): ScimUserChanges {
  const changes: ScimUserChanges = {};
  for (const [key, value] of Object.entries(body)) {
    const attribute = key.toLowerCase();
    if (attribute === 'username') {
      if (typeof value !== 'string' || value.trim() === '') throw new ScimRequestError('invalidValue', 'userName must be a non-empty string');
      changes.userName = value.trim();
    } else if (attribute === 'active') changes.active = scimBoolean(value, 'active');
    else if (attribute === 'roles') {
      const role = roleOfRoles(value);
      if (role) changes.role = role;
    }
  }
  return changes;
}

/** One operation of a PATCH request (RFC 7644 §3.5.2). */
export interface ScimPatchOperation {
  op: string;
  path?: string;
  value?: unknown;
}

/** Entra ID's path for the app role (`SingleAppRoleAssignment`), and the general one. */
const ROLE_VALUE_PATH = /^roles\[\s*primary\s+eq\s+"?true"?\s*\]\.value$/i;

/**
 * A PATCH request's operations as the changes they make, in order (a later operation wins). `remove` of a role
 * keeps the role: an account always has one, and a directory that stops assigning the application disables
 * the account (active false) instead.
 */
export function changesOfPatch(operations: readonly ScimPatchOperation[]): ScimUserChanges {
  let changes: ScimUserChanges = {};
  for (const operation of operations) {
    const op = operation.op.toLowerCase();
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw new ScimRequestError('invalidSyntax', `op must be add, replace or remove, got ${JSON.stringify(operation.op)}`);
    const path = operation.path?.trim();
    if (op === 'remove') {
      if (!path) throw new ScimRequestError('noTarget', 'remove needs a path');
      if (/^(active|username)$/i.test(path)) throw new ScimRequestError('mutability', `${path} cannot be removed`);
      continue;
    }
    if (!path) {
      if (typeof operation.value !== 'object' || operation.value === null || Array.isArray(operation.value)) {
        throw new ScimRequestError('invalidSyntax', `${operation.op} without a path needs an object value`);
      }
      changes = { ...changes, ...changesOfResource(operation.value as Record<string, unknown>) };
    } else if (ROLE_VALUE_PATH.test(path)) {
      changes.role = scimRole(operation.value);
    } else if (!/[[.]/.test(path)) {
      // One attribute by name; those MaskWatch keeps nothing of fall through as accepted and ignored.
      changes = { ...changes, ...changesOfResource({ [path]: operation.value }) };
    }
  }
  return changes;
}
