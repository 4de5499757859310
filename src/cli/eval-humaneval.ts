// `cosec eval humaneval`: functional correctness (pass@k) of one or more strategies on
// MultiPL-E-style problems, with every generated program executed in a sandbox.
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { InvalidArgumentError } from "../errors.ts";
import type { GpuChoice } from "../backend/types.ts";
import type { StrategyName, StrategyOptions } from "../generate/types.ts";
import { recordKey, runHumanEval, type HumanEvalProgress, type HumanEvalRecord } from "../eval/humaneval/pipeline.ts";
import { loadProblems } from "../eval/humaneval/problems.ts";
import { humanEvalSections } from "../eval/humaneval/report.ts";
import { checkRunSettings } from "../eval/humaneval/run-config.ts";
import { DEFAULT_LIMITS, probeSandbox, type SandboxOptions } from "../eval/humaneval/sandbox.ts";
import { formatSummary, summarize } from "../eval/humaneval/summary.ts";
import { renderReport } from "../eval/report/index.ts";
import { ResultsStore } from "../eval/results-store.ts";
import { dataRoot } from "../paths.ts";

const HELP = `usage: cosec eval humaneval --target MODEL.gguf [options]

Generates N samples per problem for each strategy (paired: same seed per sample index), runs
prompt + completion + tests with python3 inside a bubblewrap sandbox, and reports pass@k.
Re-running with the same --out continues where a previous run stopped.

models:
  --target FILE            target GGUF (required)
  --expert FILE            expert GGUF (needed by cosec-plus, expert, weighted, proxy)
  --expert-lora FILE       LoRA adapter GGUF for the expert; --expert-lora-scale X (default 1)
  --gpu auto|cpu|cuda|vulkan   (default auto)
  --context-size N         context tokens per model (default: the backend's)
  --threads N              CPU threads per model (default: the backend's, physical cores)
problems and sampling:
  --problems DIR           folder of MultiPL-E YAML problems
                           (default <data>/datasets/sven/data_eval/human_eval); --data DIR sets <data>
  --limit N                only the first N problems (natural name order)
  --strategies LIST        comma-separated (default: target,cosec-plus with --expert, else target)
  --threshold X            cosec-plus acceptance threshold (default: the engine's, 0.3)
  --n N                    samples per problem and strategy (default 20)
  --k LIST                 pass@k values (default 1)
  --temperature T          default 0.2 when the largest k is 1, else 0.8
  --top-p P                (default 0.95)
  --max-tokens N           (default 256)
  --seed S                 (default 0)
  --batch N                samples generated together as parallel sequences (default min(n, 8))
execution:
  --jobs N                 programs run at once (default: CPU cores)
  --timeout S              wall-clock seconds per program (default ${DEFAULT_LIMITS.timeoutSeconds}); also its CPU limit
  --memory-mb N            address-space limit (default ${DEFAULT_LIMITS.memoryBytes / 1024 ** 2})
  --max-processes N        process limit inside the sandbox (default ${DEFAULT_LIMITS.maxProcesses})
  --python FILE            interpreter used inside the sandbox (default /usr/bin/python3)
  --unsafe-no-sandbox      run generated code WITHOUT isolation (only rlimits and a timeout)
output:
  --out DIR                results folder (default humaneval-results): samples.jsonl (one record
                           per sample), run.json, summary.json, report.html
  -h, --help`;

const STRATEGIES: readonly StrategyName[] = ["target", "expert", "cosec-plus", "weighted", "proxy"];

function positiveInt(field: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(field, `must be a positive integer, got '${v}'`);
  return n;
}

function number(field: string, v: string | undefined, fallback: number, ok: (x: number) => boolean, range: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || !ok(n)) throw new InvalidArgumentError(field, `must be ${range}, got '${v}'`);
  return n;
}

function parseStrategies(list: string, threshold: number | undefined): StrategyOptions[] {
  return list.split(",").map((raw) => {
    const name = raw.trim() as StrategyName;
    if (!STRATEGIES.includes(name)) throw new InvalidArgumentError("--strategies", `unknown strategy '${raw}' (known: ${STRATEGIES.join(", ")})`);
    return name === "cosec-plus" && threshold !== undefined ? { name, threshold } : { name };
  });
}

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      target: { type: "string" },
      expert: { type: "string" },
      "expert-lora": { type: "string" },
      "expert-lora-scale": { type: "string" },
      gpu: { type: "string" },
      "context-size": { type: "string" },
      threads: { type: "string" },
      problems: { type: "string" },
      data: { type: "string" },
      limit: { type: "string" },
      strategies: { type: "string" },
      threshold: { type: "string" },
      n: { type: "string" },
      k: { type: "string" },
      temperature: { type: "string" },
      "top-p": { type: "string" },
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
    },
    strict: true,
    allowPositionals: false,
  });
  if (v.help) {
    console.log(HELP);
    return 0;
  }
  if (!v.target) throw new InvalidArgumentError("--target", "a target GGUF is required (see --help)");
  const gpu = (v.gpu ?? "auto") as GpuChoice;
  if (!["auto", "cpu", "cuda", "vulkan"].includes(gpu)) throw new InvalidArgumentError("--gpu", `must be auto, cpu, cuda or vulkan, got '${v.gpu}'`);

  const n = positiveInt("--n", v.n, 20);
  const ks = (v.k ?? "1").split(",").map((s) => positiveInt("--k", s.trim(), 1));
  const maxK = Math.max(...ks);
  if (maxK > n) throw new InvalidArgumentError("--k", `pass@${maxK} needs --n of at least ${maxK} (got ${n})`);
  const temperature = number("--temperature", v.temperature, maxK === 1 ? 0.2 : 0.8, (x) => x >= 0, "a number >= 0");
  const topP = number("--top-p", v["top-p"], 0.95, (x) => x > 0 && x <= 1, "in (0, 1]");
  const maxTokens = positiveInt("--max-tokens", v["max-tokens"], 256);
  const seed = number("--seed", v.seed, 0, (x) => Number.isSafeInteger(x) && x >= 0, "a non-negative integer");
  const threshold = v.threshold === undefined ? undefined : number("--threshold", v.threshold, 0.3, (x) => x >= 0 && x <= 1, "in [0, 1]");
  const strategies = parseStrategies(v.strategies ?? (v.expert ? "target,cosec-plus" : "target"), threshold);
  const batch = positiveInt("--batch", v.batch, Math.min(n, 8));
  const jobs = positiveInt("--jobs", v.jobs, availableParallelism());
  const timeout = number("--timeout", v.timeout, DEFAULT_LIMITS.timeoutSeconds, (x) => x > 0, "a positive number of seconds");
  const unsafe = Boolean(v["unsafe-no-sandbox"]);
  const sandbox: SandboxOptions = {
    mode: unsafe ? "unsafe" : "bwrap",
    python: v.python,
    limits: {
      timeoutSeconds: timeout,
      cpuSeconds: timeout,
      memoryBytes: positiveInt("--memory-mb", v["memory-mb"], DEFAULT_LIMITS.memoryBytes / 1024 ** 2) * 1024 ** 2,
      maxProcesses: positiveInt("--max-processes", v["max-processes"], DEFAULT_LIMITS.maxProcesses),
    },
  };

  const problemsDir = v.problems ?? join(dataRoot(v.data), "datasets", "sven", "data_eval", "human_eval");
  const loaded = loadProblems(problemsDir);
  for (const e of loaded.errors) console.error(`humaneval: skipping ${e.message}`);
  const problems = loaded.problems.slice(0, v.limit === undefined ? undefined : positiveInt("--limit", v.limit, 1));
  if (problems.length === 0) throw new InvalidArgumentError("--problems", `no usable problem files in ${problemsDir}`);

  // Refuse before loading models: generated code never runs unconfined unless asked for.
  if (unsafe) console.error("humaneval: WARNING --unsafe-no-sandbox: generated code runs without isolation");
  else await probeSandbox({ python: v.python, limits: sandbox.limits });

  const outDir = resolve(v.out ?? "humaneval-results");
  const store = new ResultsStore<HumanEvalRecord>(join(outDir, "samples.jsonl"), recordKey);
  checkRunSettings(outDir, {
    target: resolve(v.target),
    expert: v.expert ? resolve(v.expert) : null,
    expertLora: v["expert-lora"] ? resolve(v["expert-lora"]) : null,
    expertLoraScale: v["expert-lora-scale"] === undefined ? null : number("--expert-lora-scale", v["expert-lora-scale"], 1, () => true, "a number"),
    seed,
    temperature,
    topP,
    maxTokens,
    threshold: threshold ?? null,
    unsafeNoSandbox: unsafe,
  }, store.size > 0);

  const { Engine } = await import("../generate/engine.ts");
  const engine = await Engine.load({
    target: v.target,
    expert: v.expert,
    expertLora: v["expert-lora"],
    expertLoraScale: v["expert-lora-scale"] === undefined ? undefined : Number(v["expert-lora-scale"]),
    gpu,
    contextSize: v["context-size"] === undefined ? undefined : positiveInt("--context-size", v["context-size"], 1),
    maxSequences: batch,
    ...(v.threads === undefined ? {} : { targetThreads: positiveInt("--threads", v.threads, 1), expertThreads: positiveInt("--threads", v.threads, 1) }),
  });

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
      temperature,
      topP,
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
  const summary = summarize(records, strategies.map((s) => s.name), ks);
  const complete = records.length === problems.length * strategies.length * n;
  const about =
    `${problems.length} problems from ${problemsDir}; n=${n} samples per problem and strategy; temperature ${temperature}, ` +
    `top-p ${topP}, max ${maxTokens} tokens, seed ${seed}; target ${v.target}` +
    (v.expert ? `, expert ${v.expert}${v["expert-lora"] ? ` + ${v["expert-lora"]}` : ""}` : "") +
    `. Programs ran ${unsafe ? "WITHOUT a sandbox (--unsafe-no-sandbox)" : "in a bubblewrap sandbox (no network, private /tmp, rlimits)"}` +
    `${complete ? "" : "; the run is INCOMPLETE (interrupted), figures cover the samples done so far"}.`;
  writeFileSync(
    join(outDir, "summary.json"),
    JSON.stringify({ problems: problems.length, n, temperature, topP, maxTokens, seed, complete, unsafeNoSandbox: unsafe, ...summary }, null, 2) + "\n",
  );
  writeFileSync(join(outDir, "report.html"), renderReport({ title: "HumanEval pass@k", sections: humanEvalSections(summary, about) }));
  console.log(formatSummary(summary));
  console.error(`humaneval: records in ${join(outDir, "samples.jsonl")}; summary.json and report.html in ${outDir}`);
  return abort.signal.aborted ? 130 : 0;
}
