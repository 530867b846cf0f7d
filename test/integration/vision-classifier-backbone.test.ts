import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { Backbone, backboneModelPath, resizeToInput, FEATURE_DIM } from '../../src/vision/backbone.ts';
import { decodeImage, type DecodedImage } from '../../src/vision/image.ts';

const sanityDir = path.join(loadConfig().assetsDir, 'datasets', 'imagenet-sanity');

/** Two of the sanity images are 24-bit BMP, which the product decoder rightly refuses. */
function decodeBmp24(buf: Buffer): DecodedImage {
  if (buf.toString('latin1', 0, 2) !== 'BM') throw new Error('not a BMP');
  const offset = buf.readUInt32LE(10);
  const width = buf.readInt32LE(18);
  const rawHeight = buf.readInt32LE(22);
  const bpp = buf.readUInt16LE(28);
  if (bpp !== 24 || buf.readUInt32LE(30) !== 0) throw new Error('only uncompressed 24-bit BMP');
  const height = Math.abs(rawHeight);
  const stride = Math.ceil((width * 3) / 4) * 4;
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const srcRow = rawHeight > 0 ? height - 1 - y : y; // positive height = bottom-up rows
    for (let x = 0; x < width; x++) {
      const s = offset + srcRow * stride + x * 3;
      const d = (y * width + x) * 3;
      data[d] = buf[s + 2]!;
      data[d + 1] = buf[s + 1]!;
      data[d + 2] = buf[s]!;
    }
  }
  return { data, width, height };
}

async function load(file: string): Promise<DecodedImage> {
  const buf = await readFile(path.join(sanityDir, file));
  return file.endsWith('.bmp') ? decodeBmp24(buf) : decodeImage(buf);
}

test('MobileNetV2 backbone is wired right: ImageNet sanity images get their labels', async () => {
  // Lines list synonyms ("hotdog, hot dog, red hot"): compare the first name.
  const labels = (await readFile(path.join(sanityDir, 'imagenet_labels.txt'), 'utf8')).split('\n').map((l) => l.split(',')[0]!.trim());
  assert.equal(labels[0], 'background');
  const cases: Array<[string, string]> = [
    ['grace_hopper.bmp', 'military uniform'],
    ['cat.bmp', 'Egyptian cat'],
    ['parrot.jpg', 'macaw'],
    ['hot_dog.jpg', 'hotdog'],
  ];
  const backbone = await Backbone.load({ modelPath: await backboneModelPath(loadConfig().assetsDir) });
  try {
    const rgb = await Promise.all(cases.map(async ([f]) => resizeToInput(await load(f))));
    const { features, logits } = await backbone.run(rgb, true);
    cases.forEach(([file, expected], i) => {
      const l = logits[i]!;
      assert.equal(l.length, 1000);
      let best = 0;
      for (let k = 1; k < l.length; k++) if (l[k]! > l[best]!) best = k;
      // The labels file has `background` first; the model's 1000 classes start at line 2.
      assert.equal(labels[best + 1], expected, `${file} → ${labels[best + 1]}`);
      const f = features[i]!;
      assert.equal(f.length, FEATURE_DIM);
      assert.ok(f.every((v) => Number.isFinite(v) && v >= 0), 'pooled post-ReLU features are finite and non-negative');
    });
    assert.ok(features[0]!.some((v, k) => v !== features[1]![k]), 'different images give different features');
  } finally {
    await backbone.close();
  }
});
