import type { PrismaClient, Camera } from '../generated/sqlite/client.ts';
import type { CameraInput, CameraPatch } from '../../contracts/api.ts';

/**
 * Camera persistence. The client type is the SQLite one; the PostgreSQL client
 * has the identical model API (one shared model file), so either can be passed.
 */
export type CameraRow = Camera;

export type NewCamera = CameraInput & { apiKeyHash: string; apiKeyHint: string };

export function createCameraRepository(prisma: PrismaClient) {
  return {
    create(data: NewCamera): Promise<CameraRow> {
      return prisma.camera.create({ data });
    },
    findById(id: string): Promise<CameraRow | null> {
      return prisma.camera.findUnique({ where: { id } });
    },
    /** The camera owning an API key hash, only fields ingestion needs (hot path: one indexed lookup). */
    findByKeyHash(apiKeyHash: string): Promise<{ id: string; enabled: boolean } | null> {
      return prisma.camera.findUnique({ where: { apiKeyHash }, select: { id: true, enabled: true } });
    },
    /** Camera names by id (a deleted camera is absent). */
    async names(ids: readonly string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const rows = await prisma.camera.findMany({ where: { id: { in: [...ids] } }, select: { id: true, name: true } });
      return new Map(rows.map((r) => [r.id, r.name]));
    },
    list(): Promise<CameraRow[]> {
      return prisma.camera.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    },
    /** null when the camera does not exist. */
    async update(id: string, patch: CameraPatch): Promise<CameraRow | null> {
      const result = await prisma.camera.updateMany({ where: { id }, data: patch });
      return result.count === 0 ? null : prisma.camera.findUnique({ where: { id } });
    },
    async replaceKey(id: string, apiKeyHash: string, apiKeyHint: string): Promise<CameraRow | null> {
      const result = await prisma.camera.updateMany({ where: { id }, data: { apiKeyHash, apiKeyHint } });
      return result.count === 0 ? null : prisma.camera.findUnique({ where: { id } });
    },
    /** What the silent-camera check needs of every camera (domain/camera-health.ts). */
    healthRows(): Promise<{ id: string; enabled: boolean; lastFrameAt: Date | null }[]> {
      return prisma.camera.findMany({ select: { id: true, enabled: true, lastFrameAt: true } });
    },
    /** One statement for a batch of cameras (api/ingest/last-frame.ts). */
    async touchLastFrames(ids: string[], at: Date): Promise<void> {
      await prisma.camera.updateMany({ where: { id: { in: ids } }, data: { lastFrameAt: at } });
    },
  };
}

export type CameraRepository = ReturnType<typeof createCameraRepository>;
