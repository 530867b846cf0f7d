/**
 * Silent cameras (an enabled camera that has sent frames, none for MASKWATCH_CAMERA_SILENT_S) over the real API:
 * counted by state and aged per camera in /metrics for an operator's alerting, and the limit handed to the
 * dashboard, which marks them (Admin › Cameras, the dispatcher's map; test/e2e/shift-console.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

for (const provider of testProviders()) {
  describe(`silent cameras (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let admin: string;
    const ids: Record<string, string> = {};

    before(async () => {
      stack = await createTestStack(provider);
      api = await stack.startApi({ config: { cameraSilentSeconds: 120 } });
      admin = (await loginAs(api, { username: 'chief', role: 'ADMIN' })).token;
      const now = Date.now();
      const cameras: [string, boolean, Date | null][] = [
        ['quiet', true, new Date(now - 600_000)],
        ['busy', true, new Date(now - 5_000)],
        ['new', true, null],
        ['off', false, new Date(now - 600_000)],
      ];
      for (const [name, enabled, lastFrameAt] of cameras) {
        const cam = await stack.db.prisma.camera.create({ data: { name, enabled, lastFrameAt, latitude: 0, longitude: 0, apiKeyHash: `${provider}-${name}`, apiKeyHint: 'xxxx' } });
        ids[name] = cam.id;
      }
    });
    after(() => stack.close());

    test('/metrics counts cameras by state and gives each enabled camera the age of its last frame', async () => {
      const res = await fetch(`${api.url}/metrics`);
      assert.equal(res.status, 200);
      const text = await res.text();
      const value = (series: string) => {
        const m = new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
        assert.ok(m, `missing ${series}`);
        return Number(m[1]);
      };
      assert.deepEqual(
        ['live', 'silent', 'no_frame', 'disabled'].map((state) => value(`maskwatch_cameras{state="${state}"}`)),
        [1, 1, 1, 1],
      );
      const quiet = value(`maskwatch_camera_last_frame_age_seconds{camera="${ids.quiet}"}`);
      assert.ok(quiet >= 600 && quiet < 700, `the quiet camera's last frame is ~600 s old: ${quiet}`);
      assert.ok(value(`maskwatch_camera_last_frame_age_seconds{camera="${ids.busy}"}`) < 120);
      for (const name of ['new', 'off']) assert.doesNotMatch(text, new RegExp(`maskwatch_camera_last_frame_age_seconds\\{camera="${ids[name]}"\\}`), name);
    });

    test('the dashboard settings carry the limit', async () => {
      const res = await call(api.url, 'GET', '/api/v1/dashboard/settings', { token: admin });
      assert.equal(res.status, 200);
      assert.equal(res.body.cameraSilentSeconds, 120);
    });
  });
}
