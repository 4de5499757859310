// Build budgets for the demo family: model sizes, tokenizer size and time per training phase.
// `tiny` is for CI (loadable GGUFs with matching vocabularies in well under two minutes, not a
// useful model); `default` is meant to fit in about 20 minutes on 2 free CPU cores; `large` is for
// a machine with time to spare. Phases are counted in optimizer steps, not seconds, so that a
// build is deterministic for a seed whatever the machine's load; the manifest records timings.
import { InvalidArgumentError } from "../errors.ts";

export interface Budget {
  name: BudgetName;
  vocabSize: number;
  /** Training sequence length in tokens (prompt + completion must fit). */
  seqLen: number;
  batch: number;
  /** Size presets of the trainer (trainer/cosec_trainer/models.py PRESETS). */
  targetSize: string;
  expertSize: string;
  /** Optimizer steps of target training on general code, then on the domain mix. */
  targetPretrainSteps: number;
  targetDomainSteps: number;
  /** Share of domain (SVEN vulnerable) code in the domain phase's data; the rest is general code. */
  domainMix: number;
  /** Copies of each domain function in that data (the domain set is small). */
  domainRepeat: number;
  /** Short Flask and C programs of the scenarios' domain written by the trainer's `synth_code`
   * (seeded), added once each to the domain side of that data. */
  syntheticPython: number;
  syntheticC: number;
  /** Careless/careful pairs of such programs (`synth_code.security_pairs`, all ten risky steps of
   * both languages) added to SVEN's pairs for the security LoRA: SVEN's pairs alone moved the
   * medium expert on SQL only. */
  syntheticPairs: number;
  /** Share of the target's training documents (and of the expert's distillation records) written as
   * fill-in-the-middle examples (trainer/cosec_trainer/fim.py), so the family can serve editors'
   * /infill; 0 trains no FIM tokens. */
  fimRate: number;
  /** Share of those FIM examples cut at line starts rather than at any character: a small model
   * trained on character cuts alone starts a fill inside a word (trainer/cosec_trainer/fim.py). */
  fimLineShare?: number;
  /** Share of those FIM examples laid out suffix-prefix-middle (llama.cpp's --spm-infill); above
   * half, the exported GGUFs record `spm` and cosec lays out their fills so. */
  fimSpmShare?: number;
  /** GGUF tensor type of the exported models (the LoRA stays f32: it is small). */
  outtype: "f32" | "f16" | "q8_0";
  /** Optimizer steps distilling the expert from the target (phase 1). */
  distillSteps: number;
  /** Epochs of the security LoRA on SVEN pairs (phase 2), converted to steps at build time. */
  securityEpochs: number;
  /** Cap on those steps. */
  securityMaxSteps: number;
  /** Peak learning rate of that LoRA. A 0.9M expert barely moves at 1e-3 in 90 steps (its
   * validation CE on the fixes' tokens went 5.05 → 4.97); at 1e-2 it comes to prefer parameterised
   * SQL over formatted SQL after a scenario prompt (log-probability −20.9 against −23.4, from −27.2
   * against −17.1 before training). */
  securityLearningRate: number;
  loraRank: number;
  learningRate: number;
  /** Limit on stdlib files read for the corpus (tiny only: keeps the build short). */
  maxStdlibFiles?: number;
}

export const BUDGET_NAMES = ["tiny", "default", "medium", "large"] as const;
export type BudgetName = (typeof BUDGET_NAMES)[number];

const DEFAULT: Budget = {
  name: "default",
  vocabSize: 4096,
  seqLen: 384,
  batch: 8,
  // With the 4k vocabulary: target ≈5.4M parameters, expert ≈0.9M (about 1/6).
  targetSize: "4m",
  expertSize: "tiny",
  // Sized from measured throughput on 2 free Zen 4 cores (4m preset, block 384, batch 8): 1,110
  // tokens/s in fp32, 2,680 with bf16 mixed precision, which the trainer picks on CPUs with native
  // bf16. At bf16 (measured: stages summed to 1,116 s): 10 min of target training (≈1.4M tokens:
  // a short general phase, then the domain mix, which teaches the scenarios' kind of code), 4.4
  // min of distillation, 3.5 min of security LoRA; on a CPU without bf16 the build takes about
  // twice as long. Too short for models that write the insecure code the expert corrects: see
  // `medium`.
  targetPretrainSteps: 150,
  targetDomainSteps: 300,
  domainMix: 0.85,
  domainRepeat: 4,
  syntheticPython: 5000,
  syntheticC: 5000,
  syntheticPairs: 1000,
  fimRate: 0.1,
  outtype: "f32",
  distillSteps: 150,
  securityEpochs: 1,
  securityMaxSteps: 90,
  securityLearningRate: 1e-2,
  loraRank: 8, // CoSec+'s rank
  learningRate: 2e-3,
};

const BUDGETS: Record<BudgetName, Budget> = {
  tiny: {
    name: "tiny",
    vocabSize: 512,
    seqLen: 128,
    batch: 4,
    targetSize: "tiny",
    expertSize: "tiny",
    targetPretrainSteps: 12,
    targetDomainSteps: 6,
    domainMix: 0.5,
    domainRepeat: 1,
    syntheticPython: 40,
    syntheticC: 40,
    syntheticPairs: 20,
    // High, so that CI's family sees enough FIM examples to carry the tokens end to end.
    fimRate: 0.5,
    outtype: "f32",
    distillSteps: 6,
    securityEpochs: 1,
    securityMaxSteps: 6,
    securityLearningRate: 1e-3,
    loraRank: 4,
    learningRate: 3e-3,
    maxStdlibFiles: 40,
  },
  default: DEFAULT,
  // The default's models trained about six times as long (measured: stages summed to 2,651 s on
  // the same cores, bf16): the same sizes, since at this compute a larger target would see too few
  // tokens per parameter. Its valid completions build SQL and shell commands from request values,
  // which co-decoding with the expert turns into parameterised queries and argument lists.
  // A quarter of the documents are FIM examples (half of those cut at line starts), so that the
  // shipped family serves /infill; 2,400 domain steps rather than 2,000 keep the left-to-right
  // training it had without them. Measured against the family shipped before (no FIM, 2,000 steps):
  // target valid and adding code 50.5% against 51.3%, cosec-plus's gain +35.8 points against
  // +22.9, gains in 8 CWEs against 4 (README).
  medium: {
    ...DEFAULT,
    name: "medium",
    targetPretrainSteps: 300,
    targetDomainSteps: 2400,
    syntheticPython: 10000,
    syntheticC: 10000,
    syntheticPairs: 2000,
    fimRate: 0.25,
    fimLineShare: 0.5,
    // Q8_0 (the shipped family): half F16's bytes, and on 2 CPU cores this target steps 1.3-1.5x
    // faster, with the security figures within a point or two of the F16 export's (README).
    outtype: "q8_0",
    distillSteps: 450,
    securityEpochs: 2,
    securityMaxSteps: 300,
  },
  large: {
    name: "large",
    vocabSize: 8192,
    seqLen: 512,
    batch: 16,
    targetSize: "25m",
    expertSize: "4m",
    targetPretrainSteps: 4000,
    targetDomainSteps: 1500,
    domainMix: 0.5,
    domainRepeat: 4,
    syntheticPython: 20000,
    syntheticC: 20000,
    syntheticPairs: 4000,
    fimRate: 0.1,
    outtype: "f16",
    distillSteps: 2000,
    securityEpochs: 5,
    securityMaxSteps: 5000,
    securityLearningRate: 1e-3,
    loraRank: 16,
    learningRate: 1e-3,
  },
};

export function getBudget(name: string): Budget {
  if (!(BUDGET_NAMES as readonly string[]).includes(name)) {
    throw new InvalidArgumentError("--budget", `unknown budget '${name}' (one of ${BUDGET_NAMES.join(", ")})`);
  }
  return BUDGETS[name as BudgetName];
}

/** Optimizer steps of the security phase for `pairs` training pairs. */
export function securitySteps(budget: Budget, pairs: number): number {
  return Math.max(1, Math.min(budget.securityMaxSteps, Math.ceil((budget.securityEpochs * pairs) / budget.batch)));
}

/** What `cosec demo` says after showing a family of a short budget: the default's models are too
 * weak to write the insecure code the expert corrects (measured figures in the README). */
export const LONGER_BUDGET_HINT = `The default family (about 20 minutes of training) rarely writes the code where security matters.
The shipped family (budget medium, about an hour on 2 cores) does, and shows the expert at work:
  cosec demo                     (no --out: runs on models/demo, no training)
  cosec demo build --budget medium --out .cache/demo-medium   (rebuilds it from scratch)`;

/** The budget's FIM settings that are set, in the trainer's order (none without FIM examples):
 * the stage keys name them and the trainer's flags pass them. */
export function fimSettings(budget: Budget): Partial<Pick<Budget, "fimRate" | "fimLineShare" | "fimSpmShare">> {
  if (budget.fimRate <= 0) return {};
  return { fimRate: budget.fimRate, ...(budget.fimLineShare ? { fimLineShare: budget.fimLineShare } : {}), ...(budget.fimSpmShare ? { fimSpmShare: budget.fimSpmShare } : {}) };
}
