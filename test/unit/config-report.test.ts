import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfigOrReport, zonesInSettings } from '../../src/config/config.ts';
import { redactUrl } from '../../src/db/url.ts';

test('loadConfigOrReport: an invalid setting is one readable line and null; a valid one gives the config', () => {
  const lines: string[] = [];
  const err = { write: (s: string) => lines.push(s) };
  assert.equal(loadConfigOrReport(err, { MASKWATCH_INCORRECT_MASK: 'sometimes' }), null);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^maskwatch: invalid configuration: .*MASKWATCH_INCORRECT_MASK.*sometimes.*\n$/);

  const config = loadConfigOrReport(err, { MASKWATCH_INCORRECT_MASK: 'ignore' });
  assert.equal(config?.vision.incorrectMaskPolicy, 'ignore');
  assert.equal(lines.length, 1, 'nothing written for a valid configuration');
});

test('loadConfigOrReport: an invalid DATABASE_URL or REDIS_URL is reported without its password', () => {
  // [variable, value, what the line shows of it (null: only a reason)]
  const cases: [string, string, string | null][] = [
    ['DATABASE_URL', 'postgresql://maskwatch:S3cretPass@db.internal:54a2/maskwatch', 'postgresql://maskwatch:***@db.internal:54a2/maskwatch'],
    ['DATABASE_URL', 'postgresql://maskwatch:S3cr/et@Pass@db.internal:54a2/maskwatch', 'postgresql://maskwatch:***@db.internal:54a2/maskwatch'],
    ['REDIS_URL', 'redis://:S3cretPass@redis.internal:63x9', 'redis://:***@redis.internal:63x9'],
    ['REDIS_URL', 'redis+sentinel://u:S3cret@Pass@s1:26379/mymaster', null],
  ];
  for (const [name, value, shown] of cases) {
    const lines: string[] = [];
    assert.equal(loadConfigOrReport({ write: (s: string) => lines.push(s) }, { [name]: value }), null, value);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, new RegExp(`^maskwatch: invalid configuration: ${name}: `));
    if (shown !== null) assert.ok(lines[0]!.includes(shown), lines[0]);
    assert.doesNotMatch(lines[0]!, /S3cr|Pass|et@/, lines[0]);
  }
});

test('single sign-on settings: off by default, https issuers (http only on this host), a client id required', () => {
  const silent = { write: () => undefined };
  assert.equal(loadConfigOrReport(silent, {})?.security.sso, null);
  assert.equal(loadConfigOrReport(silent, { MASKWATCH_SSO_ISSUER: '' })?.security.sso, null);
  assert.deepEqual(loadConfigOrReport(silent, { MASKWATCH_SSO_ISSUER: 'https://login.example.org/realms/police', MASKWATCH_SSO_CLIENT_ID: 'maskwatch' })?.security.sso, {
    issuer: 'https://login.example.org/realms/police',
    clientId: 'maskwatch',
    clientSecret: null,
    usernameClaim: 'preferred_username',
    label: 'Sign in with your agency account',
    requiredRoles: [],
    sessionHours: 12,
    groups: null,
  });
  const behindProxy = { MASKWATCH_SSO_ISSUER: 'https://login.example.org', MASKWATCH_SSO_CLIENT_ID: 'm', MASKWATCH_PUBLIC_URL: 'https://dispatch.example.org/' };
  assert.equal(loadConfigOrReport(silent, behindProxy)?.security.publicUrl, 'https://dispatch.example.org');
  assert.equal(loadConfigOrReport(silent, { MASKWATCH_PUBLIC_URL: 'https://dispatch.example.org' })?.security.publicUrl, 'https://dispatch.example.org', 'security keys need it without single sign-on');
  assert.deepEqual(loadConfigOrReport(silent, { ...behindProxy, MASKWATCH_SSO_REQUIRED: 'dispatcher,OFFICER' })?.security.sso?.requiredRoles, ['DISPATCHER', 'OFFICER']);
  assert.equal(loadConfigOrReport(silent, { MASKWATCH_SSO_ISSUER: 'http://127.0.0.1:8080', MASKWATCH_SSO_CLIENT_ID: 'm' })?.security.sso?.issuer, 'http://127.0.0.1:8080');
  // Directory groups: JSON objects of role or zone → group or [groups], as the provider sends them (a DN has commas).
  assert.deepEqual(
    loadConfigOrReport(silent, {
      ...behindProxy,
      MASKWATCH_SSO_ROLE_GROUPS: '{"DISPATCHER": "CN=MW Dispatch,OU=Groups,DC=metro,DC=police", "OFFICER": ["/patrol", " /traffic "]}',
      MASKWATCH_SSO_ZONE_GROUPS: '{"Centro": "mw-centro", "*": ["mw-city"]}',
      MASKWATCH_SSO_GROUPS_CLAIM: 'roles',
    })?.security.sso?.groups,
    { claim: 'roles', roles: { DISPATCHER: ['CN=MW Dispatch,OU=Groups,DC=metro,DC=police'], OFFICER: ['/patrol', '/traffic'] }, zones: { Centro: ['mw-centro'], '*': ['mw-city'] }, createAccounts: false },
  );
  assert.deepEqual(loadConfigOrReport(silent, { ...behindProxy, MASKWATCH_SSO_ZONE_GROUPS: '{"Sur": "g"}' })?.security.sso?.groups, { claim: 'groups', roles: null, zones: { Sur: ['g'] }, createAccounts: false });
  assert.equal(loadConfigOrReport(silent, { ...behindProxy, MASKWATCH_SSO_ROLE_GROUPS: '{"ADMIN": "a"}', MASKWATCH_SSO_CREATE_ACCOUNTS: 'true' })?.security.sso?.groups?.createAccounts, true);
  assert.equal(loadConfigOrReport(silent, { MASKWATCH_SSO_CREATE_ACCOUNTS: 'false' })?.security.sso, null);
  // SCIM provisioning: the token's hash (any case), and the roles it may give (DISPATCHER unless said).
  const hash = 'AB'.repeat(32);
  assert.deepEqual(loadConfigOrReport(silent, { MASKWATCH_SCIM_TOKEN_SHA256: hash })?.security.scim, { tokenSha256: hash.toLowerCase(), roles: ['DISPATCHER'] });
  assert.deepEqual(loadConfigOrReport(silent, { MASKWATCH_SCIM_TOKEN_SHA256: hash, MASKWATCH_SCIM_ROLES: 'admin,dispatcher' })?.security.scim?.roles, ['ADMIN', 'DISPATCHER']);
  assert.equal(loadConfigOrReport(silent, {})?.security.scim, null);
  // The sign-in notice: inline or from a file, in one form; its version follows the text.
  const notice = loadConfigOrReport(silent, { MASKWATCH_SIGN_IN_NOTICE: '  Law enforcement system.  \r\nUse is monitored.\n\n' })?.security.signInNotice;
  assert.equal(notice?.text, 'Law enforcement system.\nUse is monitored.');
  assert.match(notice?.version ?? '', /^[0-9a-f]{16}$/);
  assert.equal(loadConfigOrReport(silent, { MASKWATCH_SIGN_IN_NOTICE: 'Law enforcement system.\nUse is monitored.' })?.security.signInNotice?.version, notice?.version);
  assert.notEqual(loadConfigOrReport(silent, { MASKWATCH_SIGN_IN_NOTICE: 'Law enforcement system.\nUse is logged.' })?.security.signInNotice?.version, notice?.version);
  assert.equal(loadConfigOrReport(silent, { MASKWATCH_SIGN_IN_NOTICE: ' \n ' })?.security.signInNotice, null);
  // Zones the settings name, for Admin › Zones ("*" is every zone, not a zone).
  const named = loadConfigOrReport(silent, {
    ...behindProxy,
    MASKWATCH_SSO_ZONE_GROUPS: '{"Centro": "g1", "*": "g2"}',
    MASKWATCH_WEBHOOKS: JSON.stringify([{ name: 'cad', url: 'https://cad.example.org/hook', secret: 'a webhook secret of 32 characters!', zones: ['Sur'] }]),
  })!;
  assert.deepEqual(zonesInSettings(named), [
    { zone: 'Centro', by: 'MASKWATCH_SSO_ZONE_GROUPS' },
    { zone: 'Sur', by: 'MASKWATCH_WEBHOOKS target cad' },
  ]);
  const refused: [Record<string, string>, RegExp][] = [
    [{ MASKWATCH_SSO_ISSUER: 'http://login.example.org', MASKWATCH_SSO_CLIENT_ID: 'm' }, /MASKWATCH_SSO_ISSUER: must be an https URL/],
    [{ MASKWATCH_SSO_ISSUER: 'login.example.org', MASKWATCH_SSO_CLIENT_ID: 'm' }, /MASKWATCH_SSO_ISSUER: "login.example.org" is not a URL/],
    [{ MASKWATCH_SSO_ISSUER: 'https://login.example.org' }, /MASKWATCH_SSO_CLIENT_ID: is required with MASKWATCH_SSO_ISSUER/],
    [{ MASKWATCH_SSO_ISSUER: 'https://login.example.org', MASKWATCH_SSO_CLIENT_ID: 'm', MASKWATCH_SSO_USERNAME_CLAIM: 'a b' }, /MASKWATCH_SSO_USERNAME_CLAIM/],
    [{ MASKWATCH_SSO_ISSUER: 'https://login.example.org', MASKWATCH_SSO_CLIENT_ID: 'm', MASKWATCH_PUBLIC_URL: 'https://dispatch.example.org/maskwatch' }, /MASKWATCH_PUBLIC_URL/],
    [{ MASKWATCH_SSO_REQUIRED: 'DISPATCHER' }, /MASKWATCH_SSO_REQUIRED: needs MASKWATCH_SSO_ISSUER/],
    [{ MASKWATCH_SSO_ISSUER: 'https://login.example.org', MASKWATCH_SSO_CLIENT_ID: 'm', MASKWATCH_SSO_REQUIRED: 'PILOT' }, /MASKWATCH_SSO_REQUIRED: must be none, all or roles/],
    [{ MASKWATCH_SSO_ZONE_GROUPS: '{"Centro":"g"}' }, /MASKWATCH_SSO_ZONE_GROUPS: needs MASKWATCH_SSO_ISSUER/],
    [{ MASKWATCH_SSO_CREATE_ACCOUNTS: 'yes' }, /MASKWATCH_SSO_CREATE_ACCOUNTS: needs MASKWATCH_SSO_ISSUER/],
    [{ ...behindProxy, MASKWATCH_SSO_ZONE_GROUPS: '{"Centro":"g"}', MASKWATCH_SSO_CREATE_ACCOUNTS: 'true' }, /MASKWATCH_SSO_CREATE_ACCOUNTS: needs MASKWATCH_SSO_ROLE_GROUPS/],
    [{ ...behindProxy, MASKWATCH_SSO_ROLE_GROUPS: 'DISPATCHER=mw-dispatch' }, /MASKWATCH_SSO_ROLE_GROUPS: must be a JSON object/],
    [{ ...behindProxy, MASKWATCH_SSO_ROLE_GROUPS: '["mw-dispatch"]' }, /MASKWATCH_SSO_ROLE_GROUPS: must be a JSON object/],
    [{ ...behindProxy, MASKWATCH_SSO_ROLE_GROUPS: '{"PILOT":"mw-air"}' }, /MASKWATCH_SSO_ROLE_GROUPS: "PILOT" is not a role/],
    [{ ...behindProxy, MASKWATCH_SSO_ROLE_GROUPS: '{"OFFICER":[]}' }, /MASKWATCH_SSO_ROLE_GROUPS: "OFFICER" needs a group name/],
    [{ ...behindProxy, MASKWATCH_SSO_ZONE_GROUPS: '{" Centro":"g"}' }, /MASKWATCH_SSO_ZONE_GROUPS: " Centro" is not a zone name/],
    [{ ...behindProxy, MASKWATCH_SSO_ZONE_GROUPS: '{"Centro":"g"}', MASKWATCH_SSO_GROUPS_CLAIM: 'a b' }, /MASKWATCH_SSO_GROUPS_CLAIM/],
    [{ MASKWATCH_SIGN_IN_NOTICE_FILE: '/nonexistent/notice.txt' }, /MASKWATCH_SIGN_IN_NOTICE_FILE: cannot read \/nonexistent\/notice.txt: ENOENT/],
    [{ MASKWATCH_SIGN_IN_NOTICE: 'a', MASKWATCH_SIGN_IN_NOTICE_FILE: 'notice.txt' }, /set either MASKWATCH_SIGN_IN_NOTICE or MASKWATCH_SIGN_IN_NOTICE_FILE, not both/],
    [{ MASKWATCH_SIGN_IN_NOTICE: 'x'.repeat(4001) }, /MASKWATCH_SIGN_IN_NOTICE: is 4001 characters; at most 4000/],
    [{ MASKWATCH_SCIM_TOKEN_SHA256: 'mwscim_the-token-itself' }, /MASKWATCH_SCIM_TOKEN_SHA256: must be the SHA-256 of the token/],
    [{ MASKWATCH_SCIM_ROLES: 'DISPATCHER' }, /MASKWATCH_SCIM_ROLES: needs MASKWATCH_SCIM_TOKEN_SHA256/],
    [{ MASKWATCH_SCIM_TOKEN_SHA256: 'ab'.repeat(32), MASKWATCH_SCIM_ROLES: 'DISPATCHER,OFFICER' }, /MASKWATCH_SCIM_ROLES: cannot include OFFICER/],
  ];
  for (const [env, message] of refused) {
    const lines: string[] = [];
    assert.equal(loadConfigOrReport({ write: (s: string) => lines.push(s) }, env), null, JSON.stringify(env));
    assert.match(lines[0] ?? '', message);
  }
});

test('MASKWATCH_SECURITY_KEY_REQUIRED: its roles must also have two-factor sign-in, and browsers must be able to add keys at MASKWATCH_PUBLIC_URL', () => {
  const silent = { write: () => undefined };
  assert.deepEqual(loadConfigOrReport(silent, {})?.security.mfa, { requiredRoles: [], securityKeyRoles: [] });
  assert.deepEqual(loadConfigOrReport(silent, { MASKWATCH_MFA_REQUIRED: 'DISPATCHER', MASKWATCH_SECURITY_KEY_REQUIRED: 'admin' })?.security.mfa, {
    requiredRoles: ['DISPATCHER', 'ADMIN'],
    securityKeyRoles: ['ADMIN'],
  });
  for (const url of ['https://dispatch.example.org', 'http://localhost:3000']) {
    assert.deepEqual(loadConfigOrReport(silent, { MASKWATCH_SECURITY_KEY_REQUIRED: 'ADMIN', MASKWATCH_PUBLIC_URL: url })?.security.mfa.securityKeyRoles, ['ADMIN'], url);
  }
  for (const url of ['http://dispatch.example.org', 'https://10.0.0.5', 'http://127.0.0.1:3000', 'https://[::1]']) {
    const lines: string[] = [];
    assert.equal(loadConfigOrReport({ write: (s: string) => lines.push(s) }, { MASKWATCH_SECURITY_KEY_REQUIRED: 'ADMIN', MASKWATCH_PUBLIC_URL: url }), null, url);
    assert.match(lines[0] ?? '', /MASKWATCH_SECURITY_KEY_REQUIRED: browsers add security keys only over https and at a host name/);
  }
  const lines: string[] = [];
  assert.equal(loadConfigOrReport({ write: (s: string) => lines.push(s) }, { MASKWATCH_SECURITY_KEY_REQUIRED: 'CHIEF' }), null);
  assert.match(lines[0] ?? '', /MASKWATCH_SECURITY_KEY_REQUIRED: must be none, all or roles/);
});

test('redactUrl masks credentials, also of URLs that do not parse and in secret query parameters', () => {
  assert.equal(redactUrl('postgresql://user:secret@h/db'), 'postgresql://user:***@h/db');
  assert.equal(redactUrl('postgresql://user@h/db'), 'postgresql://***@h/db');
  assert.equal(redactUrl('postgresql://h:5432/db'), 'postgresql://h:5432/db');
  assert.equal(redactUrl('redis://:pw@h:6379'), 'redis://:***@h:6379');
  assert.equal(redactUrl('postgresql://u:p@ss:w/rd@h:5x/db'), 'postgresql://u:***@h:5x/db');
  assert.equal(redactUrl('postgresql://h/db?password=pw&sslmode=require'), 'postgresql://h/db?password=***&sslmode=require');
  assert.equal(redactUrl('redis+sentinel://s1,s2/m?sentinelPassword=pw'), 'redis+sentinel://s1,s2/m?sentinelPassword=***');
  assert.equal(redactUrl('file:/var/lib/maskwatch/maskwatch.db'), 'file:/var/lib/maskwatch/maskwatch.db');
});
