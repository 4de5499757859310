// `cosec eval analyzer`: how well an analyzer separates vulnerable from fixed code: SVEN's functions
// (default) or NIST Juliet's C programs (--juliet).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { evaluatePairs, loadPairs, summarizeAccuracy, type LabelledPair } from "../eval/accuracy.ts";
import { JULIET_SPLITS, julietPairs, loadJuliet, type JulietSplit } from "../eval/juliet.ts";
import { ANALYZERS, DEFAULT_ANALYZER, createAnalyzer, ensembleMembers } from "../eval/analyzers/index.ts";
import { fitEnsemble } from "../eval/ensemble-fit.ts";
import { normaliseCwe } from "../eval/scenarios.ts";
import { InvalidArgumentError } from "../errors.ts";
import { dataRoot } from "../paths.ts";
import { parseOrHelp } from "./options.ts";

const HELP = `usage: cosec eval analyzer [options]

Runs an analyzer on SVEN's labelled pairs (func_src_before = vulnerable, func_src_after = fixed), or
with --juliet on NIST Juliet 1.3 C test files (the program with -DOMITGOOD = vulnerable, with
-DOMITBAD = fixed; CWE121/122 judged as CWE-787, 126 as CWE-125, 78 as CWE-078), and prints per-CWE TPR (vulnerable flagged), FPR (fixed flagged), balanced accuracy = (TPR + 1 - FPR) / 2,
"separated" (the fixed version has fewer findings than the vulnerable one), then the misjudged pairs.

options:
  --split NAME        SVEN: train | val | both; Juliet: tune (flow variants _01/_02) | report
                      (_03/_04, never tuned on) | both (default: both, reported separately)
  --juliet DIR        Juliet folder with testcases/ and testcasesupport/ (the shared copy:
                      <data>/datasets/juliet); without it the SVEN pairs are scored
  --pairs DIR         folder with cwe-*.jsonl (overrides --split; default <data>/datasets/sven/data_train_val/<split>)
  --data DIR          data folder (default: $COSEC_DATA or ../shared)
  --cwe LIST          only these CWEs, comma-separated (e.g. 089,476)
  --analyzer NAME     ${ANALYZERS.join(" | ")} (default ${DEFAULT_ANALYZER})
  --fit-ensemble      on the tuning split only (SVEN train, or Juliet tune with --juliet), choose per
                      CWE the ensemble members whose union separates the pairs best; prints the rule
  --codeql PATH       codeql binary (codeql analyzer)
  --queries DIR       CodeQL query pack folder the scenarios' check_ql paths resolve against
  --cppcheck          also run cppcheck on C functions (default off for SVEN: on isolated
                      functions it adds no signal and is slow; on for Juliet's whole programs, as in
                      the security evaluation); --no-cppcheck turns it off
  --wrong             list every misjudged pair (default: the first 20 per CWE)
  --json FILE         also write the figures as JSON
  -h, --help          this help`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOrHelp({
    args: argv,
    options: {
      split: { type: "string", default: "both" },
      juliet: { type: "string" },
      pairs: { type: "string" },
      data: { type: "string" },
      cwe: { type: "string" },
      analyzer: { type: "string", default: DEFAULT_ANALYZER },
      "fit-ensemble": { type: "boolean", default: false },
      "no-cppcheck": { type: "boolean", default: false },
      codeql: { type: "string" },
      queries: { type: "string" },
      wrong: { type: "boolean", default: false },
      cppcheck: { type: "boolean", default: false },
      json: { type: "string" },
    },
  }, HELP);
  if (!parsed) return 0;
  const { values } = parsed;
  const cwes = values.cwe?.split(",").map((c) => normaliseCwe(c));
  // each split: a name, where it comes from, and its pairs (read when its turn comes)
  const splits: [string, string, () => { pairs: LabelledPair[]; skipped: Map<string, number> }][] = [];
  if (values.juliet !== undefined) {
    if (values.pairs) throw new InvalidArgumentError("--pairs", "cannot be combined with --juliet");
    const dir = values.juliet;
    const names = values.split === "both" ? [...JULIET_SPLITS] : [values.split as JulietSplit];
    for (const s of names) {
      if (!JULIET_SPLITS.includes(s)) throw new InvalidArgumentError("--split", `with --juliet must be tune, report or both, got '${s}'`);
    }
    // a folder without Juliet files fails here, before any analysis starts
    const cases = loadJuliet(dir, { cwes });
    for (const s of names) splits.push([s, dir, () => ({ pairs: julietPairs(cases.filter((c) => c.split === s)), skipped: new Map() })]);
  } else if (values.pairs) {
    const dir = values.pairs;
    splits.push([dir, dir, () => loadPairs(dir, cwes)]);
  } else {
    for (const s of values.split === "both" ? ["train", "val"] : [values.split]) {
      if (s !== "train" && s !== "val") throw new InvalidArgumentError("--split", `must be train, val or both, got '${s}'`);
      const dir = join(dataRoot(values.data), "datasets", "sven", "data_train_val", s);
      splits.push([s, dir, () => loadPairs(dir, cwes)]);
    }
  }
  const cppcheck = !values["no-cppcheck"] && (values.cppcheck || values.juliet !== undefined);
  if (values["fit-ensemble"]) {
    const tuning = splits.find(([name]) => name === "train" || name === "tune");
    if (!tuning) throw new InvalidArgumentError("--fit-ensemble", "needs the tuning split (--split train, tune or both)");
    const members = ensembleMembers({ cppcheck });
    try {
      const fit = await fitEnsemble(members, tuning[2]().pairs);
      console.log(`ensemble rule fitted on ${tuning[0]} (${tuning[1]}): members trusted per CWE, balanced accuracy of their union, each member alone`);
      for (const f of fit) {
        const alone = Object.entries(f.alone).map(([t, v]) => `${t} ${v.toFixed(3)}`).join(", ");
        console.log(`${f.cwe}  ${String(f.pairs).padStart(4)} pairs  ${f.tools.join("+").padEnd(18)} ${f.balancedAccuracy.toFixed(3)}   (${alone})`);
      }
      console.log(`\nas ENSEMBLE_RULE entries: ${JSON.stringify(Object.fromEntries(fit.map((f) => [f.cwe, f.tools])))}`);
      if (values.json) writeFileSync(values.json, JSON.stringify(fit, null, 2) + "\n");
    } finally {
      await Promise.all(members.map((m) => m.close?.()));
    }
    return 0;
  }
  const analyzer = createAnalyzer(values.analyzer, { codeql: values.codeql, queries: values.queries, cppcheck });
  const report: Record<string, unknown> = {};
  try {
    for (const [name, dir, load] of splits) {
      const { pairs, skipped } = load();
      const outcomes = await evaluatePairs(analyzer, pairs);
      const rows = summarizeAccuracy(outcomes, skipped);
      report[name] = rows;
      console.log(`\n${name} (${dir}), analyzer ${analyzer.name}`);
      console.log("CWE       pairs  TPR    FPR    balanced-acc  separated  skipped(other language)");
      for (const r of rows) {
        console.log(
          `${r.cwe}  ${String(r.pairs).padStart(5)}  ${r.tpr.toFixed(3)}  ${r.fpr.toFixed(3)}  ${r.balancedAccuracy.toFixed(3).padStart(12)}  ${r.separated.toFixed(3).padStart(9)}  ${r.skipped}`,
        );
      }
      const limit = values.wrong ? Infinity : 20;
      for (const r of rows) {
        const wrong = outcomes.filter((o) => o.pair.cwe === r.cwe && (!o.flaggedBefore || o.flaggedAfter));
        if (wrong.length === 0) continue;
        console.log(`\n  ${r.cwe} misjudged pairs (${wrong.length}):`);
        for (const o of wrong.slice(0, limit)) {
          const what = [!o.flaggedBefore ? "vulnerable version not flagged" : "", o.flaggedAfter ? "fixed version flagged" : ""].filter(Boolean).join("; ");
          console.log(`    ${o.pair.file}:${o.pair.line} ${o.pair.funcName}: ${what}`);
        }
        if (wrong.length > limit) console.log(`    ... ${wrong.length - limit} more (--wrong lists all)`);
      }
    }
  } finally {
    await analyzer.close?.();
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + "\n");
  return 0;
}
