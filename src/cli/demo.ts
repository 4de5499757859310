// `cosec demo [build|evaluate]`: build the small model family with the project's trainer, show
// target vs cosec-plus on a few scenarios, or run the full security evaluation on the family.
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { InvalidArgumentError } from "../errors.ts";
import { BUDGET_NAMES, getBudget, LONGER_BUDGET_HINT } from "../demo/budgets.ts";
import { buildFamily, LAYOUT } from "../demo/build.ts";
import { familyPaths, readManifest, STAGES, type StageName } from "../demo/manifest.ts";
import { DEFAULT_SHOW_SCENARIOS, formatScenario, formatTally, REAL_MODEL_COMMANDS, runShow, tally } from "../demo/show.ts";
import { createAnalyzer } from "../eval/analyzers/index.ts";
import { progressBar } from "../eval/progress.ts";
import { closeSharedPythonWorker } from "../eval/python-worker.ts";
import { defaultScenarioRoot, loadScenarios } from "../eval/scenarios.ts";
import { cacheRoot, dataRoot } from "../paths.ts";

const DEFAULT_OUT = join(cacheRoot, "demo");

const HELP = `usage: cosec demo [options]            show target vs cosec-plus on a few scenarios
       cosec demo build [options]      build the small model family (GGUF) with the project's trainer
       cosec demo evaluate [options]   security evaluation of target, expert and cosec-plus

The family: a target trained on general code (Python standard library, C examples on this machine)
and on the vulnerable versions of SVEN's training functions; an expert about 1/6 of its size,
distilled from the target, with a security LoRA trained on SVEN's pairs. Built once into
--out (default .cache/demo); a rerun skips finished stages (see manifest.json).

options (all):
  --out DIR             family folder (default .cache/demo)
  --data DIR            data folder (default: $COSEC_DATA or ../shared)
  -h, --help            this help
cosec demo:
  --build-if-missing    build the family first when --out has none (budget: --budget)
  --scenarios LIST      scenario ids (default ${DEFAULT_SHOW_SCENARIOS.join(",")})
  --samples N           samples per scenario and strategy (default 2)
  --seed N              (default 1)
  --max-tokens N        completion cap in tokens (default 128)
  --analyzer NAME       builtin (default) | codeql
cosec demo build:
  --budget NAME         ${BUDGET_NAMES.join(" | ")} (default: default, ≈ 20 min on 2 cores; medium ≈ 1 h;
                        tiny is for CI, < 2 minutes)
  --seed N              (default 0)
  --force               rebuild every stage
  --until STAGE         stop after ${STAGES.join(" | ")}
  --threads N           PyTorch threads per training process (default: PyTorch's choice)
cosec demo evaluate:
  --samples N           samples per scenario and strategy (default 25, as SVEN)
  --humaneval-problems N  HumanEval problems for pass@1 (default 20; 5 samples each)
  --scenarios LIST      only scenario ids containing one of these (default: all)
  --seed N, --max-tokens N (default 128), --analyzer NAME as above`;

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
  analyzer: { type: "string", default: "builtin" },
  help: { type: "boolean", short: "h" },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const sub = positionals[0] ?? "show";
  if (positionals.length > 1 || !["show", "build", "evaluate"].includes(sub)) {
    throw new InvalidArgumentError("command", `unknown demo command '${positionals.join(" ")}' (build | evaluate, or none)`);
  }
  const outDir = resolve(values.out ?? DEFAULT_OUT);
  const threads = values.threads === undefined ? undefined : int(values.threads, "--threads", 0) || undefined;
  if (values.until !== undefined && !(STAGES as readonly string[]).includes(values.until)) {
    throw new InvalidArgumentError("--until", `unknown stage '${values.until}' (one of ${STAGES.join(", ")})`);
  }
  const until = values.until as StageName | undefined;
  if (sub === "build") return build(outDir, values.budget ?? "default", { seed: int(values.seed, "--seed", 0), data: values.data, force: !!values.force, threads, until });

  let family = familyPaths(outDir);
  if (!family && values["build-if-missing"]) {
    console.log(`No demo family in ${outDir} yet: building it (budget ${values.budget ?? "default"}).`);
    const rc = await build(outDir, values.budget ?? "default", { seed: 0, data: values.data, force: false, threads });
    if (rc !== 0) return rc;
    family = familyPaths(outDir);
  }
  if (!family) {
    console.error(`cosec demo: no model family in ${outDir}; run \`cosec demo build\` (or \`cosec demo --build-if-missing\`).`);
    return 1;
  }
  const seed = int(values.seed, "--seed", 1);
  const maxTokens = int(values["max-tokens"], "--max-tokens", 128);
  if (sub === "evaluate") {
    const { run: evalSecurity } = await import("./eval-security.ts");
    const args = ["--target", family.target, "--expert", family.expert, "--expert-lora", family.expertLora];
    args.push("--strategies", "target,expert,cosec-plus", "--out", join(outDir, LAYOUT.eval, `seed${seed}-max${maxTokens}`), "--samples", String(int(values.samples, "--samples", 25)));
    args.push("--seed", String(seed), "--max-tokens", String(maxTokens), "--analyzer", values.analyzer);
    if (values.data) args.push("--data", values.data);
    if (values.scenarios) args.push("--only", values.scenarios);
    const securityStatus = await evalSecurity(args);
    if (securityStatus !== 0) return securityStatus;
    // HumanEval exercises the functional-correctness pipeline; models this small score ~0 and the
    // figure claims nothing. A subset keeps the demo's evaluation within minutes on a CPU.
    const { run: evalHumaneval } = await import("./eval-humaneval.ts");
    const he = ["--target", family.target, "--expert", family.expert, "--expert-lora", family.expertLora];
    he.push("--strategies", "target,expert,cosec-plus", "--out", join(outDir, LAYOUT.eval, `humaneval-seed${seed}-max${maxTokens}`));
    he.push("--limit", String(int(values["humaneval-problems"], "--humaneval-problems", 20)), "--n", "5", "--k", "1");
    he.push("--seed", String(seed), "--max-tokens", String(maxTokens));
    if (values.data) he.push("--data", values.data);
    return evalHumaneval(he);
  }
  return show(outDir, family, {
    scenarioIds: values.scenarios?.split(",").map((s) => s.trim()) ?? [...DEFAULT_SHOW_SCENARIOS],
    samples: Math.max(1, int(values.samples, "--samples", 2)),
    seed,
    maxTokens,
    analyzerName: values.analyzer,
    data: values.data,
  });
}

interface BuildArgs {
  seed: number;
  data?: string;
  force: boolean;
  threads?: number;
  until?: StageName;
}

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
  scenarioIds: string[];
  samples: number;
  seed: number;
  maxTokens: number;
  analyzerName: string;
  data?: string;
}

async function show(outDir: string, family: { target: string; expert: string; expertLora: string }, a: ShowArgs): Promise<number> {
  const root = a.data ? join(dataRoot(a.data), "datasets", "sven", "data_eval", "trained") : defaultScenarioRoot();
  const load = loadScenarios(root, { only: a.scenarioIds });
  const scenarios = a.scenarioIds.map((id) => load.scenarios.find((s) => s.id === id)).filter((s) => s !== undefined);
  const unknown = a.scenarioIds.filter((id) => !scenarios.some((s) => s.id === id));
  if (unknown.length) throw new InvalidArgumentError("--scenarios", `not found under ${root}: ${unknown.join(", ")}`);
  const manifest = readManifest(outDir);
  const analyzer = createAnalyzer(a.analyzerName);
  const { Engine } = await import("../generate/engine.ts");
  const engine = await Engine.load({ ...family, maxSequences: a.samples });
  try {
    console.log(`demo family (${manifest?.budget ?? "?"} budget, seed ${manifest?.seed ?? "?"}) in ${outDir}`);
    const r = await runShow({
      scenarios,
      generate: (prompt, opts) => engine.generate(prompt, opts),
      analyzer,
      outDir: join(outDir, LAYOUT.show),
      samples: a.samples,
      seed: a.seed,
      maxTokens: a.maxTokens,
      onProgress: progressBar("demo"),
    });
    for (const s of scenarios) console.log(formatScenario(s, r.records));
    console.log("");
    console.log(`analyzer: ${analyzer.name}; ${a.samples} sample(s) per scenario, seed ${a.seed}, at most ${a.maxTokens} tokens`);
    console.log(formatTally(tally(r.records)));
    console.log("These are tiny models trained in minutes: the numbers show the mechanism, not real-model quality.");
    console.log(`Full evaluation of this family: cosec demo evaluate --out ${outDir}`);
    if (manifest?.budget !== "medium" && manifest?.budget !== "large") console.log(LONGER_BUDGET_HINT);
    console.log("");
    console.log(REAL_MODEL_COMMANDS);
    return 0;
  } finally {
    await analyzer.close?.();
    closeSharedPythonWorker();
    await engine.dispose();
  }
}
