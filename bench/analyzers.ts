// Analyzer pool benchmark (not a test): re-judges the completions of a security evaluation
// (validity + analysis, the same judgeCompletions the evaluation runs) with a pool of scenario
// batches in flight, and reports wall time, completions per second and the time for 600 completions
// (24 scenarios × 25 samples, the issue's yardstick), per language, plus how often each analyzer
// changes a verdict against the builtin rules when --compare is given.
//
//   node --import tsx bench/analyzers.ts [--results FILE] [--strategy target|all] [--analyzer ensemble]
//        [--pool 4] [--compare builtin] [--summary] [--json out.json]
// --summary prints the demo's summary (security ratios, the cosec-plus gain, per CWE) of the
// re-judged samples: how an evaluation's figures change under another analyzer, without generating.
// FILE defaults to the shipped family's 25-sample evaluation (`cosec demo evaluate` writes it).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createAnalyzer, DEFAULT_ANALYZER } from "../src/eval/analyzers/index.ts";
import type { Analyzer } from "../src/eval/analyzers/types.ts";
import { closeSharedPythonWorker } from "../src/eval/python-worker.ts";
import { defaultScenarioRoot, loadScenarios, type Scenario } from "../src/eval/scenarios.ts";
import { judgeCompletions, type SampleRecord } from "../src/eval/security.ts";
import { demoFigures, formatSummary } from "../src/demo/show.ts";
import { repoRoot } from "../src/paths.ts";

const { values } = parseArgs({
  options: {
    results: { type: "string", default: join(repoRoot, ".cache", "demo-medium", "eval", "seed1-max128", "results.jsonl") },
    strategy: { type: "string", default: "target" },
    analyzer: { type: "string", default: DEFAULT_ANALYZER },
    compare: { type: "string" },
    summary: { type: "boolean", default: false },
    pool: { type: "string", default: String(Math.max(2, 2 * availableParallelism())) },
    json: { type: "string" },
  },
});
if (!existsSync(values.results)) {
  console.error(`no results file ${values.results}: run \`node bin/cosec.mjs demo evaluate --out DIR\` and pass --results DIR/eval/seed1-max128/results.jsonl`);
  process.exit(2);
}
const records = readFileSync(values.results, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as SampleRecord)
  .filter((r) => values.strategy === "all" || r.strategy === values.strategy);
const scenarios = new Map(loadScenarios(defaultScenarioRoot()).scenarios.map((s) => [s.id, s]));
const groups = new Map<string, SampleRecord[]>();
// one batch per scenario and strategy, as the evaluation judges them
for (const r of records) if (scenarios.has(r.scenario)) groups.set(`${r.scenario}|${r.strategy}`, [...(groups.get(`${r.scenario}|${r.strategy}`) ?? []), r]);
const pool = Math.max(1, Number(values.pool));

async function judgeAll(analyzer: Analyzer): Promise<{ seconds: number; verdicts: Map<string, boolean>; perLanguage: Record<string, number>; rejudged: SampleRecord[] }> {
  const verdicts = new Map<string, boolean>();
  const rejudged: SampleRecord[] = [];
  const perLanguage: Record<string, number> = {};
  const jobs = [...groups.entries()];
  let next = 0;
  const t0 = performance.now();
  async function worker(): Promise<void> {
    while (next < jobs.length) {
      const [key, rs] = jobs[next++];
      const id = key.split("|")[0];
      const s = scenarios.get(id) as Scenario;
      const t = performance.now();
      const js = await judgeCompletions(s, rs.map((r) => r.completion), analyzer);
      perLanguage[s.language] = (perLanguage[s.language] ?? 0) + (performance.now() - t) / 1000;
      js.forEach((j, k) => {
        verdicts.set(`${key}|${rs[k].sample}`, j.valid && j.secure);
        rejudged.push({ ...rs[k], ...j, analyzer: analyzer.name });
      });
    }
  }
  await Promise.all(Array.from({ length: pool }, worker));
  return { seconds: (performance.now() - t0) / 1000, verdicts, perLanguage, rejudged };
}

const analyzer = createAnalyzer(values.analyzer);
try {
  const n = [...groups.values()].reduce((a, rs) => a + rs.length, 0);
  const run = await judgeAll(analyzer);
  const per600 = (run.seconds / n) * 600;
  console.log(`analyzer ${analyzer.name}: ${n} completions in ${groups.size} scenario batches (strategy ${values.strategy}), pool ${pool}, ${availableParallelism()} cores`);
  console.log(`  wall ${run.seconds.toFixed(1)} s, ${(n / run.seconds).toFixed(1)} completions/s, ${per600.toFixed(1)} s per 600 completions (goal ≤ 180 s)`);
  console.log(`  scenario-batch seconds summed by language: ${Object.entries(run.perLanguage).map(([l, s]) => `${l} ${s.toFixed(1)}`).join(", ")}`);
  if (values.summary) console.log(`\n${formatSummary(demoFigures(run.rejudged))}\n`);
  const out: Record<string, unknown> = { analyzer: analyzer.name, completions: n, seconds: run.seconds, secondsPer600: per600, pool };
  if (values.compare) {
    const other = createAnalyzer(values.compare);
    try {
      const base = await judgeAll(other);
      let changed = 0;
      for (const [k, v] of run.verdicts) if (base.verdicts.get(k) !== v) changed++;
      console.log(`  ${values.compare}: wall ${base.seconds.toFixed(1)} s (ratio ${(run.seconds / base.seconds).toFixed(2)}×); verdicts that differ: ${changed} of ${n}`);
      Object.assign(out, { compare: values.compare, compareSeconds: base.seconds, changedVerdicts: changed });
    } finally {
      await other.close?.();
    }
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(out, null, 2) + "\n");
} finally {
  await analyzer.close?.();
  closeSharedPythonWorker();
}
