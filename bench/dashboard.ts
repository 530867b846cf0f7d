/**
 * `npm run bench:dashboard`: how fast the admin dashboard's heavy queries are on
 * a realistic history — GET /api/v1/stats (day / camera / hour) and the CSV
 * export — against a temporary SQLite database (or DATABASE_URL=postgresql://…
 * with ?schema=…). Prints figures; asserts nothing.
 *   BENCH_VIOLATIONS (default 50000), BENCH_CAMERAS (default 40)
 */
import { createRepositories } from '../src/db/repositories/index.ts';
import { createExportService } from '../src/services/exports.ts';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';
import { openDatabase } from '../src/db/client.ts';
import { createStatsRepository } from '../src/db/repositories/stats.ts';
import { createStatsService } from '../src/services/stats.ts';
import { registerProblemHandlers } from '../src/api/problem.ts';
import { exportRoutes } from '../src/api/routes/exports.ts';
import type { AuthService } from '../src/auth/service.ts';

const N = Number(process.env.BENCH_VIOLATIONS ?? 50_000);
const CAMERAS = Number(process.env.BENCH_CAMERAS ?? 40);
const DAY = 86_400_000;

async function time<T>(label: string, f: () => Promise<T>, runs = 3): Promise<T> {
  let result!: T;
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = await f();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  console.log(`${label.padEnd(44)} median ${ms[Math.floor(runs / 2)]!.toFixed(0).padStart(6)} ms  (runs: ${ms.map((m) => m.toFixed(0)).join(', ')})`);
  return result;
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'maskwatch-bench-'));
const url = process.env.DATABASE_URL ?? `file:${path.join(dir, 'bench.db')}`;
const db = await openDatabase(url, { logger: pino({ level: 'silent' }) });
try {
  const prisma = db.prisma;
  const cams = await Promise.all(
    Array.from({ length: CAMERAS }, (_, i) =>
      prisma.camera.create({
        data: { name: `Camera ${i}`, latitude: 40.4 + i / 1000, longitude: -3.7, zone: `Zone ${i % 8}`, apiKeyHash: randomUUID(), apiKeyHint: 'bnch' },
      }),
    ),
  );
  const now = Date.now();
  const t0 = performance.now();
  // One alert per 5 violations, spread over 30 days; a third dispatched and resolved.
  for (let start = 0; start < N; start += 1000) {
    const alerts = [];
    const violations = [];
    for (let i = start; i < Math.min(N, start + 1000); i++) {
      const at = new Date(now - Math.random() * 30 * DAY);
      const cameraId = cams[i % CAMERAS]!.id;
      if (i % 5 === 0) {
        const handled = i % 3 === 0;
        alerts.push({
          id: randomUUID(), cameraId, trackId: randomUUID(), firstSeenAt: at, lastSeenAt: at, createdAt: at, noMaskProbability: 0.9,
          status: handled ? ('RESOLVED' as const) : ('NEW' as const),
          dispatchedAt: handled ? new Date(at.getTime() + 30_000 + Math.random() * 120_000) : null,
          acknowledgedAt: handled ? new Date(at.getTime() + 200_000) : null,
          resolvedAt: handled ? new Date(at.getTime() + 600_000 + Math.random() * 1_200_000) : null,
        });
      }
      violations.push({
        cameraId, frameId: randomUUID(), faceIndex: 0, capturedAt: at, receivedAt: at,
        boxX: 10, boxY: 10, boxW: 40, boxH: 40, faceScore: 0.9, noMaskProbability: 0.95,
        alertId: alerts.length ? alerts[alerts.length - 1]!.id : null,
      });
    }
    await prisma.alert.createMany({ data: alerts });
    await prisma.violation.createMany({ data: violations });
  }
  console.log(`seeded ${N} violations / ${Math.ceil(N / 5)} alerts on ${CAMERAS} cameras (${db.provider}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const stats = createStatsService({ stats: createStatsRepository(prisma, db.provider) });
  const to = new Date(now + 1000);
  const admin = { role: 'ADMIN', unitId: null, zones: [] } as const;
  const month = new Date(now - 30 * DAY);
  await time('stats 30 days, groupBy=day', () => stats.compute({ from: month, to, groupBy: 'day' }, admin));
  await time('stats 30 days, groupBy=camera', () => stats.compute({ from: month, to, groupBy: 'camera' }, admin));
  await time('stats 7 days, groupBy=hour', () => stats.compute({ from: new Date(now - 7 * DAY), to, groupBy: 'hour' }, admin));

  const auth = { authenticate: async () => ({ id: 'bench', username: 'bench', role: 'ADMIN', unitId: null, zones: [], sessionId: 's' }) } as unknown as AuthService;
  const app = Fastify();
  registerProblemHandlers(app);
  await exportRoutes(app, { auth, services: { exports: createExportService(createRepositories(prisma)) } });
  const res = await time(`CSV export of all ${N} violations`, () => app.inject({ method: 'GET', url: '/api/v1/violations.csv', headers: { authorization: 'Bearer benchbenchbench' } }));
  const rows = res.body.split('\r\n').length - 2;
  console.log(`CSV: ${rows} rows, ${(res.body.length / 1e6).toFixed(1)} MB`);
  await app.close();
} finally {
  await db.close();
  await rm(dir, { recursive: true, force: true });
}
