/**
 * The operator documents link into their own sections (Upgrading → Backups and restore, the
 * PostgreSQL checklist → Backups and restore, README → Upgrading): every such link must land on a
 * heading, and every variable the configuration reads must be in README's environment table.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../src/paths.ts';

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to "-". */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    out.add(m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'));
  }
  return out;
}

test('section links of README.md and docs/operations.md land on a heading', () => {
  const docs = { 'README.md': read('README.md'), 'docs/operations.md': read('docs/operations.md') };
  const headings = { 'README.md': anchors(docs['README.md']), 'docs/operations.md': anchors(docs['docs/operations.md']) };
  const links: [string, string, string][] = [];
  for (const m of docs['docs/operations.md'].matchAll(/\]\(#([^)]+)\)/g)) links.push(['docs/operations.md', 'docs/operations.md', m[1]!]);
  for (const m of docs['README.md'].matchAll(/\]\(docs\/operations\.md#([^)]+)\)/g)) links.push(['README.md', 'docs/operations.md', m[1]!]);
  assert.ok(links.some(([, , a]) => a === 'backups-and-restore'), 'the backup section is linked');
  for (const [from, to, anchor] of links) assert.ok(headings[to as keyof typeof headings].has(anchor), `${from} links to ${to}#${anchor}, which has no such heading`);
});

test("every variable the configuration reads is in README's environment table", () => {
  const readme = read('README.md');
  const names = new Set([...read('src/config/config.ts').matchAll(/'((?:MASKWATCH|DATABASE|REDIS)_[A-Z_]+)'/g)].map((m) => m[1]!));
  assert.ok(names.has('MASKWATCH_DB_POOL_SIZE'));
  const missing = [...names].filter((n) => !readme.includes(`\`${n}\``));
  assert.deepEqual(missing, []);
});
