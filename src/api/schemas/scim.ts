/**
 * The SCIM 2.0 shapes of /scim/v2 (RFC 7643, RFC 7644), as TypeBox schemas: Fastify validates and serialises
 * with them and the OpenAPI document shows them. Only the provisioning client uses these, not the dashboard.
 */
import { Type, type Static } from 'typebox';
import { ROLES } from '../../contracts/vocabulary.ts';
import { SCIM_ERROR_SCHEMA, SCIM_LIST_SCHEMA, SCIM_PATCH_SCHEMA, SCIM_USER_SCHEMA } from '../../auth/scim.ts';

export const SCIM_CONTENT_TYPE = 'application/scim+json';

const Schemas = (urn: string) => Type.Array(Type.String(), { examples: [[urn]] });

/** A user as MaskWatch answers it: `roles` holds the one MaskWatch role. */
export const ScimUserSchema = Type.Object({
  schemas: Schemas(SCIM_USER_SCHEMA),
  id: Type.String(),
  userName: Type.String(),
  active: Type.Boolean(),
  roles: Type.Array(Type.Object({ value: Type.Unsafe<string>({ type: 'string', enum: [...ROLES] }), primary: Type.Boolean() })),
  meta: Type.Object({ resourceType: Type.Literal('User'), created: Type.String({ format: 'date-time' }), location: Type.String() }),
});
export type ScimUser = Static<typeof ScimUserSchema>;

export const ScimListSchema = Type.Object({
  schemas: Schemas(SCIM_LIST_SCHEMA),
  totalResults: Type.Integer(),
  startIndex: Type.Integer(),
  itemsPerPage: Type.Integer(),
  Resources: Type.Array(ScimUserSchema),
});

/** A `roles` entry: Entra ID sends `primary` as the string "True". */
const RoleInput = Type.Object({ value: Type.String({ maxLength: 64 }), primary: Type.Optional(Type.Union([Type.Boolean(), Type.String({ maxLength: 5 })])) });

/** POST and PUT bodies: the attributes MaskWatch acts on; others (names, e-mails) are accepted and not stored. */
export const ScimUserInputSchema = Type.Object(
  {
    userName: Type.String({ minLength: 1, maxLength: 256 }),
    active: Type.Optional(Type.Union([Type.Boolean(), Type.String({ maxLength: 5 })])),
    roles: Type.Optional(Type.Array(RoleInput, { maxItems: 20 })),
  },
  { additionalProperties: true },
);
export type ScimUserInput = Static<typeof ScimUserInputSchema>;

export const ScimPatchSchema = Type.Object(
  {
    schemas: Type.Optional(Schemas(SCIM_PATCH_SCHEMA)),
    Operations: Type.Array(
      Type.Object({ op: Type.String({ maxLength: 16 }), path: Type.Optional(Type.String({ maxLength: 512 })), value: Type.Optional(Type.Unknown()) }, { additionalProperties: true }),
      { minItems: 1, maxItems: 100 },
    ),
  },
  { additionalProperties: true },
);
export type ScimPatch = Static<typeof ScimPatchSchema>;

export const ScimListQuerySchema = Type.Object({
  filter: Type.Optional(Type.String({ maxLength: 512 })),
  startIndex: Type.Integer({ minimum: 1, default: 1 }),
  count: Type.Integer({ minimum: 0, maximum: 200, default: 100 }),
});
export type ScimListQuery = Static<typeof ScimListQuerySchema>;

export const ScimErrorSchema = Type.Object({
  schemas: Schemas(SCIM_ERROR_SCHEMA),
  status: Type.String({ description: 'the HTTP status, as a string (RFC 7644 §3.12)' }),
  scimType: Type.Optional(Type.String()),
  detail: Type.String(),
});
export type ScimError = Static<typeof ScimErrorSchema>;

/** `response` entries with their media type, as sent. */
export const scimResponse = (description: string, schema: object) => ({ description, content: { [SCIM_CONTENT_TYPE]: { schema } } });
export const scimErrorResponses = { '4xx': scimResponse('SCIM error', ScimErrorSchema), '5xx': scimResponse('SCIM error', ScimErrorSchema) } as const;
