// Option groups shared by every command that loads models or generates (generate, eval, serve,
// demo), so flags mean the same everywhere.
import type { ParseArgsConfig } from "node:util";
import type { GpuChoice } from "../backend/types.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { EngineModelsOptions, GenerateOptions, StrategyName, StrategyOptions } from "../generate/types.ts";
import { parseStrategyName } from "../decoding/strategies/index.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export const MODEL_OPTIONS = {
  target: { type: "string" },
  expert: { type: "string" },
  "expert-lora": { type: "string" },
  "expert-lora-scale": { type: "string" },
  "expert-base": { type: "string" },
  gpu: { type: "string" },
  threads: { type: "string" },
  "expert-threads": { type: "string" },
  "solo-threads": { type: "string" },
  schedule: { type: "string" },
  "context-size": { type: "string" },
  "kv-cache": { type: "string" },
} as const satisfies Options;

export const MODEL_HELP = `model options:
  --target FILE             target GGUF (required)
  --expert FILE             security expert GGUF (same vocabulary as the target)
  --expert-lora FILE        LoRA adapter GGUF applied to the expert
  --expert-lora-scale X     adapter scale (default 1)
  --expert-base FILE        expert without its adapter, for --strategy proxy (default: --expert without --expert-lora)
  --gpu auto|cpu|cuda|vulkan  compute backend (default auto)
  --threads N               CPU threads of the target (default: physical cores minus the expert's, at least 1)
  --expert-threads N        CPU threads of the expert (default: a quarter of the cores, at least 1)
  --solo-threads N          CPU threads the target may borrow while the expert waits (speculative verification,
                            co-decoding one model after the other), while one generation runs (default: the
                            target's + the expert's)
  --schedule auto|overlap|serial  lend --solo-threads: when measured faster, per kind of step (auto, default),
                            never (models side by side on their own threads), or always
  --context-size N          context tokens per sequence (default: min(model's, 4096))
  --kv-cache f16|f32        KV cache precision (default f16; f32 matches PyTorch to ~1e-4)`;

export const SAMPLING_OPTIONS = {
  strategy: { type: "string" },
  threshold: { type: "string" },
  "cosec-plus-mode": { type: "string" },
  alpha: { type: "string" },
  temperature: { type: "string" },
  "top-p": { type: "string" },
  "top-k": { type: "string" },
  "expert-temperature": { type: "string" },
  "expert-top-p": { type: "string" },
  "expert-top-k": { type: "string" },
  "max-tokens": { type: "string" },
  seed: { type: "string" },
  speculative: { type: "boolean" },
  sequential: { type: "boolean" },
  "draft-max": { type: "string" },
  "ignore-eos": { type: "boolean" },
} as const satisfies Options;

export const SAMPLING_HELP = `decoding options:
  --strategy NAME           target | expert | cosec-plus | weighted | proxy (default: cosec-plus with an expert)
  --threshold X             cosec-plus: keep the expert's token when min(1, p_t/p_e) > X (default 0.3)
  --cosec-plus-mode M       reference (raw distributions, as the authors' code; default) | warped
  --alpha A                 weighted: weight of the expert in [0, 1] (default 0.5)
  --temperature T           target sampling temperature (default 0.4; 0 = greedy)
  --top-p P                 target top-p (default 0.95)
  --top-k K                 target top-k (default 50; 0 = off)
  --expert-temperature T, --expert-top-p P, --expert-top-k K   expert proposal sampling (default: as the target)
  --max-tokens N            tokens to generate (default 128)
  --seed S                  random seed (default 0): one seed reproduces a run exactly
  --speculative             speculative co-decoding, also for --strategy target (identical output, fewer
                            target passes; default: on for strategies that use the expert)
  --sequential              one co-decoding step per token, never speculative
  --draft-max K             fixed draft length, implies --speculative (default: chosen each round
                            from measured costs and acceptance, 0..16)
  --ignore-eos              generate to --max-tokens past end-of-text tokens (benchmarks)`;

export function str(v: Values, name: string): string | undefined {
  const x = v[name];
  return typeof x === "string" ? x : undefined;
}

export function numberOption(v: Values, name: string, check: (n: number) => boolean, expected: string): number | undefined {
  const raw = str(v, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`--${name}`, `expected ${expected}, got '${raw}'`);
  return n;
}

export const intAtLeast = (min: number) => (n: number) => Number.isInteger(n) && n >= min;

export function engineOptionsFrom(v: Values, extra: { maxSequences?: number } = {}): EngineModelsOptions {
  const target = str(v, "target");
  if (!target) throw new InvalidArgumentError("--target", "a target GGUF is required (see --help)");
  const gpu = str(v, "gpu") ?? "auto";
  if (!["auto", "cpu", "cuda", "vulkan"].includes(gpu)) throw new InvalidArgumentError("--gpu", `expected auto, cpu, cuda or vulkan, got '${gpu}'`);
  const threads = numberOption(v, "threads", intAtLeast(1), "a positive integer");
  const kvCache = str(v, "kv-cache") ?? "f16";
  const schedule = str(v, "schedule");
  if (schedule !== undefined && schedule !== "auto" && schedule !== "overlap" && schedule !== "serial") {
    throw new InvalidArgumentError("--schedule", `expected auto, overlap or serial, got '${schedule}'`);
  }
  if (kvCache !== "f16" && kvCache !== "f32") throw new InvalidArgumentError("--kv-cache", `expected f16 or f32, got '${kvCache}'`);
  return {
    target,
    expert: str(v, "expert"),
    expertLora: str(v, "expert-lora"),
    expertLoraScale: numberOption(v, "expert-lora-scale", (n) => n >= 0, "a non-negative number"),
    expertBase: str(v, "expert-base"),
    gpu: gpu as GpuChoice,
    targetThreads: threads,
    expertThreads: numberOption(v, "expert-threads", intAtLeast(1), "a positive integer"),
    soloThreads: numberOption(v, "solo-threads", intAtLeast(1), "a positive integer"),
    schedule,
    contextSize: numberOption(v, "context-size", intAtLeast(16), "an integer >= 16"),
    maxSequences: extra.maxSequences,
    kvCache,
  };
}

/** The strategies' own parameters (--threshold, --cosec-plus-mode, --alpha), validated. */
export type StrategyParams = Omit<StrategyOptions, "name">;

export function strategyParamsFrom(v: Values): StrategyParams {
  const mode = str(v, "cosec-plus-mode");
  if (mode !== undefined && mode !== "reference" && mode !== "warped") {
    throw new InvalidArgumentError("--cosec-plus-mode", `expected reference or warped, got '${mode}'`);
  }
  return {
    threshold: numberOption(v, "threshold", (n) => n >= 0 && n <= 1, "a number in [0, 1]"),
    mode,
    alpha: numberOption(v, "alpha", (n) => n >= 0 && n <= 1, "a number in [0, 1]"),
  };
}

/** A strategy with the given parameters that apply to it; the bare name when none does. */
export function strategyWith(name: StrategyName, params: StrategyParams): StrategyName | StrategyOptions {
  const own: StrategyParams =
    name === "cosec-plus" ? { threshold: params.threshold, mode: params.mode } : name === "weighted" ? { alpha: params.alpha } : {};
  return Object.values(own).some((x) => x !== undefined) ? { name, ...own } : name;
}

export function generateOptionsFrom(v: Values): GenerateOptions {
  const strategyName = str(v, "strategy");
  // Without --strategy the engine's default applies (cosec-plus with an expert); its parameters still count.
  const strategy = strategyWith(parseStrategyName(strategyName ?? (str(v, "expert") ? "cosec-plus" : "target")), strategyParamsFrom(v));
  const prob = (n: number) => n > 0 && n <= 1;
  const draftMax = numberOption(v, "draft-max", (n) => Number.isInteger(n) && n >= 1 && n <= 64, "an integer in [1, 64]");
  return {
    strategy: strategyName || typeof strategy === "object" ? strategy : undefined,
    maxTokens: numberOption(v, "max-tokens", intAtLeast(0), "a non-negative integer"),
    seed: numberOption(v, "seed", (n) => Number.isSafeInteger(n) && n >= 0, "a non-negative integer"),
    targetSampling: {
      temperature: numberOption(v, "temperature", (n) => n >= 0, "a number >= 0"),
      topP: numberOption(v, "top-p", prob, "a number in (0, 1]"),
      topK: numberOption(v, "top-k", intAtLeast(0), "a non-negative integer"),
    },
    expertSampling: {
      temperature: numberOption(v, "expert-temperature", (n) => n >= 0, "a number >= 0"),
      topP: numberOption(v, "expert-top-p", prob, "a number in (0, 1]"),
      topK: numberOption(v, "expert-top-k", intAtLeast(0), "a non-negative integer"),
    },
    speculative: speculativeFrom(v.speculative === true, v.sequential === true, draftMax),
    ignoreEos: v["ignore-eos"] === true,
  };
}

/**
 * --speculative / --sequential / --draft-max → GenerateOptions.speculative: undefined leaves the
 * engine's default (speculative where the strategy uses the expert); --draft-max implies --speculative.
 */
export function speculativeFrom(speculative: boolean, sequential: boolean, draftMax: number | undefined): GenerateOptions["speculative"] {
  if (sequential && (speculative || draftMax !== undefined)) {
    throw new InvalidArgumentError("--sequential", `cannot be combined with ${speculative ? "--speculative" : "--draft-max"}`);
  }
  if (sequential) return false;
  if (draftMax !== undefined) return { draftMax };
  return speculative ? true : undefined;
}

/** A comma-separated strategy list (as --strategies takes); an unknown name is refused naming `flag`. */
export function strategyListFrom(list: string, flag = "--strategies"): StrategyName[] {
  return list.split(",").map((raw) => {
    try {
      return parseStrategyName(raw.trim());
    } catch (err) {
      throw new InvalidArgumentError(flag, (err as Error).message);
    }
  });
}
