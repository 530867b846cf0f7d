/**
 * SCIM requests as directories send them (Entra ID's and Okta's own payloads), read into the changes
 * MaskWatch makes: enabled state, role, and a username that must not change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScimRequestError, changesOfPatch, changesOfResource, roleOfRoles, scimBoolean, userNameOfFilter } from '../../src/auth/scim.ts';

const refusedAs = (scimType: string, pattern?: RegExp) => (err: unknown) =>
  err instanceof ScimRequestError && err.scimType === scimType && (!pattern || pattern.test(err.message));

test('booleans: JSON ones, and the "True"/"False" strings Entra ID sends in PATCH', () => {
  assert.equal(scimBoolean(true, 'active'), true);
  assert.equal(scimBoolean('False', 'active'), false);
  assert.equal(scimBoolean('TRUE', 'active'), true);
  assert.throws(() => scimBoolean('no', 'active'), refusedAs('invalidValue', /active must be true or false/));
  assert.throws(() => scimBoolean(0, 'active'), refusedAs('invalidValue'));
});

test('roles: MaskWatch role names in any case; the primary one of several; one role per account', () => {
  assert.equal(roleOfRoles([{ value: 'Dispatcher', primary: 'True' }]), 'DISPATCHER');
  assert.equal(roleOfRoles([{ value: 'admin' }]), 'ADMIN');
  assert.equal(roleOfRoles([{ value: 'ADMIN', primary: false }, { value: 'dispatcher', primary: true }]), 'DISPATCHER');
  assert.equal(roleOfRoles([]), undefined);
  assert.throws(() => roleOfRoles([{ value: 'ADMIN' }, { value: 'DISPATCHER' }]), refusedAs('invalidValue', /one role/));
  assert.throws(() => roleOfRoles([{ value: 'Superuser' }]), refusedAs('invalidValue', /ADMIN, DISPATCHER, OFFICER/));
  assert.throws(() => roleOfRoles('ADMIN'), refusedAs('invalidValue'));
});

test('filters: userName eq "…" (the way directories match accounts), with JSON escapes; anything else is refused', () => {
  assert.equal(userNameOfFilter('userName eq "ana.garcia@police.example"'), 'ana.garcia@police.example');
  assert.equal(userNameOfFilter('USERNAME EQ "a\\"b"'), 'a"b');
  assert.equal(userNameOfFilter(undefined), undefined);
  assert.equal(userNameOfFilter('  '), undefined);
  assert.throws(() => userNameOfFilter('externalId eq "123"'), refusedAs('invalidFilter'));
  assert.throws(() => userNameOfFilter('userName sw "a"'), refusedAs('invalidFilter'));
  assert.throws(() => userNameOfFilter('userName eq "a" or userName eq "b"'), refusedAs('invalidFilter'));
});

test('a resource body: the attributes MaskWatch keeps; names, e-mails and the like are ignored', () => {
  assert.deepEqual(
    changesOfResource({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      externalId: 'ana.garcia',
      userName: ' ana.garcia@police.example ',
      active: true,
      displayName: 'Ana García',
      emails: [{ primary: true, type: 'work', value: 'ana.garcia@police.example' }],
      name: { givenName: 'Ana', familyName: 'García' },
      roles: [{ primary: 'True', type: 'WindowsAzureActiveDirectoryRole', value: 'Dispatcher' }],
    }),
    { userName: 'ana.garcia@police.example', active: true, role: 'DISPATCHER' },
  );
  assert.throws(() => changesOfResource({ userName: '' }), refusedAs('invalidValue', /userName/));
});

test('PATCH: Entra ID\'s path form, Okta\'s value form, and the app-role path; later operations win', () => {
  // Entra ID, a person unassigned from the application.
  assert.deepEqual(changesOfPatch([{ op: 'Replace', path: 'active', value: 'False' }]), { active: false });
  // Entra ID, attributes it maps by default: only the role is MaskWatch's.
  assert.deepEqual(
    changesOfPatch([
      { op: 'Add', path: 'displayName', value: 'Ana García' },
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'ana@police.example' },
      { op: 'Replace', path: 'name.familyName', value: 'García' },
      { op: 'Add', path: 'roles[primary eq "True"].value', value: 'Admin' },
    ]),
    { role: 'ADMIN' },
  );
  // Okta: one replace with an object value.
  assert.deepEqual(changesOfPatch([{ op: 'replace', value: { id: 'x', active: false } }]), { active: false });
  assert.deepEqual(changesOfPatch([{ op: 'add', path: 'roles', value: [{ value: 'dispatcher' }] }]), { role: 'DISPATCHER' });
  assert.deepEqual(changesOfPatch([{ op: 'replace', path: 'active', value: false }, { op: 'replace', path: 'active', value: true }]), { active: true });
  // A role removed keeps the role: the directory disables a person it no longer assigns.
  assert.deepEqual(changesOfPatch([{ op: 'Remove', path: 'roles[value eq "Dispatcher"]' }]), {});
  assert.throws(() => changesOfPatch([{ op: 'remove', path: 'active' }]), refusedAs('mutability'));
  assert.throws(() => changesOfPatch([{ op: 'remove' }]), refusedAs('noTarget'));
  assert.throws(() => changesOfPatch([{ op: 'move', path: 'active', value: true }]), refusedAs('invalidSyntax'));
  assert.throws(() => changesOfPatch([{ op: 'replace', value: 'False' }]), refusedAs('invalidSyntax'));
  assert.throws(() => changesOfPatch([{ op: 'replace', path: 'roles[primary eq "True"].value', value: 'Chief' }]), refusedAs('invalidValue'));
});
