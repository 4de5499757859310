// `cosec demo [build|evaluate]`: build the small model family with the project's trainer, show
// target vs cosec-plus on a few scenarios, or run the full security evaluation on the family.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { InvalidArgumentError } from "../errors.ts";
import { BUDGET_NAMES, getBudget, LONGER_BUDGET_HINT } from "../demo/budgets.ts";
import { buildFamily, LAYOUT, type BuildOptions } from "../demo/build.ts";
import { familyPaths, readManifest, STAGES, type Manifest, type StageName } from "../demo/manifest.ts";
import { resultsForShipped, SHIPPED_DIR, shipFamily, shippedResultsDir, verifiedShipped } from "../demo/shipped.ts";
import { DEFAULT_SHOW_SAMPLES, DEMO_STRATEGIES, demoFigures, demoReportHtml, formatScenario, formatSummary, REAL_MODEL_COMMANDS, runShow } from "../demo/show.ts";
import { ANALYZERS, DEFAULT_ANALYZER, createAnalyzer } from "../eval/analyzers/index.ts";
import { progressBar } from "../eval/progress.ts";
import { closeSharedPythonWorker } from "../eval/python-worker.ts";
import { defaultScenarioRoot, loadScenarios } from "../eval/scenarios.ts";
import { RAW_TARGET, type SampleRecord } from "../eval/security.ts";
import type { PairedDifference } from "../eval/paired-bootstrap.ts";
import { cacheRoot, dataRoot } from "../paths.ts";
import { parseOrHelp } from "./options.ts";

const DEFAULT_OUT = join(cacheRoot, "demo");
const SHIPPED_RESULTS = shippedResultsDir(cacheRoot);

const HELP = `usage: cosec demo [options]            target, expert and cosec-plus on the trained scenarios
       cosec demo evaluate [options]   the full security evaluation (25 samples) and HumanEval pass@1
       cosec demo build [options]      build a model family (GGUF) with the project's trainer
       cosec demo ship --from DIR      copy a built family into models/demo with its checksums

The family: a target trained on general code (Python standard library, C examples on this machine),
on the vulnerable versions of SVEN's training functions and on short programs of the scenarios'
domain; an expert about 1/6 of its size, distilled from the target, with a security LoRA trained on
SVEN's pairs and careless/careful pairs of those programs. One is shipped in models/demo (checked by
SHA-256 before use): without --out, cosec demo and cosec demo evaluate run on it, with no training.
Both also run target-raw, the target sampled at temperature 1 with no top-k or top-p: cosec-plus
draws from that distribution when it does not keep the expert's token, so its gain over target-raw
is the expert's own part.

options (all):
  --out DIR             a family built by cosec demo build (default: the shipped family; build's
                        default is .cache/demo)
  --data DIR            data folder (default: $COSEC_DATA or ../shared)
  -h, --help            this help
cosec demo:
  --build-if-missing    with --out: build the family first when DIR has none (budget: --budget)
  --scenarios LIST      scenario ids (default: every trained scenario)
  --samples N           samples per scenario and strategy (default ${DEFAULT_SHOW_SAMPLES})
  --seed N              (default 1)
  --max-tokens N        completion cap in tokens (default 128)
  --analyzer NAME       ${ANALYZERS.join(" | ")} (default ${DEFAULT_ANALYZER})
cosec demo build:
  --budget NAME         ${BUDGET_NAMES.join(" | ")} (default: default, ≈ 20 min on 2 cores; medium ≈ 1 h,
                        the shipped family; tiny is for CI, < 2 minutes)
  --seed N              (default 0)
  --force               rebuild every stage
  --until STAGE         stop after ${STAGES.join(" | ")}
  --threads N           PyTorch threads per training process (default: PyTorch's choice)
cosec demo evaluate:
  --samples N           samples per scenario and strategy (default 25, as SVEN)
  --humaneval-problems N  HumanEval problems for pass@1 (default 20; 5 samples each)
  --scenarios LIST      only scenario ids containing one of these (default: all)
  --seed N, --max-tokens N (default 128), --analyzer NAME as above
cosec demo ship:
  --from DIR            the built family to ship (its cosec demo evaluate figures go along)
  --to DIR              (default models/demo)`;

function int(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!Number.isInteger(x) || x < 0) throw new InvalidArgumentError(name, `not a non-negative integer: ${v}`);
  return x;
}

const OPTIONS = {
  out: { type: "string" },
  data: { type: "string" },
  budget: { type: "string" },
  seed: { type: "string" },
  force: { type: "boolean" },
  until: { type: "string" },
  threads: { type: "string" },
  "build-if-missing": { type: "boolean" },
  scenarios: { type: "string" },
  samples: { type: "string" },
  "humaneval-problems": { type: "string" },
  "max-tokens": { type: "string" },
  analyzer: { type: "string", default: DEFAULT_ANALYZER },
  from: { type: "string" },
  to: { type: "string" },
} as const;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOrHelp({ args: argv, options: OPTIONS, allowPositionals: true }, HELP);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const sub = positionals[0] ?? "show";
  if (positionals.length > 1 || !["show", "build", "evaluate", "ship"].includes(sub)) {
    throw new InvalidArgumentError("command", `unknown demo command '${positionals.join(" ")}' (build | evaluate | ship, or none)`);
  }
  const threads = values.threads === undefined ? undefined : int(values.threads, "--threads", 0) || undefined;
  if (values.until !== undefined && !(STAGES as readonly string[]).includes(values.until)) {
    throw new InvalidArgumentError("--until", `unknown stage '${values.until}' (one of ${STAGES.join(", ")})`);
  }
  const until = values.until as StageName | undefined;
  if (sub === "build") return build(resolve(values.out ?? DEFAULT_OUT), values.budget ?? "default", { seed: int(values.seed, "--seed", 0), data: values.data, force: !!values.force, threads, until });
  if (sub === "ship") {
    if (!values.from) throw new InvalidArgumentError("--from", "cosec demo ship needs --from DIR (a family built by cosec demo build)");
    const shipped = shipFamily(resolve(values.from), resolve(values.to ?? SHIPPED_DIR));
    for (const [role, f] of Object.entries(shipped.files)) console.log(`${role.padEnd(10)} ${f.file}  ${f.bytes} bytes  sha256 ${f.sha256}`);
    console.log(`shipped the ${shipped.budget} family to ${values.to ?? relative(process.cwd(), SHIPPED_DIR)}${shipped.figures ? " with its evaluation figures" : " (no cosec demo evaluate figures found in --from)"}`);
    return 0;
  }

  let fam: Family | null;
  if (values.out === undefined) {
    const v = verifiedShipped(); // a missing or damaged shipped file is a named error here
    const dropped = resultsForShipped(SHIPPED_RESULTS, v.shipped);
    if (dropped) console.log(`The shipped family changed since ${relative(process.cwd(), SHIPPED_RESULTS)} was written: its results of the earlier family were removed.`);
    fam = { paths: v.paths, manifest: v.manifest, results: SHIPPED_RESULTS, label: `shipped ${v.shipped.budget} family in ${relative(process.cwd(), SHIPPED_DIR)}` };
  } else {
    const outDir = resolve(values.out);
    fam = builtFamily(outDir);
    if (!fam && values["build-if-missing"]) {
      console.log(`No demo family in ${outDir} yet: building it (budget ${values.budget ?? "default"}).`);
      const rc = await build(outDir, values.budget ?? "default", { seed: 0, data: values.data, force: false, threads });
      if (rc !== 0) return rc;
      fam = builtFamily(outDir);
    }
    if (!fam) {
      console.error(`cosec demo: no model family in ${outDir}; run \`cosec demo build --out ${values.out}\` (or add --build-if-missing), or leave out --out to use the shipped family.`);
      return 1;
    }
  }
  const family = fam.paths;
  const seed = int(values.seed, "--seed", 1);
  const maxTokens = int(values["max-tokens"], "--max-tokens", 128);
  if (sub === "evaluate") {
    const { run: evalSecurity } = await import("./eval-security.ts");
    const evalDir = join(fam.results, LAYOUT.evalRun(seed, maxTokens));
    // Both evaluations: the family, its strategies, the seed, the token cap and the data folder.
    const common = ["--target", family.target, "--expert", family.expert, "--expert-lora", family.expertLora];
    common.push("--seed", String(seed), "--max-tokens", String(maxTokens), ...(values.data ? ["--data", values.data] : []));
    const args = [...common, "--strategies", DEMO_STRATEGIES.join(","), "--out", evalDir, "--samples", String(int(values.samples, "--samples", 25)), "--analyzer", values.analyzer];
    if (values.scenarios) args.push("--only", values.scenarios);
    const securityStatus = await evalSecurity(args);
    if (securityStatus !== 0) return securityStatus;
    const { ResultsStore } = await import("../eval/results-store.ts");
    const { recordKey } = await import("../eval/security.ts");
    // The paired gains were bootstrapped and printed by eval security, which wrote them to summary.json.
    const { gains } = JSON.parse(readFileSync(join(evalDir, "summary.json"), "utf8")) as { gains?: PairedDifference[] };
    const figures = demoFigures(new ResultsStore<SampleRecord>(join(evalDir, "results.jsonl"), recordKey).records(), gains);
    console.log("");
    console.log(formatSummary(figures, { gainLines: false }));
    writeFileSync(join(evalDir, "demo-figures.json"), JSON.stringify({ gain: figures.gain, cwesWithGain: figures.cwesWithGain, rawGain: figures.rawGain }, null, 2) + "\n");
    // HumanEval exercises the functional-correctness pipeline; models this small score ~0 and the
    // figure claims nothing. A subset keeps the demo's evaluation within minutes on a CPU.
    const { run: evalHumaneval } = await import("./eval-humaneval.ts");
    const heDir = join(fam.results, LAYOUT.eval, `humaneval-seed${seed}-max${maxTokens}`);
    // target-raw is a security baseline; HumanEval runs the demo's other strategies.
    const heStrategies = DEMO_STRATEGIES.filter((s) => s !== RAW_TARGET).join(",");
    return evalHumaneval([...common, "--strategies", heStrategies, "--out", heDir, "--limit", String(int(values["humaneval-problems"], "--humaneval-problems", 20)), "--n", "5", "--k", "1"]);
  }
  return show(fam, {
    scenarioIds: values.scenarios?.split(",").map((s) => s.trim()),
    samples: Math.max(1, int(values.samples, "--samples", DEFAULT_SHOW_SAMPLES)),
    seed,
    maxTokens,
    analyzerName: values.analyzer,
    data: values.data,
  });
}

interface Family {
  paths: { target: string; expert: string; expertLora: string };
  manifest: Manifest | null;
  /** Where this family's demo and evaluation results go. */
  results: string;
  label: string;
}

function builtFamily(outDir: string): Family | null {
  const paths = familyPaths(outDir);
  if (!paths) return null;
  const manifest = readManifest(outDir);
  return { paths, manifest, results: outDir, label: `${manifest?.budget ?? "?"} family (seed ${manifest?.seed ?? "?"}) in ${relative(process.cwd(), outDir) || "."}` };
}

type BuildArgs = Pick<BuildOptions, "seed" | "data" | "force" | "threads" | "until">;

/** " (synthetic 2008, sven_train 1)": the exclusions per kind of record, from the corpus counts. */
function nearDuplicatesByKind(counts: unknown): string {
  if (!counts || typeof counts !== "object") return "";
  const parts = Object.entries(counts as Record<string, Record<string, number>>)
    .map(([kind, c]) => [kind, c.near_duplicate_of_scenario ?? 0] as const)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind} ${n}`);
  return parts.length ? ` (${parts.join(", ")}); none is left in the training data` : "";
}

async function build(outDir: string, budgetName: string, a: BuildArgs): Promise<number> {
  const budget = getBudget(budgetName);
  const abort = new AbortController();
  // Stop the trainer process too (it would go on writing otherwise); a rerun resumes its checkpoint.
  const onSignal = () => abort.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const r = await buildFamily({ outDir, budget, ...a, signal: abort.signal });
    const m = r.manifest;
    const corpus = m.stages.corpus?.info ?? {};
    console.log(`manifest: ${join(outDir, "manifest.json")}`);
    console.log(`near duplicates of evaluation scenarios excluded from training: ${String(corpus.nearDuplicatesExcluded ?? "?")}${nearDuplicatesByKind(corpus.counts)}`);
    return 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

interface ShowArgs {
  /** Scenario ids; all trained scenarios when absent. */
  scenarioIds?: string[];
  samples: number;
  seed: number;
  maxTokens: number;
  analyzerName: string;
  data?: string;
}

async function show(fam: Family, a: ShowArgs): Promise<number> {
  const started = Date.now();
  const root = a.data ? join(dataRoot(a.data), "datasets", "sven", "data_eval", "trained") : defaultScenarioRoot();
  const load = loadScenarios(root, a.scenarioIds ? { only: a.scenarioIds } : {});
  const ids = a.scenarioIds ?? load.scenarios.map((s) => s.id);
  const scenarios = ids.map((id) => load.scenarios.find((s) => s.id === id)).filter((s) => s !== undefined);
  const unknown = ids.filter((id) => !scenarios.some((s) => s.id === id));
  if (unknown.length) throw new InvalidArgumentError("--scenarios", `not found under ${root}: ${unknown.join(", ")}`);
  const analyzer = createAnalyzer(a.analyzerName);
  const { Engine } = await import("../generate/engine.ts");
  const engine = await Engine.load({ ...fam.paths, maxSequences: a.samples });
  try {
    console.log(`demo: ${fam.label}; ${scenarios.length} scenarios × ${a.samples} samples × target, expert alone, cosec-plus`);
    const showDir = join(fam.results, LAYOUT.show);
    const r = await runShow({
      scenarios,
      generate: (prompt, opts) => engine.generate(prompt, opts),
      analyzer,
      outDir: showDir,
      samples: a.samples,
      seed: a.seed,
      maxTokens: a.maxTokens,
      onProgress: progressBar("demo"),
    });
    const colour = !!process.stdout.isTTY && !process.env.NO_COLOR;
    for (const s of scenarios) console.log(formatScenario(s, r.records, { colour }));
    console.log("");
    console.log(`Lines marked ▌ are the ones the other completion lacks. analyzer: ${analyzer.name}; ${a.samples} sample(s) per scenario and strategy, seed ${a.seed}, at most ${a.maxTokens} tokens`);
    const figures = demoFigures(r.records);
    console.log(formatSummary(figures));
    mkdirSync(showDir, { recursive: true });
    const report = join(showDir, `report-${analyzer.name}-seed${a.seed}-max${a.maxTokens}.html`);
    const subtitle = `${fam.label}; ${scenarios.length} scenarios × ${a.samples} samples; analyzer ${analyzer.name}; seed ${a.seed}; ${new Date().toISOString()}`;
    writeFileSync(report, demoReportHtml(scenarios, r.records, figures, analyzer.name, subtitle));
    console.log("");
    console.log(`report (every sample side by side): ${report}`);
    console.log(`results: ${r.resultsFile} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    console.log("These are small models trained on 2 CPU cores: the numbers show the mechanism, not real-model quality.");
    console.log(`Full evaluation (25 samples per scenario, HumanEval pass@1): cosec demo evaluate${fam.results === SHIPPED_RESULTS ? "" : ` --out ${relative(process.cwd(), fam.results)}`}`);
    if (fam.manifest?.budget !== "medium" && fam.manifest?.budget !== "large") console.log(LONGER_BUDGET_HINT);
    console.log("");
    console.log(REAL_MODEL_COMMANDS);
    return 0;
  } finally {
    await analyzer.close?.();
    closeSharedPythonWorker();
    await engine.dispose();
  }
}
