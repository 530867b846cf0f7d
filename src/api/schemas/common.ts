/** Shared schema fragments (they also become the OpenAPI document); request bodies and response shapes are in src/contracts/api.ts. */
import { Type, type Static } from 'typebox';
import { RoleSchema } from '../../contracts/api.ts';

export const uuidParam = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) },
  { additionalProperties: false },
);
export type UuidParam = Static<typeof uuidParam>;

/** `/…/:id/sessions/:sessionId`: a user's id and one of their sessions'. */
export const userSessionParam = Type.Object({ id: uuidParam.properties.id, sessionId: uuidParam.properties.id }, { additionalProperties: false });
export type UserSessionParam = Static<typeof userSessionParam>;

/** A query string as its handler sees it: Ajv (useDefaults) has filled in the properties `K` that have a default. */
export type Defaulted<T, K extends keyof T> = T & Required<Pick<T, K>>;

export const roleEnum = RoleSchema;

export const nullableString = { type: ['string', 'null'] } as const;

export const dateTime = { type: 'string', format: 'date-time' } as const;

export const bearerSecurity = [{ bearerAuth: [] }];
