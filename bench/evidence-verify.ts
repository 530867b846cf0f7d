/**
 * `npm run bench:evidence`: time and peak memory of `maskwatch evidence verify --offline` on evidence packages
 * of growing size, against two baselines measured in the same run:
 * - floor: reading the file once and hashing every byte (no ZIP, no check), the least any verifier does;
 * - whole-file: the ZIP read into memory and unzipped at once (fflate unzipSync), as `evidence verify` did
 *   before it read packages one entry at a time.
 * Packages are made with the package's own functions (src/domain/evidence-package.ts): frames of random
 * bytes, stored entries, a signed manifest, as the server streams them. Each run is a child process; its
 * peak RSS is the kernel's VmHWM, sampled from /proc until it exits.
 * Writes reports/bench-evidence-verify.json. Options (env): BENCH_SIZES_MB (250,1000), BENCH_FRAME_KB (500).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { Zip, ZipPassThrough } from 'fflate';
import { MANIFEST_FILE, PUBLIC_KEY_FILE, SIGNATURE_FILE, SUMS_FILE, packageFile, sha256Sums, type PackageFile } from '../src/domain/evidence-package.ts';
import { evidenceSignerFromSeed } from '../src/system/evidence-signer.ts';

const SIZES_MB = (process.env.BENCH_SIZES_MB || '250,1000').split(',').map(Number);
const FRAME_KB = Number(process.env.BENCH_FRAME_KB || 500);
const ROOT = path.resolve(import.meta.dirname, '..');

async function makePackage(file: string, frames: number): Promise<void> {
  const out = createWriteStream(file);
  let draining: Promise<void> | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) throw err;
    if (!out.write(chunk) && !draining) draining = once(out, 'drain').then(() => void (draining = null));
  });
  const add = (name: string, data: Uint8Array) => {
    const entry = new ZipPassThrough(name);
    zip.add(entry);
    entry.push(data, true);
    return packageFile(name, data);
  };
  const files: PackageFile[] = [];
  for (let i = 0; i < frames; i++) {
    files.push(add(`frames/${String(i + 1).padStart(4, '0')}-frame.jpg`, randomBytes(FRAME_KB * 1000)));
    await draining;
  }
  const signer = evidenceSignerFromSeed(Buffer.alloc(32, 9));
  const manifest = { format: 'maskwatch-evidence-package/1', alertId: 'bench', exportedAt: new Date().toISOString(), exportedBy: { id: 'bench', username: 'bench', role: 'ADMIN' }, files, signature: { algorithm: 'Ed25519', keyFingerprint: signer.keyFingerprint } };
  const data = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
  const manifestFile = add(MANIFEST_FILE, data);
  add(SUMS_FILE, Buffer.from(sha256Sums(files, manifestFile)));
  add(SIGNATURE_FILE, signer.sign(data));
  add(PUBLIC_KEY_FILE, Buffer.from(signer.publicKeyPem));
  zip.end();
  out.end();
  await once(out, 'finish');
}

/** Runs a child to its end; its wall time, exit code and peak RSS (VmHWM, sampled while it runs). */
async function measure(args: string[]): Promise<{ seconds: number; peakMb: number; code: number | null; stderr: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  let peakKb = 0;
  const sample = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // exited between samples
    }
  };
  const timer = setInterval(sample, 5);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(timer);
  return { seconds: (performance.now() - t0) / 1000, peakMb: peakKb / 1024, code, stderr: stderr.slice(-500) };
}

const FLOOR = `
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
const hash = createHash('sha256');
for await (const chunk of createReadStream(process.argv[1], { highWaterMark: 1 << 20 })) hash.update(chunk);
console.log(hash.digest('hex'));`;

const WHOLE_FILE = `
import { readFile } from 'node:fs/promises';
import { unzipSync } from 'fflate';
import { checkPackage } from './src/domain/evidence-package.ts';
const check = checkPackage(new Map(Object.entries(unzipSync(await readFile(process.argv[1])))));
process.exit(check.ok ? 0 : 1);`;

const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-evidence-'));
const rows = [];
try {
  for (const mb of SIZES_MB) {
    const frames = Math.round((mb * 1000) / FRAME_KB);
    const file = path.join(dir, `package-${mb}.zip`);
    process.stderr.write(`making a ${mb} MB package (${frames} frames of ${FRAME_KB} kB)…\n`);
    await makePackage(file, frames);
    const bytes = (await stat(file)).size;
    const runs = {
      floor: await measure(['--input-type=module', '-e', FLOOR, file]),
      verify: await measure(['bin/maskwatch.js', 'evidence', 'verify', file, '--offline']),
      wholeFile: await measure(['--import', 'tsx', '--input-type=module', '-e', WHOLE_FILE, file]),
    };
    for (const [name, run] of Object.entries(runs)) {
      if (run.code !== 0) process.stderr.write(`${name} on ${mb} MB exited ${run.code}: ${run.stderr}\n`);
    }
    rows.push({ packageMb: +(bytes / 1e6).toFixed(1), frames, ...runs });
    await rm(file);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const fmt = (r: { seconds: number; peakMb: number; code: number | null }) => (r.code === 0 ? `${r.seconds.toFixed(1)} s, ${r.peakMb.toFixed(0)} MB` : `failed (exit ${r.code})`);
console.log('package          | floor (read + SHA-256) | evidence verify --offline | whole file in memory (before) | verify / floor time');
for (const r of rows) {
  console.log(`${String(r.packageMb).padStart(7)} MB, ${String(r.frames).padStart(4)} frames | ${fmt(r.floor).padEnd(22)} | ${fmt(r.verify).padEnd(25)} | ${fmt(r.wholeFile).padEnd(29)} | ${(r.verify.seconds / r.floor.seconds).toFixed(2)}×`);
}
const report = { when: new Date().toISOString(), machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadavg: os.loadavg() }, frameKb: FRAME_KB, rows };
writeFileSync(path.join(ROOT, 'reports', 'bench-evidence-verify.json'), JSON.stringify(report, null, 2) + '\n');
