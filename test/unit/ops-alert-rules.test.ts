/**
 * deploy/prometheus-alerts.yml: well-formed rules, and every metric they use is one MaskWatch exports (the
 * API's registry, with the worker supervisor's metrics as `maskwatch start` registers them), so a renamed
 * metric cannot leave a rule that silently never fires.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import pino from 'pino';
import { createApiMetrics } from '../../src/api/metrics.ts';
import { createWorkerPool } from '../../src/system/worker-pool.ts';
import { REPO_ROOT } from '../../src/paths.ts';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

test('the Prometheus alert rules are well formed and use only metrics MaskWatch exports', async () => {
  const doc = parse(await readFile(path.join(REPO_ROOT, 'deploy', 'prometheus-alerts.yml'), 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
  const rules = doc.groups.flatMap((g) => g.rules);
  assert.ok(rules.length >= 5, `${rules.length} rules`);
  assert.equal(new Set(rules.map((r) => r.alert)).size, rules.length, 'alert names are unique');

  const registry = new Registry();
  const logger = pino({ level: 'silent' });
  createApiMetrics(registry, { logger });
  createWorkerPool({ count: 0, concurrency: 1, logger, registry });
  const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));

  for (const r of rules) {
    assert.match(r.alert, /^MaskWatch[A-Za-z]+$/, r.alert);
    assert.ok(['critical', 'warning'].includes(r.labels.severity), `${r.alert}: severity ${r.labels.severity}`);
    assert.ok(r.annotations.summary && r.annotations.description, `${r.alert}: summary and description`);
    if (r.for !== undefined) assert.match(r.for, /^\d+[smh]$/, `${r.alert}: for`);
    const used = r.expr.match(/\bmaskwatch_[a-z_]+/g) ?? [];
    assert.ok(used.length > 0, `${r.alert} uses a MaskWatch metric`);
    for (const name of used) assert.ok(exported.has(name), `${r.alert}: ${name} is not a metric MaskWatch exports`);
  }
});
