/**
 * Input files of `detect` / `classify`: file arguments, directories (walked
 * recursively, image files only, sorted) and `--files-from FILE|-` (one path
 * per line). Light on purpose: no image or model code is loaded here.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** Extensions taken from directories (case-insensitive). Files named explicitly are always tried. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'] as const;

/** A problem with the arguments themselves (exit 1), not with one input file. */
export class InputArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputArgumentError';
  }
}

const isImageName = (name: string): boolean => (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(name).toLowerCase());

/** Byte order, not locale order: the same list on every machine. */
const byPath = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Image files under `dir`, recursively, sorted by path; hidden entries skipped; symlinked folders not followed (no cycles). */
export async function listImageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if ((e.isFile() || e.isSymbolicLink()) && isImageName(e.name)) {
        // A symlink counts when it points at a file (links to folders are not followed).
        if (e.isSymbolicLink() && !(await stat(p).then((s) => s.isFile(), () => false))) continue;
        out.push(p);
      }
    }
  };
  await walk(dir);
  return out.sort(byPath);
}

/** Paths of a list: one per line, CR/LF tolerated, blank lines and surrounding whitespace ignored. */
export function parseFileList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Expands the inputs in order: each argument (a file as is, a directory to
 * its image files), then the `--files-from` list (entries expanded the same
 * way). A missing file stays in the list so the command reports it on its
 * own line; a missing `--files-from` list is an argument error.
 */
export async function collectInputFiles(
  args: readonly string[],
  filesFrom: string | undefined,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<string[]> {
  const listed: string[] = [];
  if (filesFrom !== undefined) {
    if (filesFrom === '') throw new InputArgumentError('--files-from needs a file name, or - for standard input');
    let text: string;
    try {
      text = filesFrom === '-' ? await readAll(stdin) : await readFile(filesFrom, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new InputArgumentError(`--files-from ${filesFrom}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message}`);
    }
    listed.push(...parseFileList(text));
  }
  const out: string[] = [];
  for (const p of [...args, ...listed]) {
    const s = await stat(p).catch(() => null);
    if (s?.isDirectory()) {
      try {
        out.push(...(await listImageFiles(p)));
      } catch (err) {
        throw new InputArgumentError(`cannot read directory ${p}: ${(err as Error).message}`);
      }
    } else {
      out.push(p);
    }
  }
  return out;
}

/** How `detect` and `classify` word a file they could not read or decode (one JSON line's `error`). */
export function fileError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === 'ENOENT' ? 'file not found' : e.code === 'EISDIR' ? 'is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
}
