/**
 * Docker cannot run on this machine, so the deployment files are checked
 * statically: docker-compose.yml parses as YAML and describes the scale-out
 * topology (its behaviour is proven with processes in agent-scaleout.test.ts),
 * the Dockerfile is multi-stage / non-root / health-checked, and every file
 * the compose file or Dockerfile refers to exists.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { JsonBody } from '../helpers/api.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const read = (p: string) => readFileSync(path.join(root, p), 'utf8');

describe('deployment files', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, JsonBody>; volumes: Record<string, unknown> };

  it('compose: Redis with AOF, PostgreSQL, two APIs, a scalable worker, a proxy', () => {
    const s = compose.services;
    assert.deepEqual(Object.keys(s).sort(), ['api1', 'api2', 'postgres', 'proxy', 'redis', 'worker']);
    const redisCmd = s.redis.command.join(' ');
    assert.match(redisCmd, /--appendonly yes/);
    assert.match(redisCmd, /--appendfsync (everysec|always)/);
    assert.match(redisCmd, /--maxmemory-policy noeviction/, 'evicting queue keys would lose jobs');
    for (const api of ['api1', 'api2']) {
      assert.deepEqual(s[api].command, ['api']);
      assert.match(s[api].environment.DATABASE_URL, /^postgresql:\/\/.*@postgres:5432\//);
      assert.equal(s[api].environment.REDIS_URL, 'redis://redis:6379');
      assert.equal(s[api].environment.HOST, '0.0.0.0');
      assert.equal(s[api].depends_on.redis.condition, 'service_healthy');
    }
    // --scale worker=N needs no fixed name and no published port.
    assert.equal(s.worker.container_name, undefined);
    assert.equal(s.worker.ports, undefined);
    assert.equal(s.worker.command[0], 'worker');
    assert.equal(s.worker.environment.DATABASE_URL, s.api1.environment.DATABASE_URL);
    // Frames written by an API are read by a worker: same data volume.
    const dataVolume = (svc: JsonBody) => svc.volumes.find((v: string) => v.endsWith(':/var/lib/maskwatch'));
    assert.ok(dataVolume(s.worker));
    assert.equal(dataVolume(s.worker), dataVolume(s.api1));
    assert.equal(dataVolume(s.api2), dataVolume(s.api1));
    assert.ok(s.proxy.ports.some((p: string) => /:80$/.test(p)));
    for (const v of ['redis', 'postgres', 'frames', 'models']) assert.ok(v in compose.volumes, v);
  });

  it('proxy: both APIs upstream, sticky sessions, WebSocket upgrade', () => {
    const mount = compose.services.proxy.volumes[0] as string;
    const conf = read(mount.split(':')[0]!);
    assert.match(conf, /server api1:3000/);
    assert.match(conf, /server api2:3000/);
    assert.match(conf, /ip_hash;/);
    assert.match(conf, /proxy_set_header Upgrade \$http_upgrade;/);
    assert.match(conf, /proxy_set_header Connection \$connection_upgrade;/);
    assert.match(conf, /proxy_http_version 1\.1;/);
  });

  it('Dockerfile: multi-stage on node:20-slim, production deps, non-root, health check, entrypoint present', () => {
    const df = read('Dockerfile');
    const stages = [...df.matchAll(/^FROM (\S+) AS (\w+)/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(stages, [['node:20-slim', 'build'], ['node:20-slim', 'runtime']]);
    const runtime = df.slice(df.indexOf('AS runtime'));
    assert.match(df, /RUN npm ci/);
    assert.match(df, /npm prune --omit=dev/);
    assert.match(runtime, /^USER node$/m);
    assert.match(runtime, /^HEALTHCHECK .*\n?.*\/healthz/m);
    assert.match(runtime, /ffmpeg/);
    const entry = /COPY --chown=node:node (\S+) \/usr\/local\/bin\/maskwatch-entrypoint/.exec(runtime);
    assert.ok(entry && existsSync(path.join(root, entry[1]!)));
    assert.ok(statSync(path.join(root, entry![1]!)).mode & 0o111, 'entrypoint is executable');
    const ignore = read('.dockerignore');
    for (const p of ['node_modules', '.git', 'data', '.env']) assert.match(ignore, new RegExp(`^${p.replace('.', '\\.')}$`, 'm'));
  });
});
