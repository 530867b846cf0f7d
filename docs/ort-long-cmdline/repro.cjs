// Minimal reproduction: onnxruntime-node 1.30 segfaults in
// InferenceSession.create when the process command line is long.
//
//   node repro.cjs MODEL.onnx               → "ok: session created (cmdline N bytes)"
//   node repro.cjs MODEL.onnx 32000         → Segmentation fault (exit 139)
//
// The second argument is the length of one padding argument appended to this
// process's own command line (the script re-runs itself with it). Any model
// works; the size of the environment does not matter.
'use strict';
const { spawnSync } = require('node:child_process');
const { readFileSync } = require('node:fs');

const [model, pad] = process.argv.slice(2);
if (!model) {
  console.error('usage: node repro.cjs MODEL.onnx [PADDING_BYTES]');
  process.exit(2);
}
if (pad && !process.env.REPRO_CHILD) {
  const r = spawnSync(process.execPath, [__filename, model, 'x'.repeat(Number(pad))], {
    stdio: 'inherit',
    env: { ...process.env, REPRO_CHILD: '1' },
  });
  console.log(`padding ${pad} bytes: exit ${r.status ?? ''}${r.signal ? ` signal ${r.signal}` : ''}`);
  process.exit(0);
}
const ort = require('onnxruntime-node');
const cmdline = readFileSync('/proc/self/cmdline').length;
ort.InferenceSession.create(model).then(
  () => console.log(`ok: session created (cmdline ${cmdline} bytes, onnxruntime-node ${require('onnxruntime-node/package.json').version})`),
  (err) => console.log(`create failed without crashing: ${err.message}`),
);
