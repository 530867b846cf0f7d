/** The optional map tile server: configuration, the settings the dashboard reads, and the CSP that lets tiles load. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

const TILES = 'https://tiles.city.example:8443/osm/{z}/{x}/{y}.png';

test('MASKWATCH_MAP_TILE_URL must be an http(s) template with {z}, {x} and {y}', () => {
  const load = (v: string) => loadConfig({ MASKWATCH_MAP_TILE_URL: v });
  assert.equal(load(TILES).map.tileUrl, TILES);
  assert.equal(loadConfig({}).map.tileUrl, null);
  for (const [bad, why] of [
    ['https://tiles.example/{z}/{x}.png', /lacks \{y\}/],
    ['ftp://tiles.example/{z}/{x}/{y}.png', /http\(s\)/],
    ['not a url {z}{x}{y}', /not a URL/],
  ] as const) {
    assert.throws(() => load(bad), (err: unknown) => err instanceof ConfigError && err.variable === 'MASKWATCH_MAP_TILE_URL' && why.test(err.message), bad);
  }
  assert.throws(() => loadConfig({ MASKWATCH_MAP_MAX_ZOOM: '30' }), ConfigError);
});

for (const [label, env, tileOrigin] of [
  ['no tile server (default)', {}, null],
  ['tile server configured', { MASKWATCH_MAP_TILE_URL: TILES, MASKWATCH_MAP_ATTRIBUTION: '© OpenStreetMap contributors', MASKWATCH_MAP_MAX_ZOOM: '17' }, 'https://tiles.city.example:8443'],
] as const) {
  describe(`dashboard settings: ${label}`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    before(async () => {
      stack = await createTestStack('sqlite', env);
      api = await stack.startApi();
    });
    after(() => stack.close());

    test('logged-in users read the map settings; the CSP allows exactly the tile origin for images', async () => {
      const dispatcher = await loginAs(api, { username: 'dispatch-map', role: 'DISPATCHER' });
      const res = await call(api.url, 'GET', '/api/v1/dashboard/settings', { token: dispatcher.token });
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body,
        tileOrigin
          ? { map: { tileUrl: TILES, attribution: '© OpenStreetMap contributors', maxZoom: 17 }, cameraSilentSeconds: 300 }
          : { map: { tileUrl: null, attribution: '', maxZoom: 19 }, cameraSilentSeconds: 300 },
      );
      assert.equal((await call(api.url, 'GET', '/api/v1/dashboard/settings')).status, 401);
      const imgSrc = /img-src ([^;]*)/.exec(res.headers.get('content-security-policy') ?? '')?.[1];
      assert.equal(imgSrc, tileOrigin ? `'self' data: ${tileOrigin}` : `'self' data:`);
    });
  });
}
