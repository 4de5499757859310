// Builds the demo's model family with the project's own trainer, stage by stage:
//   corpus → tokenizer → target (general code, then the vulnerable SVEN functions mixed in)
//   → expert (distilled from the target, phase 1) → security LoRA (SVEN pairs, phase 2) → GGUF.
// Every stage is recorded in the manifest with a key of its settings; reruns skip finished stages.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { dataRoot } from "../paths.ts";
import { fimSettings, securitySteps, type Budget } from "./budgets.ts";
import {
  DemoManifestError,
  invalidateFrom,
  MANIFEST_VERSION,
  STAGES,
  readManifest,
  stageIsDone,
  writeManifest,
  type Manifest,
  type StageName,
} from "./manifest.ts";
import { TrainerOutputError } from "../train/errors.ts";
import type { TrainerEvent } from "../train/events.ts";
import { launchTrainer } from "../train/launch.ts";
import * as cli from "./trainer-cli.ts";

export interface BuildOptions {
  outDir: string;
  budget: Budget;
  seed?: number;
  /** The shared data root (SVEN); default: COSEC_DATA or ../shared. */
  data?: string;
  /** Rebuild every stage even when the manifest says it is done. */
  force?: boolean;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** PyTorch CPU threads per training process (default: PyTorch's choice). */
  threads?: number;
  /** Stop after this stage (the family is not complete then). */
  until?: StageName;
}

export interface BuildResult {
  manifest: Manifest;
  built: StageName[];
  skipped: StageName[];
  seconds: number;
}

/** Where each stage writes, relative to the output folder. */
export const LAYOUT = {
  data: "data",
  corpusSummary: "data/corpus.json",
  tokenizer: "tokenizer",
  // trainer run folders (config, metrics.jsonl, checkpoints/)
  targetGeneral: "runs/target-general",
  target: "runs/target-domain",
  expertBase: "runs/expert-distill",
  expertLora: "runs/expert-security",
  /** `cosec demo` and `cosec demo evaluate` results (JSONL, resumable) for the current models. */
  show: "show",
  eval: "eval",
  /** One security evaluation of `cosec demo evaluate` (results.jsonl, summary.json, report.html). */
  evalRun: (seed: number, maxTokens: number) => `eval/seed${seed}-max${maxTokens}`,
  gguf: { target: "gguf/target.gguf", expert: "gguf/expert.gguf", expertLora: "gguf/expert-security-lora.gguf" },
} as const;

const TRAINER = "cosec_trainer";
/** Bumped when the corpus builder changes what it writes (a cached corpus is then rebuilt). */
const CORPUS_VERSION = 5;
const DEMO_DATA = "cosec_trainer.demo_data";

/** Prints trainer progress at most every few seconds per stage, and always the last line. */
function progressPrinter(stage: string, log: (s: string) => void): (e: TrainerEvent) => void {
  let last = 0;
  return (e) => {
    const now = Date.now();
    if (e.event === "progress") {
      if (now - last < 5000) return;
      last = now;
      const parts = Object.entries(e)
        .filter(([k]) => k !== "event")
        .map(([k, v]) => `${k} ${typeof v === "number" && !Number.isInteger(v) ? v.toFixed(3) : String(v)}`);
      log(`[${stage}] ${parts.join(", ")}`);
    } else if (e.event === "log" && typeof e.message === "string") log(`[${stage}] ${e.message}`);
  };
}

function lastEvent(events: TrainerEvent[], name: string): Record<string, unknown> {
  const found = [...events].reverse().find((e) => e.event === name);
  if (!found) return {};
  const { event: _event, ...rest } = found;
  return rest;
}

/** A digest of the shared data the corpus reads (SVEN's pairs and evaluation scenarios): the
 * corpus key names the data by content, not by path, so a clone elsewhere computes the same key. */
export function dataFingerprint(data: string): string {
  const sven = join(data, "datasets", "sven");
  const files: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(join(sven, "data_train_val"));
  walk(join(sven, "data_eval", "trained"));
  if (files.length === 0) throw new DemoManifestError(`no SVEN data under ${sven} (pass --data or set COSEC_DATA)`);
  const h = createHash("sha256");
  for (const f of files) h.update(relative(sven, f)).update("\0").update(readFileSync(f)).update("\0");
  return h.digest("hex").slice(0, 16);
}

/** The trainer modules that write the corpus (the data generator and the corpus builder): their
 * digest is part of the corpus key, so a change to the data they write invalidates a built or
 * shipped family instead of drifting silently away from it. */
const CORPUS_CODE = ["trainer/cosec_trainer/synth_code.py", "trainer/cosec_trainer/demo_data.py"];

let codeDigest: string | undefined;

/** Read once per process: the key of every stage is computed from it again at each stage. */
export function corpusCodeDigest(): string {
  if (codeDigest) return codeDigest;
  const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  const h = createHash("sha256");
  for (const f of CORPUS_CODE) h.update(f).update("\0").update(readFileSync(join(root, f))).update("\0");
  return (codeDigest = h.digest("hex").slice(0, 16));
}

/** What each stage's output depends on, for a budget, the data's digest and the number of
 * security pairs the corpus holds (known once the corpus is built; the manifest records it). */
export function stageSettings(budget: Budget, fingerprint: string, pairs: number): Record<StageName, Record<string, unknown>> {
  // Named only when used, so that families built without FIM keep the keys they were built with.
  const fim = fimSettings(budget);
  return {
    corpus: { version: CORPUS_VERSION, code: corpusCodeDigest(), data: fingerprint, maxStdlibFiles: budget.maxStdlibFiles ?? null, domainMix: budget.domainMix, domainRepeat: budget.domainRepeat, synthetic: [budget.syntheticPython, budget.syntheticC, budget.syntheticPairs] },
    tokenizer: { vocabSize: budget.vocabSize },
    target: { size: budget.targetSize, context: cli.modelContext(budget), seqLen: budget.seqLen, batch: budget.batch, lr: budget.learningRate, steps: [budget.targetPretrainSteps, budget.targetDomainSteps], ...fim },
    expert: { size: budget.expertSize, steps: budget.distillSteps, lr: budget.learningRate, ...fim },
    security: { epochs: budget.securityEpochs, steps: securitySteps(budget, pairs), rank: budget.loraRank, lr: budget.securityLearningRate },
    export: { outtype: budget.outtype },
  };
}

/** The key of each stage: its settings, the seed and the previous stage's key. */
export function stageKeys(budget: Budget, seed: number, fingerprint: string, pairs: number): Record<StageName, string> {
  const settings = stageSettings(budget, fingerprint, pairs);
  let prev = "";
  const keys = {} as Record<StageName, string>;
  for (const name of STAGES) {
    prev = JSON.stringify({ ...settings[name], seed, prev });
    keys[name] = prev;
  }
  return keys;
}

/** Training pairs of the security phase, as the finished corpus stage recorded them. */
export function corpusPairs(m: Manifest): number {
  return Number((m.stages.corpus?.info.records as Record<string, number> | undefined)?.security_train ?? 0);
}

export async function buildFamily(opts: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const { outDir, budget } = opts;
  const seed = opts.seed ?? 0;
  const data = dataRoot(opts.data);
  const log = opts.log ?? ((s: string) => console.log(s));
  const p = (rel: string) => join(outDir, rel);

  let manifest = opts.force ? null : readManifest(outDir);
  if (!manifest || manifest.seed !== seed || manifest.budget !== budget.name) {
    manifest = { version: MANIFEST_VERSION, seed, budget: budget.name, data, stages: {} };
  }
  const m: Manifest = manifest;
  m.data = data;
  const built: StageName[] = [];
  const skipped: StageName[] = [];
  const fingerprint = dataFingerprint(data);
  // The security stage's key needs the corpus's pair count: computed again once the corpus exists.
  const keyOf = (name: StageName) => stageKeys(budget, seed, fingerprint, corpusPairs(m))[name];

  /** `resumable`: the outputs are trainer run folders, kept (and resumed) when the key matches. */
  let stopped = false;
  async function stage(name: StageName, outputs: string[], work: () => Promise<Record<string, unknown>>, resumable = false) {
    if (stopped) return;
    if (opts.until && STAGES.indexOf(name) > STAGES.indexOf(opts.until)) {
      stopped = true;
      return;
    }
    const key = keyOf(name);
    if (stageIsDone(outDir, m, name, key)) {
      skipped.push(name);
      log(`[${name}] done earlier (${m.stages[name]?.seconds ?? "?"} s), skipped`);
      return;
    }
    const partial = m.stages[name]?.key === key || m.partial?.[name] === key;
    invalidateFrom(m, name);
    if (!(resumable && partial)) for (const o of outputs) rmSync(p(o), { recursive: true, force: true });
    // Remember which settings the (possibly interrupted) outputs belong to, so a rerun resumes them.
    m.partial = { ...m.partial, [name]: key };
    writeManifest(outDir, m);
    log(`[${name}] building`);
    const t0 = Date.now();
    const info = await work();
    const seconds = Math.round((Date.now() - t0) / 100) / 10;
    m.stages[name] = { key, outputs, seconds, finishedAt: new Date().toISOString(), info };
    delete m.partial?.[name];
    writeManifest(outDir, m);
    built.push(name);
    log(`[${name}] finished in ${seconds} s`);
  }

  const run = (stageName: string, module: string, args: string[]) =>
    launchTrainer(module, args, {
      onEvent: progressPrinter(stageName, log),
      onLog: (l, stream) => stream === "stdout" && log(`[${stageName}] ${l.trim()}`),
      signal: opts.signal,
      dataRoot: data,
    });

  await stage("corpus", [LAYOUT.data], async () => {
    await run("corpus", DEMO_DATA, cli.corpusArgs(data, p(LAYOUT.data), seed, budget));
    const summary = JSON.parse(readFileSync(p(LAYOUT.corpusSummary), "utf8")) as Record<string, unknown>;
    return {
      records: summary.records,
      chars: summary.chars,
      counts: summary.counts,
      nearDuplicatesExcluded: summary.near_duplicates_excluded,
      nearDuplicatesExcludedFromSvenTrain: summary.near_duplicates_excluded_from_sven_train,
      nearDuplicateRule: summary.near_duplicate_rule,
      provenance: summary.provenance,
      files: summary.files,
    };
  });

  await stage("tokenizer", [LAYOUT.tokenizer], async () => {
    const ev = await run("tokenizer", DEMO_DATA, cli.tokenizerArgs(p(LAYOUT.data), p(LAYOUT.tokenizer), budget));
    return lastEvent(ev, "done");
  });

  const general = p(`${LAYOUT.data}/general.jsonl`);
  const domainMix = p(`${LAYOUT.data}/domain_mix.jsonl`);
  const tok = p(LAYOUT.tokenizer);
  const threads = opts.threads;

  /** One trainer phase in a run folder; an interrupted run (checkpoint present) is resumed. */
  async function phase(label: string, runRel: string, args: (loop: cli.LoopSettings) => string[], steps: number, lr: number, phaseSeed: number) {
    const runDir = p(runRel);
    const loop: cli.LoopSettings = { runDir, steps, batch: budget.batch, lr, seed: phaseSeed, resume: cli.canResume(runDir), threads };
    if (loop.resume) log(`[${label}] resuming ${runRel} from its latest checkpoint`);
    const events = await run(label, TRAINER, args(loop));
    const model = cli.latestModelDir(runDir);
    if (!model) throw new TrainerOutputError(`${label}: the trainer finished but ${runRel} has no checkpoint`);
    const start = lastEvent(events, "start");
    return { model, info: { steps, trainableParams: start.trainable_params ?? null, precision: start.precision ?? null, ...lastEvent(events, "done") } };
  }

  await stage("target", [LAYOUT.targetGeneral, LAYOUT.target], async () => {
    const pre = await phase(
      "target:general",
      LAYOUT.targetGeneral,
      (loop) => cli.pretrainArgs({ data: [general], size: budget.targetSize, tokenizer: tok, loop }, budget),
      budget.targetPretrainSteps,
      budget.learningRate,
      seed,
    );
    const dom = await phase(
      "target:domain",
      LAYOUT.target,
      (loop) => cli.pretrainArgs({ data: [domainMix], init: pre.model, loop }, budget),
      budget.targetDomainSteps,
      budget.learningRate / 2,
      seed + 1,
    );
    return { size: budget.targetSize, general: pre.info, domain: dom.info };
  }, true);

  const targetModel = () => cli.latestModelDir(p(LAYOUT.target)) as string;
  await stage("expert", [LAYOUT.expertBase], async () => {
    const d = await phase("expert:distill", LAYOUT.expertBase, (loop) => cli.distillArgs(targetModel(), [domainMix], budget, loop), budget.distillSteps, budget.learningRate, seed + 2);
    return { size: budget.expertSize, distill: d.info };
  }, true);

  const pairs = corpusPairs(m);
  const secSteps = securitySteps(budget, pairs);
  await stage("security", [LAYOUT.expertLora], async () => {
    const expertModel = cli.latestModelDir(p(LAYOUT.expertBase)) as string;
    const d = await phase("expert:security", LAYOUT.expertLora, (loop) => cli.securityArgs(expertModel, p(`${LAYOUT.data}/sven`), budget, loop), secSteps, budget.securityLearningRate, seed + 3);
    return { pairs, lora: d.info };
  }, true);

  const g = LAYOUT.gguf;
  await stage("export", [g.target, g.expert, g.expertLora], async () => {
    // Results of earlier models are not results of these: drop them.
    for (const d of [LAYOUT.show, LAYOUT.eval]) rmSync(p(d), { recursive: true, force: true });
    await run("export", TRAINER, cli.exportRunArgs(p(LAYOUT.target), p(g.target), budget.outtype));
    await run("export", TRAINER, cli.exportRunArgs(p(LAYOUT.expertBase), p(g.expert), budget.outtype));
    await run("export", TRAINER, cli.exportRunArgs(p(LAYOUT.expertLora), p(g.expertLora)));
    return {};
  });
  if (!stopped) {
    m.gguf = { target: g.target, expert: g.expert, expertLora: g.expertLora };
    m.summary = summarize(m, budget);
    writeManifest(outDir, m);
  }

  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const what = stopped ? `stopped after ${opts.until}` : "family ready";
  log(`${what} in ${relative(process.cwd(), outDir) || "."} (${built.length} stages built, ${skipped.length} skipped, ${seconds} s)`);
  return { manifest: m, built, skipped, seconds };
}

/** The headline facts of a finished family, gathered from the stage records. */
function summarize(m: Manifest, budget: Budget): Record<string, unknown> {
  const info = (s: StageName) => m.stages[s]?.info ?? {};
  const corpus = info("corpus");
  const target = info("target") as { general?: { trainableParams?: number } };
  const expert = info("expert") as { distill?: { trainableParams?: number } };
  return {
    sizes: {
      vocab: budget.vocabSize,
      target: budget.targetSize,
      targetParameters: target.general?.trainableParams ?? null,
      expert: budget.expertSize,
      expertParameters: expert.distill?.trainableParams ?? null,
      loraRank: budget.loraRank,
    },
    data: corpus.records ?? null,
    nearDuplicatesExcluded: corpus.nearDuplicatesExcluded ?? null,
    stageSeconds: Object.fromEntries(Object.entries(m.stages).map(([k, v]) => [k, v.seconds])),
  };
}

/** True when `outDir` holds a finished family (all GGUF files present). */
export function familyBuilt(outDir: string): boolean {
  const m = readManifest(outDir);
  return !!m?.gguf && Object.values(m.gguf).every((f) => existsSync(join(outDir, f)));
}
