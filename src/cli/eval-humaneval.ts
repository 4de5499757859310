// `cosec eval humaneval`: functional correctness (pass@k) of one or more strategies on
// MultiPL-E-style problems, with every generated program executed in a sandbox.
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../atomic-write.ts";
import { InvalidArgumentError } from "../errors.ts";
import { resolveDecodingSettings, type DecodingSettings } from "../decoding/settings.ts";
import type { EngineModelsOptions } from "../generate/types.ts";
import { recordKey, runHumanEval, type HumanEvalProgress, type HumanEvalRecord } from "../eval/humaneval/pipeline.ts";
import { loadProblems } from "../eval/humaneval/problems.ts";
import { humanEvalSections } from "../eval/humaneval/report.ts";
import { checkRunSettings } from "../eval/humaneval/run-config.ts";
import { DEFAULT_LIMITS, probeSandbox, type SandboxOptions } from "../eval/humaneval/sandbox.ts";
import { formatSummary, summarize } from "../eval/humaneval/summary.ts";
import { renderReport } from "../eval/report/index.ts";
import { ResultsStore } from "../eval/results-store.ts";
import { decodingRunSettings, modelRunSettings } from "../eval/run-settings.ts";
import { dataRoot } from "../paths.ts";
import { DECODING_HELP, DECODING_OPTIONS, MODEL_HELP, MODEL_OPTIONS, decodingInputFrom, engineOptionsFrom, intAtLeast, numberOption, positiveInt, str, strategyListFrom } from "./options.ts";

const HELP = `usage: cosec eval humaneval --target MODEL.gguf [options]

Generates N samples per problem for each strategy (paired: same seed per sample index), runs
prompt + completion + tests with python3 inside a bubblewrap sandbox, and reports pass@k.
Re-running with the same --out continues where a previous run stopped.

problems and sampling:
  --problems DIR            folder of MultiPL-E YAML problems
                            (default <data>/datasets/sven/data_eval/human_eval); --data DIR sets <data>
  --limit N                 only the first N problems (natural name order)
  --strategies LIST         comma-separated (default: target,cosec-plus with --expert, else target)
  --n N                     samples per problem and strategy (default 20)
  --k LIST                  pass@k values (default 1)
  --max-tokens N            (default 256)
  --seed S                  (default 0)
  --batch N                 samples generated together as parallel sequences (default min(n, 8))
execution:
  --jobs N                  programs run at once (default: CPU cores)
  --timeout S               wall-clock seconds per program (default ${DEFAULT_LIMITS.timeoutSeconds}); also its CPU limit
  --memory-mb N             address-space limit (default ${DEFAULT_LIMITS.memoryBytes / 1024 ** 2})
  --max-processes N         process limit inside the sandbox (default ${DEFAULT_LIMITS.maxProcesses})
  --python FILE             interpreter used inside the sandbox (default /usr/bin/python3)
  --unsafe-no-sandbox       run generated code WITHOUT isolation (only rlimits and a timeout)
output:
  --out DIR                 results folder (default humaneval-results): samples.jsonl (one record
                            per sample), run.json, summary.json, report.html

${DECODING_HELP}
  (here --temperature defaults to 0.2 when the largest k is 1, else 0.8; --strategy: use --strategies)

${MODEL_HELP}
  -h, --help                this help`;

const FLAGS = {
  ...MODEL_OPTIONS,
  problems: { type: "string" },
  data: { type: "string" },
  limit: { type: "string" },
  strategies: { type: "string" },
  ...DECODING_OPTIONS,
  n: { type: "string" },
  k: { type: "string" },
  "max-tokens": { type: "string" },
  seed: { type: "string" },
  batch: { type: "string" },
  jobs: { type: "string" },
  timeout: { type: "string" },
  "memory-mb": { type: "string" },
  "max-processes": { type: "string" },
  python: { type: "string" },
  "unsafe-no-sandbox": { type: "boolean", default: false },
  out: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** Everything a run needs, from the flags alone (nothing is loaded or probed yet). */
export interface HumanEvalSettings {
  engine: EngineModelsOptions;
  problemsDir: string;
  /** Only the first `limit` problems, when set. */
  limit: number | undefined;
  /** Each strategy's decoding (the flags, with this evaluation's temperature default). */
  strategies: DecodingSettings[];
  n: number;
  ks: number[];
  seed: number;
  maxTokens: number;
  batch: number;
  jobs: number;
  sandbox: SandboxOptions & { limits: NonNullable<SandboxOptions["limits"]> };
  outDir: string;
}

function positiveList(flag: string, list: string): number[] {
  return list.split(",").map((raw) => {
    const n = Number(raw);
    if (raw.trim() === "" || !intAtLeast(1)(n)) throw new InvalidArgumentError(flag, `expected comma-separated positive integers, got '${raw}'`);
    return n;
  });
}

/** Flags → run settings; "help" for -h/--help. */
export function parseHumanEvalArgs(argv: string[]): HumanEvalSettings | "help" {
  const { values: v } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  if (v.help) return "help";
  const n = positiveInt(v, "n") ?? 20;
  const batch = positiveInt(v, "batch") ?? Math.min(n, 8);
  const engine = engineOptionsFrom(v, { maxSequences: batch });
  const ks = positiveList("--k", v.k ?? "1");
  const maxK = Math.max(...ks);
  if (maxK > n) throw new InvalidArgumentError("--k", `pass@${maxK} needs --n of at least ${maxK} (got ${n})`);
  if (str(v, "strategy")) throw new InvalidArgumentError("--strategy", "use --strategies (a comma-separated list) with cosec eval humaneval");
  const input = decodingInputFrom(v);
  const ctx = { source: "cli", hasExpert: engine.expert !== undefined, base: { temperature: maxK === 1 ? 0.2 : 0.8 } } as const;
  const strategies = strategyListFrom(v.strategies ?? (engine.expert ? "target,cosec-plus" : "target")).map((name) => resolveDecodingSettings({ ...input, strategy: name }, ctx));
  const timeout = numberOption(v, "timeout", (x) => x > 0, "a positive number of seconds") ?? DEFAULT_LIMITS.timeoutSeconds;
  return {
    engine,
    problemsDir: v.problems ?? join(dataRoot(v.data), "datasets", "sven", "data_eval", "human_eval"),
    limit: positiveInt(v, "limit"),
    strategies,
    n,
    ks,
    seed: numberOption(v, "seed", (x) => Number.isSafeInteger(x) && x >= 0, "a non-negative integer") ?? 0,
    maxTokens: positiveInt(v, "max-tokens") ?? 256,
    batch,
    jobs: positiveInt(v, "jobs") ?? availableParallelism(),
    sandbox: {
      mode: v["unsafe-no-sandbox"] ? "unsafe" : "bwrap",
      python: v.python,
      limits: {
        timeoutSeconds: timeout,
        cpuSeconds: timeout,
        memoryBytes: (positiveInt(v, "memory-mb") ?? DEFAULT_LIMITS.memoryBytes / 1024 ** 2) * 1024 ** 2,
        maxProcesses: positiveInt(v, "max-processes") ?? DEFAULT_LIMITS.maxProcesses,
      },
    },
    outDir: resolve(v.out ?? "humaneval-results"),
  };
}

export async function run(argv: string[]): Promise<number> {
  const settings = parseHumanEvalArgs(argv);
  if (settings === "help") {
    console.log(HELP);
    return 0;
  }
  const { engine: models, problemsDir, strategies, n, ks, seed, maxTokens, batch, jobs, sandbox, outDir } = settings;
  const { temperature, topP } = strategies[0];
  const unsafe = sandbox.mode === "unsafe";

  const loaded = loadProblems(problemsDir);
  for (const e of loaded.errors) console.error(`humaneval: skipping ${e.message}`);
  const problems = loaded.problems.slice(0, settings.limit);
  if (problems.length === 0) throw new InvalidArgumentError("--problems", `no usable problem files in ${problemsDir}`);

  // Refuse before loading models: generated code never runs unconfined unless asked for.
  if (unsafe) console.error("humaneval: WARNING --unsafe-no-sandbox: generated code runs without isolation");
  else await probeSandbox({ python: sandbox.python, limits: sandbox.limits });

  const store = new ResultsStore<HumanEvalRecord>(join(outDir, "samples.jsonl"), recordKey);
  const recorded = { ...modelRunSettings(models), seed, maxTokens, ...decodingRunSettings(strategies[0], true), unsafeNoSandbox: unsafe };
  checkRunSettings(outDir, recorded, store.size > 0);

  const { Engine } = await import("../generate/engine.ts");
  const engine = await Engine.load(models);

  const abort = new AbortController();
  const onSigint = () => {
    console.error("\nhumaneval: interrupted; finishing running programs (re-run to continue)");
    abort.abort();
  };
  process.once("SIGINT", onSigint);
  let lastPrint = 0;
  const progress = (p: HumanEvalProgress) => {
    const now = Date.now();
    if (p.done < p.total && now - lastPrint < 1000 && p.last) return;
    lastPrint = now;
    const passed = Object.entries(p.passed).map(([s, c]) => `${s} ${c}`).join(", ");
    const last = p.last ? `; last ${p.last.problem} ${p.last.strategy}#${p.last.sample}: ${p.last.status}` : "";
    console.error(`humaneval: ${p.done}/${p.total} samples (${p.added} new), passed: ${passed}${last}`);
  };
  try {
    await runHumanEval({
      problems,
      strategies,
      n,
      seed,
      maxTokens,
      generate: engine.generate.bind(engine),
      store,
      sandbox,
      jobs,
      batchSize: batch,
      onProgress: progress,
      signal: abort.signal,
    });
  } finally {
    process.off("SIGINT", onSigint);
    await engine.dispose();
  }

  // The summary covers exactly this run's selection, computed from the stored records only.
  const names = new Set(problems.map((p) => p.name));
  const records = store.records().filter((r) => names.has(r.problem) && r.sample < n);
  const summary = summarize(records, strategies.map((s) => s.strategy.name), ks);
  const complete = records.length === problems.length * strategies.length * n;
  const about =
    `${problems.length} problems from ${problemsDir}; n=${n} samples per problem and strategy; temperature ${temperature}, ` +
    `top-p ${topP}, max ${maxTokens} tokens, seed ${seed}; target ${models.target}` +
    (models.expert ? `, expert ${models.expert}${models.expertLora ? ` + ${models.expertLora}` : ""}` : "") +
    `. Programs ran ${unsafe ? "WITHOUT a sandbox (--unsafe-no-sandbox)" : "in a bubblewrap sandbox (no network, private /tmp, rlimits)"}` +
    `${complete ? "" : "; the run is INCOMPLETE (interrupted), figures cover the samples done so far"}.`;
  writeFileAtomic(
    join(outDir, "summary.json"),
    JSON.stringify({ problems: problems.length, n, temperature, topP, maxTokens, seed, complete, unsafeNoSandbox: unsafe, ...summary }, null, 2) + "\n",
  );
  writeFileAtomic(join(outDir, "report.html"), renderReport({ title: "HumanEval pass@k", sections: humanEvalSections(summary, about) }));
  console.log(formatSummary(summary));
  console.error(`humaneval: records in ${join(outDir, "samples.jsonl")}; summary.json and report.html in ${outDir}`);
  return abort.signal.aborted ? 130 : 0;
}
