import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Backbone features keyed by `${contentMd5}:${variant}`, in one binary file:
 * [u32 LE json length][json: {dim, keys}][float32 LE rows]. Keyed by content,
 * so renamed or re-listed files still hit.
 */
export class FeatureCache {
  private readonly rows = new Map<string, Float32Array>();
  private dirty = false;

  private constructor(readonly file: string, readonly dim: number) {}

  static async open(file: string, dim: number): Promise<FeatureCache> {
    const cache = new FeatureCache(file, dim);
    if (!existsSync(file)) return cache;
    const buf = await readFile(file);
    try {
      const len = buf.readUInt32LE(0);
      const meta = JSON.parse(buf.toString('utf8', 4, 4 + len)) as { dim: number; keys: string[] };
      if (meta.dim !== dim) return cache; // other backbone layout: start over
      const body = buf.subarray(4 + len);
      if (body.length !== meta.keys.length * dim * 4) throw new Error('length mismatch');
      const all = new Float32Array(meta.keys.length * dim);
      for (let i = 0; i < all.length; i++) all[i] = body.readFloatLE(i * 4);
      meta.keys.forEach((k, i) => cache.rows.set(k, all.subarray(i * dim, (i + 1) * dim)));
    } catch {
      // A truncated cache (interrupted run) is just recomputed.
      cache.rows.clear();
    }
    return cache;
  }

  get size(): number {
    return this.rows.size;
  }

  get(key: string): Float32Array | undefined {
    return this.rows.get(key);
  }

  set(key: string, v: Float32Array): void {
    if (v.length !== this.dim) throw new Error(`feature has ${v.length} values, cache holds ${this.dim}`);
    this.rows.set(key, v);
    this.dirty = true;
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    const keys = [...this.rows.keys()];
    const head = Buffer.from(JSON.stringify({ dim: this.dim, keys }), 'utf8');
    const body = Buffer.alloc(keys.length * this.dim * 4);
    keys.forEach((k, i) => {
      const v = this.rows.get(k)!;
      for (let j = 0; j < this.dim; j++) body.writeFloatLE(v[j]!, (i * this.dim + j) * 4);
    });
    const len = Buffer.alloc(4);
    len.writeUInt32LE(head.length, 0);
    await mkdir(path.dirname(this.file), { recursive: true });
    // Write then rename, so an interrupted save never leaves a half file behind.
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, Buffer.concat([len, head, body]));
    await rename(tmp, this.file);
    this.dirty = false;
  }
}
