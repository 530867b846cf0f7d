import v8 from 'node:v8';

/**
 * Lets a worker's old generation grow by `percent` % over its live size before the next full GC,
 * in place of V8's own, adaptive factor. A worker's live heap (~50 MB: Prisma, BullMQ, the engine)
 * changes little while every frame allocates ~1 MB that lives a few awaits; V8 kept the heap within
 * ~1.2× of it, so a full GC came every ~10 frames, and their marking (concurrent, on other cores,
 * which V8's factor does not count) cost about a fifth of a worker's CPU (bench:worker by thread).
 * It replaces the factor rather than bounding it: where V8 would let a heap grow more, it makes
 * full GCs more frequent, so it is set for worker processes only, as measured there. 0 keeps V8's
 * own. V8 reads it at each GC, so setting it once at start-up is enough.
 */
export function setHeapGrowth(percent: number): void {
  if (!(Number.isInteger(percent) && percent >= 0)) throw new RangeError(`heap growth must be a whole percentage ≥ 0, got ${percent}`);
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
