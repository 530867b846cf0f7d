import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cameraHealth } from '../../src/domain/camera-health.ts';
import { loadConfigOrReport } from '../../src/config/config.ts';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const ago = (s: number) => new Date(NOW - s * 1000);

test('cameraHealth: silent only once an enabled camera that has sent frames has sent none for longer than the limit', () => {
  assert.equal(cameraHealth({ enabled: true, lastFrameAt: ago(299) }, NOW, 300), 'live');
  assert.equal(cameraHealth({ enabled: true, lastFrameAt: ago(300) }, NOW, 300), 'live', 'the limit itself is still live');
  assert.equal(cameraHealth({ enabled: true, lastFrameAt: ago(301) }, NOW, 300), 'silent');
  assert.equal(cameraHealth({ enabled: true, lastFrameAt: ago(301).toISOString() }, NOW, 300), 'silent', 'as the API sends it');
  assert.equal(cameraHealth({ enabled: true, lastFrameAt: null }, NOW, 300), 'no_frame', 'never installed is not silent');
  assert.equal(cameraHealth({ enabled: false, lastFrameAt: ago(86_400) }, NOW, 300), 'disabled', 'a disabled camera is expected to be quiet');
  assert.equal(cameraHealth({ enabled: true, lastFrameAt: ago(86_400) }, NOW, 0), 'live', '0 switches the check off');
});

test('MASKWATCH_CAMERA_SILENT_S: 300 s by default; 0 (off) or at least 30 s', () => {
  const lines: string[] = [];
  const err = { write: (s: string) => lines.push(s) };
  assert.equal(loadConfigOrReport(err, {})?.cameraSilentSeconds, 300);
  assert.equal(loadConfigOrReport(err, { MASKWATCH_CAMERA_SILENT_S: '0' })?.cameraSilentSeconds, 0);
  assert.equal(loadConfigOrReport(err, { MASKWATCH_CAMERA_SILENT_S: '30' })?.cameraSilentSeconds, 30);
  assert.equal(lines.length, 0);
  for (const bad of ['10', '-1', 'soon']) {
    assert.equal(loadConfigOrReport(err, { MASKWATCH_CAMERA_SILENT_S: bad }), null, bad);
    assert.match(lines.pop()!, /MASKWATCH_CAMERA_SILENT_S/);
  }
});
