/**
 * `maskwatch <command> --help` prints its usage and exits 0 without loading the command's stack: no native
 * module (ONNX Runtime, sharp/libvips, Prisma's driver) is mapped into the process when it exits. Time is
 * not asserted (tests measure no speed); what makes --help slow is loading those, and that is what is checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.ts';

// Preloaded into the CLI's process: at exit, lists the native addons (.node files) it has mapped.
const PROBE = `import { readFileSync } from 'node:fs';
process.on('exit', () => {
  const maps = readFileSync('/proc/self/maps', 'utf8').split('\\n').map((l) => l.trim().split(/\\s+/)[5] ?? '');
  process.stderr.write('NATIVE ' + JSON.stringify([...new Set(maps.filter((p) => p.endsWith('.node')))]) + '\\n');
});`;

const run = (args: string[]) => runCli(args, { nodeArgs: ['--import', `data:text/javascript,${encodeURIComponent(PROBE)}`] });

const COMMANDS = [
  ['start', '--help'],
  ['api', '--help'],
  ['worker', '--help'],
  ['users', '--help'],
  ['users', 'add', '--help'],
  ['users', 'set-role', '--help'],
  ['zones', '--help'],
  ['scim-token', '--help'],
  ['audit', '--help'],
  ['audit', 'prune', '--help'],
  ['evidence', '--help'],
  ['evidence', 'verify', '--help'],
  ['evidence', 'key', '--help'],
  ['doctor', '--help'],
  ['detect', '--help'],
  ['classify', '--help'],
  ['agent', '--help'],
  ['simulate', '--help'],
];

for (const args of COMMANDS) {
  test(`maskwatch ${args.join(' ')}: usage on stdout, exit 0, no native module loaded`, async () => {
    const r = await run(args);
    assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.stderr}`);
    assert.match(r.stdout, /^usage:\s+maskwatch /m);
    const line = r.stderr.split('\n').find((l) => l.startsWith('NATIVE '));
    assert.ok(line, `the probe did not report; stderr: ${r.stderr}`);
    assert.deepEqual(JSON.parse(line.slice('NATIVE '.length)), [], 'native addons mapped by --help');
  });
}
