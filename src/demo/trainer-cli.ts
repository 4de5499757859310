// The argument lists of the trainer calls the demo build makes, in one place: the build's stages
// say *what* to train, this file says how `python -m cosec_trainer` spells it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fimSettings, type Budget } from "./budgets.ts";

export function corpusArgs(data: string, out: string, seed: number, budget: Budget): string[] {
  const a = ["corpus", "--data", data, "--out", out, "--seed", String(seed), "--domain-repeat", String(budget.domainRepeat), "--domain-share", String(budget.domainMix)];
  a.push("--synthetic-python", String(budget.syntheticPython), "--synthetic-c", String(budget.syntheticC), "--synthetic-pairs", String(budget.syntheticPairs));
  if (budget.maxStdlibFiles !== undefined) a.push("--max-stdlib-files", String(budget.maxStdlibFiles));
  return a;
}

export function tokenizerArgs(corpus: string, out: string, budget: Budget): string[] {
  return ["tokenizer", "--corpus", corpus, "--out", out, "--vocab-size", String(budget.vocabSize)];
}

export interface LoopSettings {
  runDir: string;
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  /** Continue from the run folder's latest checkpoint (an interrupted stage). */
  resume: boolean;
  threads?: number;
}

function loopArgs(l: LoopSettings): string[] {
  const a = [
    "--run-dir", l.runDir,
    "--steps", String(l.steps),
    "--batch-size", String(l.batch),
    "--lr", String(l.lr),
    "--seed", String(l.seed),
    "--warmup", String(Math.max(1, Math.min(30, Math.floor(l.steps / 10)))),
    // checkpoint about ten times per phase so an interrupted build loses little
    "--save-every", String(Math.max(1, Math.ceil(l.steps / 10))),
    "--keep-last", "1",
    "--max-val", "32",
    "--device", "cpu",
  ];
  if (l.threads) a.push("--threads", String(l.threads));
  if (l.resume) a.push("--resume");
  return a;
}

/** The models' context length: scenario prompts (up to ~400 tokens) plus a completion must fit;
 * RoPE models are trained on shorter blocks and still run at this length. */
export function modelContext(budget: Budget): number {
  return Math.max(1024, budget.seqLen * 2);
}

export interface PretrainCall {
  /** JSONL files with a `text` field (documents are joined with EOS and packed into blocks). */
  data: string[];
  /** Start from this model folder; otherwise a fresh `size` model with `tokenizer`. */
  init?: string;
  size?: string;
  tokenizer?: string;
  loop: LoopSettings;
}

/** The FIM settings the budget sets, as the trainer's flags. */
const FIM_FLAGS = { fimRate: "--fim-rate", fimLineShare: "--fim-line-share", fimSpmShare: "--fim-spm-share" } as const;
const fimArgs = (budget: Budget) => Object.entries(fimSettings(budget)).flatMap(([k, v]) => [FIM_FLAGS[k as keyof typeof FIM_FLAGS], String(v)]);

export function pretrainArgs(c: PretrainCall, budget: Budget): string[] {
  const a = ["pretrain", "--data", ...c.data, "--block", String(budget.seqLen), "--max-val", "32", ...fimArgs(budget)];
  if (c.init) a.push("--init", c.init);
  else {
    if (!c.size || !c.tokenizer) throw new Error("pretrainArgs: a fresh model needs size and tokenizer");
    a.push("--arch", "llama", "--size", c.size, "--tokenizer", c.tokenizer, "--context", String(modelContext(budget)));
  }
  return [...a, ...loopArgs(c.loop)];
}

export function distillArgs(teacher: string, data: string[], budget: Budget, loop: LoopSettings): string[] {
  // One record per row, padded, not `--pack`: packed rows carry 2.3× the tokens in the same time,
  // but measured on the default family (same target, same build time) the expert they gave was
  // worse where it counts: 36% valid / 8% adding code against 43% / 18%, and cosec-plus 30% / 21%
  // against 35% / 24%. A record per row starts every function at position 0, as prompts do.
  return ["distill", "--teacher", teacher, "--student-size", budget.expertSize, "--data", ...data, "--max-len", String(budget.seqLen), ...fimArgs(budget), ...loopArgs(loop)];
}

/** `sven` is a folder laid out like SVEN's data_train_val (train/ and val/ with cwe-*.jsonl). */
export function securityArgs(model: string, sven: string, budget: Budget, loop: LoopSettings): string[] {
  return [
    "security",
    "--model", model,
    "--sven", sven,
    "--lora-r", String(budget.loraRank),
    "--lora-alpha", String(budget.loraRank * 2),
    "--max-len", String(budget.seqLen),
    ...loopArgs(loop),
  ];
}

/** Export a run's latest checkpoint (a full model, or a LoRA adapter against its base). */
export function exportRunArgs(runDir: string, out: string, outtype: "f32" | "f16" | "q8_0" = "f32"): string[] {
  return ["export", "--run", runDir, "--checkpoint", "latest", "--out", out, "--outtype", outtype];
}

/** The model folder of a run's latest checkpoint, or null when it has none. */
export function latestModelDir(runDir: string): string | null {
  const pointer = join(runDir, "checkpoints", "latest");
  if (!existsSync(pointer)) return null;
  const dir = join(runDir, "checkpoints", readFileSync(pointer, "utf8").trim(), "model");
  return existsSync(dir) ? dir : null;
}

/** Whether a run stopped before its last step and can be resumed. */
export function canResume(runDir: string): boolean {
  return latestModelDir(runDir) !== null;
}
