import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/config.ts';

/*
 * `detect` / `classify` on real folders: directories, --files-from, and a
 * command line far above the ~29 KB at which onnxruntime-node 1.30 segfaults
 * in InferenceSession.create (bin/maskwatch.js re-executes itself).
 */
const repo = path.resolve(import.meta.dirname, '..', '..');
const config = loadConfig();
const crops = path.join(config.assetsDir, 'datasets', 'kaggle-face-crops-dev');
const CLI_TIMEOUT_MS = 10 * 60_000;

let tmp: string;
/** 10 masked + 10 unmasked real crops, copied under a long folder name (long paths → long command line). */
let cropFiles: string[];
/** Tiny real frames (a scene shrunk to 64×44), for detect. */
let tinyFrames: string[];

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], stdin?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [path.join(repo, 'bin', 'maskwatch.js'), ...args],
      {
        cwd: repo,
        env: { ...process.env, MASKWATCH_ASSETS: config.assetsDir, MASKWATCH_FROM_SOURCE: '1', LOG_LEVEL: 'warn' },
        maxBuffer: 64 * 1024 * 1024,
        timeout: CLI_TIMEOUT_MS,
      },
      (err, stdout, stderr) => {
        if (err?.killed) reject(new Error(`maskwatch ${args[0]} did not finish within ${CLI_TIMEOUT_MS} ms; stderr: ${stderr.slice(-2000)}`));
        else resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
    child.stdin!.end(stdin ?? '');
  });
}

const jsonLines = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'mw-cli-inputs-'));
  const long = path.join(tmp, `a-folder-name-long-enough-that-two-thousand-paths-make-a-command-line-of-hundreds-of-kilobytes`);
  await mkdir(long);
  cropFiles = [];
  for (const cls of ['with_mask', 'without_mask']) {
    for (const f of (await readdir(path.join(crops, cls))).sort().slice(0, 10)) {
      const to = path.join(long, `${cls}-${f}`);
      await copyFile(path.join(crops, cls, f), to);
      cropFiles.push(to);
    }
  }
  const scenes = path.join(config.assetsDir, 'datasets', 'scenes');
  tinyFrames = [];
  for (const f of ['group-faces.jpg', 'masked-crowd-img2.jpeg']) {
    const to = path.join(long, `tiny-${f.replace(/\.\w+$/, '')}.jpg`);
    await sharp(path.join(scenes, f)).resize(64).jpeg().toFile(to);
    tinyFrames.push(to);
  }
});

after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('classify: 2,000 file arguments (a ~250 KB command line) run without a crash and match a short run', async () => {
  const args = Array.from({ length: 2000 }, (_, i) => cropFiles[i % cropFiles.length]!);
  assert.ok(args.join(' ').length > 100_000, 'the command line is far above the crash threshold');
  const short = await cli(['classify', '--json', '--files-from', '-'], `${cropFiles.join('\n')}\n`);
  assert.equal(short.code, 0, short.stderr);
  const expected = new Map(jsonLines(short.stdout).map((l) => [l.file, l]));
  assert.equal(expected.size, cropFiles.length);

  const many = await cli(['classify', '--json', ...args]);
  assert.equal(many.code, 0, `exit ${many.code}; stderr: ${many.stderr.slice(-2000)}`);
  const lines = jsonLines(many.stdout);
  assert.equal(lines.length, 2000);
  lines.forEach((l, i) => {
    assert.equal(l.file, args[i]);
    assert.deepEqual(l, expected.get(args[i]!), `line ${i} differs from the short run`);
  });
  const labels = new Set(lines.map((l) => l.label));
  assert.deepEqual([...labels].sort(), ['mask', 'no_mask']);
});

// detect looks at every frame at two input sizes (~20 ms even for a tiny one), so fewer arguments than classify's
// 2,000 keep this under 15 s; their long paths still make a command line twice the crash threshold.
test('detect: 500 file arguments of tiny real frames (a ~75 KB command line) run without a crash, one line each, in order', async () => {
  const args = Array.from({ length: 500 }, (_, i) => tinyFrames[i % tinyFrames.length]!);
  assert.ok(args.join(' ').length > 64_000, 'the command line is far above the crash threshold');
  const many = await cli(['detect', '--json', ...args]);
  assert.equal(many.code, 0, `exit ${many.code}; stderr: ${many.stderr.slice(-2000)}`);
  const lines = jsonLines(many.stdout);
  assert.equal(lines.length, 500);
  lines.forEach((l, i) => {
    assert.equal(l.file, args[i]);
    assert.equal(l.width, 64);
    assert.ok(Array.isArray(l.faces));
  });
});

test('directories are walked recursively for image files, sorted; --files-from takes a list file', async () => {
  const dir = path.join(tmp, 'walk');
  await mkdir(path.join(dir, 'b', 'deeper'), { recursive: true });
  await mkdir(path.join(dir, 'a'));
  await copyFile(cropFiles[0]!, path.join(dir, 'b', 'deeper', 'z.JPG'));
  await copyFile(cropFiles[11]!, path.join(dir, 'a', 'y.jpeg'));
  await symlink(cropFiles[1]!, path.join(dir, 'b', 'link.jpg'));
  await writeFile(path.join(dir, 'a', 'notes.txt'), 'not an image');
  await writeFile(path.join(dir, '.hidden.jpg'), 'skipped');
  const list = path.join(tmp, 'list.txt');
  await writeFile(list, `\n${cropFiles[2]}\r\n  \n${path.join(dir, 'a')}\n`);

  const r = await cli(['classify', '--json', dir, '--files-from', list]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    jsonLines(r.stdout).map((l) => l.file),
    [path.join(dir, 'a', 'y.jpeg'), path.join(dir, 'b', 'deeper', 'z.JPG'), path.join(dir, 'b', 'link.jpg'), cropFiles[2], path.join(dir, 'a', 'y.jpeg')],
  );
  const d = await cli(['detect', '--json', '--files-from', '-'], `${tinyFrames[0]}\n`);
  assert.equal(d.code, 0, d.stderr);
  assert.deepEqual(jsonLines(d.stdout).map((l) => l.file), [tinyFrames[0]]);
});

test('a missing file is one error line, worded the same by detect and classify; the others are analysed (exit 2)', async () => {
  const missing = path.join(tmp, 'gone.jpg');
  for (const command of ['detect', 'classify']) {
    const r = await cli([command, '--json', missing, cropFiles[0]!]);
    assert.equal(r.code, 2, `${command}: ${r.stderr}`);
    const lines = jsonLines(r.stdout);
    assert.deepEqual(lines[0], { file: missing, error: 'file not found' }, command);
    assert.equal(lines[1]!.file, cropFiles[0]);
    assert.equal(lines[1]!.error, undefined, command);
  }
});

test('argument errors: a clear message on stderr and exit 1, before any model is loaded', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['classify', '--json', '--files-from', path.join(tmp, 'missing.txt')], /--files-from .*missing\.txt: no such file/],
    [['detect', '--json', '--files-from', path.join(tmp, 'missing.txt')], /--files-from .*missing\.txt: no such file/],
    [['classify', '--threshold', '2', cropFiles[0]!], /--threshold must be between 0 and 1/],
    [['detect', '--face-score', 'high', cropFiles[0]!], /--face-score must be a number between 0 and 1/],
    [['detect', '--detector', 'nope', cropFiles[0]!], /unknown detector "nope"/],
    [['detect', '--bogus'], /Unknown option '--bogus'/],
    [['classify', '--json'], /no files given/],
  ];
  const empty = path.join(tmp, 'empty');
  await mkdir(empty);
  cases.push([['detect', '--json', empty], /no input files/]);
  cases.push([['classify', '--json', empty], /no files given/]);
  for (const [args, message] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stdout, '');
  }
});
