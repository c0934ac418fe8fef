/**
 * `node scripts/bench/prof-summary.ts FILE.cpuprofile [--top 25]`: the functions with the most self time
 * in a V8 CPU profile (as written by `npm run bench -- --cpu-prof`), with their share of the samples and
 * where they live — the quick look before opening the profile in Chrome DevTools.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
if (!positionals[0]) {
  process.stderr.write('usage: node scripts/bench/prof-summary.ts FILE.cpuprofile [--top N]\n');
  process.exit(2);
}
const prof = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i]!, (self.get(prof.samples[i]!) ?? 0) + (prof.timeDeltas[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const agg = new Map<string, number>();
for (const [id, us] of self) {
  const f = byId.get(id)!.callFrame;
  const where = f.url ? `${f.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '')}:${f.lineNumber + 1}` : '';
  const key = `${f.functionName || '(anonymous)'}  ${where}`;
  agg.set(key, (agg.get(key) ?? 0) + us);
}
const top = [...agg.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
process.stdout.write(`total sampled ${(total / 1000).toFixed(0)} ms\n`);
for (const [k, us] of top) process.stdout.write(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}\n`);
