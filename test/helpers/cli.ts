/** Runs the `maskwatch` command line (bin/maskwatch.js) as a real process, as users and operators do. */
import { spawn } from 'node:child_process';
import { MASKWATCH_BIN } from '../../src/system/worker-pool.ts';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Written to its stdin, which is then closed (empty by default). */
  stdin?: string;
  /** Node options before the script (e.g. an --import probe). */
  nodeArgs?: string[];
  /** Killed after this long, and the promise rejects naming the command (default 60 s). */
  timeoutMs?: number;
}

export function runCli(args: string[], o: CliOptions = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), MASKWATCH_BIN, ...args], { env: { ...process.env, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(o.stdin ?? '');
  const timeoutMs = o.timeoutMs ?? 60_000;
  return new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`maskwatch ${args.join(' ')} did not exit within ${timeoutMs / 1000} s; stderr: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
