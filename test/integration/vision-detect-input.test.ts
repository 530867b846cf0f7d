import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/config.ts';
import { decodeImage } from '../../src/vision/image.ts';
import { ImageInputError } from '../../src/vision/types.ts';
import { pngBomb } from '../fixtures/hostile/corpus.ts';

const assets = loadConfig().assetsDir;
const scenes = path.join(assets, 'datasets/scenes');
const pngDir = path.join(assets, 'datasets/kaggle-scenes-dev/png-originals');

async function expectInputError(buf: Buffer, code: ImageInputError['code'], maxPixels?: number): Promise<void> {
  await assert.rejects(decodeImage(buf, { maxPixels }), (err: unknown) => {
    assert.ok(err instanceof ImageInputError, `expected ImageInputError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

test('16-bit RGBA PNG decodes to 8-bit RGB, alpha flattened, same pixels as the 8-bit JPEG', async () => {
  const img = await decodeImage(await readFile(path.join(pngDir, 'maksssksksss1.png')));
  assert.deepEqual([img.width, img.height], [400, 156]);
  assert.equal(img.data.length, 400 * 156 * 3);
  // the dev JPEG is the same picture re-encoded: mean colours agree closely
  const jpg = await decodeImage(await readFile(path.join(assets, 'datasets/kaggle-scenes-dev/images/maksssksksss1.jpg')));
  const mean = (b: Buffer) => b.reduce((s, v) => s + v, 0) / b.length;
  assert.ok(Math.abs(mean(img.data) - mean(jpg.data)) < 3, `means ${mean(img.data)} vs ${mean(jpg.data)}`);
});

test('8-bit RGBA PNG and every PNG original decode to packed RGB', async () => {
  for (const f of ['maksssksksss10.png', 'maksssksksss102.png', 'maksssksksss109.png']) {
    const img = await decodeImage(await readFile(path.join(pngDir, f)));
    assert.equal(img.data.length, img.width * img.height * 3, f);
  }
});

test('transparent pixels are flattened on white', async () => {
  const rgba = await sharp({ create: { width: 4, height: 2, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
  const img = await decodeImage(rgba);
  assert.ok(img.data.every((v) => v === 255));
});

test('WebP named .jpg (masked-crowd-img3) decodes', async () => {
  const img = await decodeImage(await readFile(path.join(scenes, 'masked-crowd-img3.jpg')));
  assert.deepEqual([img.width, img.height], [800, 514]);
});

test('EXIF orientation is applied', async () => {
  const base = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  const rotated = await sharp(base).withMetadata({ orientation: 6 }).jpeg().toBuffer();
  const img = await decodeImage(rotated);
  assert.deepEqual([img.width, img.height], [20, 40]);
});

test('bad inputs give ImageInputError with the right code', async () => {
  const jpeg = await readFile(path.join(scenes, 'group-faces.jpg'));
  await expectInputError(Buffer.alloc(0), 'EMPTY');
  const noise = Buffer.alloc(20_000);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  await expectInputError(Buffer.concat([jpeg.subarray(0, 4), noise]), 'CORRUPT');
  await expectInputError(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), 'CORRUPT');
  await expectInputError(pngBomb(50_000, 50_000), 'TOO_LARGE');
  await expectInputError(Buffer.from('GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;', 'latin1'), 'UNSUPPORTED_FORMAT');
  await expectInputError(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9000" height="9000"><rect width="10" height="10"/></svg>'), 'UNSUPPORTED_FORMAT');
  await expectInputError(noise, 'UNSUPPORTED_FORMAT');
});

test('the pixel limit is the caller’s: a real frame above maxPixels is TOO_LARGE', async () => {
  const jpeg = await readFile(path.join(scenes, 'group-faces.jpg'));
  await expectInputError(jpeg, 'TOO_LARGE', 512 * 355 - 1);
  const ok = await decodeImage(jpeg, { maxPixels: 512 * 355 });
  assert.equal(ok.width, 512);
});
