/**
 * Pools the report clips of several `bench:incidents` runs made with the same
 * settings (e.g. --offset 0 --limit 100 and --offset 100 --limit 110) into one
 * summary with bootstrap intervals over all clips:
 *
 *   npx tsx bench/incidents-combine.ts reports/bench-incidents.json /tmp/bench2/bench-incidents.json > summary.md
 */
import { readFile } from 'node:fs/promises';
import { seededRandom } from './lib/clips.ts';
import { bootstrap, percentileOf, precisionRecall, sumScores, type ClipScore } from './lib/incident-score.ts';

type Clip = ClipScore & { stem: string; latencyMs: number | null };
const runs = await Promise.all(process.argv.slice(2).map(async (f) => JSON.parse(await readFile(f, 'utf8')) as { settings: unknown; clips: Clip[] }));
if (runs.length === 0) {
  process.stderr.write('usage: incidents-combine.ts RUN.json [RUN.json …]\n');
  process.exit(2);
}
const settings = JSON.stringify(runs[0]!.settings);
if (runs.some((r) => JSON.stringify(r.settings) !== settings)) {
  process.stderr.write('runs were made with different settings; refusing to pool them\n');
  process.exit(1);
}
const clips = runs.flatMap((r) => r.clips);
if (new Set(clips.map((c) => c.stem)).size !== clips.length) {
  process.stderr.write('a clip appears in two runs; refusing to pool them\n');
  process.exit(1);
}
const total = sumScores(clips);
const pr = precisionRecall(total);
const ci = bootstrap(clips, seededRandom(1));
const withViolator = clips.filter((c) => c.positives > 0);
const latencies = clips.flatMap((c) => (c.latencyMs === null ? [] : [c.latencyMs]));
const f = (x: number | null) => (x === null ? '–' : x.toFixed(3));
process.stdout.write(`Pooled report clips: ${clips.length} (settings ${settings})

| measure | measured |
|---|---|
| person precision | ${f(pr.precision)} (95 % CI ${f(ci.precision[0])}–${f(ci.precision[1])}; ${total.tp} TP / ${total.fp} FP) |
| person recall | ${f(pr.recall)} (95 % CI ${f(ci.recall[0])}–${f(ci.recall[1])}; ${total.found} of ${total.positives}) |
| duplicates | ${total.duplicates} |
| clips with a violator having exactly one alert | ${withViolator.filter((c) => c.alerts === 1).length} of ${withViolator.length} (none: ${withViolator.filter((c) => c.alerts === 0).length}, more than one: ${withViolator.filter((c) => c.alerts > 1).length}) |
| alerts on clips without a violator ≥ 24 px | ${clips.filter((c) => c.positives === 0).reduce((n, c) => n + c.alerts, 0)} |
| first frame → alert.created p50 / p95 (ms) | ${f(percentileOf(latencies, 0.5))} / ${f(percentileOf(latencies, 0.95))} (n = ${latencies.length}) |
`);
