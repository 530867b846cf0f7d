import { test } from 'node:test';
import assert from 'node:assert/strict';
import { socketDropReason } from '../../src/realtime/session-watch.ts';
import { parseLifecycleArgs } from '../../src/cli/commands/user-lifecycle.ts';
import type { AuthUser } from '../../src/auth/roles.ts';
import type { SessionState } from '../../src/db/repositories/sessions.ts';

const now = new Date('2026-12-02T12:00:00Z');
const user: AuthUser = { id: 'u1', username: 'o', role: 'OFFICER', unitId: 'unit-a', zones: [], sessionId: 's1', sessionExpiresAt: new Date(now.getTime() + 60_000) };
const state = (over: Partial<Omit<SessionState, 'user'>> & { user?: Partial<SessionState['user']> } = {}): SessionState => ({
  id: 's1',
  signInMethod: 'password',
  expiresAt: new Date(now.getTime() + 60_000),
  revokedAt: null,
  ...over,
  user: { id: 'u1', role: 'OFFICER', unitId: 'unit-a', zones: null, disabled: false, mustChangePassword: false, ...over.user },
});

test('a socket stays only while its session holds with the same role and unit', () => {
  assert.equal(socketDropReason(user, state(), now), null);
  assert.equal(socketDropReason({ ...user, sessionExpiresAt: now }, state(), now), 'session expired');
  assert.equal(socketDropReason(user, undefined, now), 'session unknown');
  assert.equal(socketDropReason(user, state({ revokedAt: now }), now), 'session revoked');
  assert.equal(socketDropReason(user, state({ expiresAt: new Date(now.getTime() - 1) }), now), 'session expired');
  assert.equal(socketDropReason(user, state({ user: { disabled: true } }), now), 'user disabled');
  assert.equal(socketDropReason(user, state({ user: { unitId: 'unit-b' } }), now), 'role, unit or zones changed');
  assert.equal(socketDropReason(user, state({ user: { role: 'DISPATCHER' } }), now), 'role, unit or zones changed');
  // A dispatcher's zones decide which alerts their socket's rooms carry: a change drops the socket; the same set in another order does not.
  const dispatcher: AuthUser = { ...user, role: 'DISPATCHER', unitId: null, zones: ['Centro', 'Norte'] };
  const dispatcherState = (zones: string | null) => state({ user: { role: 'DISPATCHER', unitId: null, zones } });
  assert.equal(socketDropReason(dispatcher, dispatcherState('["Norte","Centro"]'), now), null);
  assert.equal(socketDropReason(dispatcher, dispatcherState('["Centro"]'), now), 'role, unit or zones changed');
  assert.equal(socketDropReason(dispatcher, dispatcherState(null), now), 'role, unit or zones changed');
  assert.equal(socketDropReason(user, state({ user: { mustChangePassword: true } }), now), 'password change required');
  // A single sign-on session is not held to MaskWatch's own password.
  assert.equal(socketDropReason(user, state({ signInMethod: 'sso', user: { mustChangePassword: true } }), now), null);
});

test('users lifecycle arguments: what each subcommand takes, and clear refusals', () => {
  assert.deepEqual(parseLifecycleArgs('disable', ['walker']), { command: 'disable', username: 'walker', passwordStdin: false, mustChange: false });
  assert.equal(parseLifecycleArgs('set-role', ['w', 'officer', '--unit', 'A-1']).role, 'OFFICER');
  assert.equal(parseLifecycleArgs('set-role', ['w', 'officer', '--unit', 'A-1']).unit, 'A-1');
  assert.equal(parseLifecycleArgs('set-unit', ['w', '--none']).unit, null);
  assert.equal(parseLifecycleArgs('set-unit', ['w', 'B-2']).unit, 'B-2');
  assert.equal(parseLifecycleArgs('reset-password', ['w', '--password-stdin', '--must-change']).mustChange, true);
  assert.throws(() => parseLifecycleArgs('delete', []), /USERNAME is required/);
  assert.throws(() => parseLifecycleArgs('delete', ['a', 'b']), /unexpected argument "b"/);
  assert.throws(() => parseLifecycleArgs('set-unit', ['w', 'B-2', '--none']), /not both/);
  assert.throws(() => parseLifecycleArgs('set-unit', ['w', 'bad unit']), /call sign/);
  assert.throws(() => parseLifecycleArgs('revoke-sessions', ['w', '--must-change']), /does not apply/);
});
