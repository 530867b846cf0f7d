import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import jsqr from 'jsqr';
import { newTotpSecret, otpauthUri } from '../../src/auth/totp.ts';
import { qrCodeSvg } from '../../src/services/two-factor.ts';

// A CommonJS bundle whose typings declare an ES default export: Node hands the function itself to a default import.
const jsQR = jsqr as unknown as typeof jsqr.default;

test('the setup QR code reads back as the otpauth URI (rasterised and decoded as a phone camera would)', async () => {
  const uri = otpauthUri({ issuer: 'MaskWatch', account: 'dispatcher.night-shift', secret: newTotpSecret() });
  const svg = qrCodeSvg(uri);
  const { data, info } = await sharp(Buffer.from(svg), { density: 144 }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const decoded = jsQR(new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), info.width, info.height);
  assert.ok(decoded, 'a QR code is found');
  assert.equal(decoded.data, uri);
});
