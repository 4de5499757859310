// Option groups shared by every command that loads models or generates (generate, eval, serve,
// demo), so flags mean the same everywhere.
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { GpuChoice } from "../backend/types.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { RemoteEngineOptions } from "../generate/remote.ts";
import type { EngineModelsOptions, GenerateOptions, StrategyName } from "../generate/types.ts";
import { STRATEGY_NAMES } from "../decoding/strategies/index.ts";
import { checkParam, DECODING_PARAMS, describeRange, resolveDecodingSettings, type DecodingInput, type DecodingSettings } from "../decoding/settings.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

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

/** One flag per decoding parameter (src/decoding/settings.ts); a switch also has its off flag. */
export const DECODING_OPTIONS = Object.fromEntries(
  Object.values(DECODING_PARAMS).flatMap((p) => (p.kind === "bool" ? [[p.flag, { type: "boolean" }], [p.off, { type: "boolean" }]] : [[p.flag, { type: "string" }]])),
) as Record<never, never>;

/** What to generate, for generate and eval security (the server caps max_tokens instead). */
export const RUN_OPTIONS = {
  "max-tokens": { type: "string" },
  seed: { type: "string" },
  "ignore-eos": { type: "boolean" },
} as const satisfies Options;

/** A target on an OpenAI-compatible server instead of a local GGUF (cosec generate, cosec serve). */
export const REMOTE_TARGET_OPTIONS = {
  "target-url": { type: "string" },
  "target-model": { type: "string" },
  "target-api-key": { type: "string" },
} as const satisfies Options;

export const REMOTE_TARGET_HELP = `remote target (an OpenAI-compatible server that returns prompt_logprobs: vLLM started with
--logprobs-mode raw_logprobs, or cosec serve; llama.cpp's server returns none), instead of --target:
  --target-url URL          the server's base URL (co-decodes with cosec-plus, reference mode)
  --target-model NAME       the served model's id (default: the first of /v1/models)
  --target-api-key KEY      bearer key for it (also $COSEC_TARGET_API_KEY)`;

/** --target-url and the local expert beside it; undefined without --target-url. */
export function remoteEngineOptionsFrom(v: Values, extra: { maxSequences?: number } = {}): RemoteEngineOptions | undefined {
  const url = str(v, "target-url");
  if (url === undefined) return undefined;
  if (str(v, "target") !== undefined) throw new InvalidArgumentError("--target-url", "give either --target or --target-url, not both");
  const expert = str(v, "expert");
  if (!expert) throw new InvalidArgumentError("--expert", "a remote target needs a local expert GGUF to draft with");
  const gpu = str(v, "gpu") ?? "auto";
  if (!["auto", "cpu", "cuda", "vulkan"].includes(gpu)) throw new InvalidArgumentError("--gpu", `expected auto, cpu, cuda or vulkan, got '${gpu}'`);
  return {
    target: { url, model: str(v, "target-model"), apiKey: str(v, "target-api-key") ?? process.env.COSEC_TARGET_API_KEY },
    expert,
    expertLora: str(v, "expert-lora"),
    expertLoraScale: numberOption(v, "expert-lora-scale", (n) => n >= 0, "a non-negative number"),
    gpu: gpu as GpuChoice,
    contextSize: numberOption(v, "context-size", intAtLeast(16), "an integer >= 16"),
    expertThreads: numberOption(v, "expert-threads", intAtLeast(1), "a positive integer"),
    maxSequences: extra.maxSequences,
  };
}

export const RUN_HELP = `  --max-tokens N            tokens to generate (default 128)
  --seed S                  random seed (default 0): one seed reproduces a run exactly
  --ignore-eos              generate to --max-tokens past end-of-text tokens (benchmarks)`;

const wrap = (text: string) => text.replace(/(.{1,84})(?: |$)/g, "$1\n                            ").trimEnd();

/** The decoding flags' help, written from their declarations (the expert's sampling on one line). */
export const DECODING_HELP = ["decoding options:"]
  .concat(
    Object.entries(DECODING_PARAMS).map(([key, p]) => {
      const flag = `--${p.flag}${p.metavar ? ` ${p.metavar}` : ""}`;
      if (key.startsWith("expert")) return flag;
      const range = p.kind === "number" || p.kind === "int" ? `; ${describeRange(p)}` : p.kind === "enum" && key !== "strategy" ? ` (${p.values.join(" | ")})` : "";
      const line = `  ${flag.padEnd(26)}${wrap(`${key === "strategy" ? `${STRATEGY_NAMES.join(" | ")} ` : ""}${p.help}${range}${p.default === undefined ? "" : `; default ${p.default}`}`)}`;
      return p.kind === "bool" ? `${line}\n  ${`--${p.off}`.padEnd(26)}${p.offHelp}` : line;
    }),
  )
  .join("\n")
  .replace(/(\n--expert-[^\n]*)+/, (m) => `\n  ${m.trim().split("\n").join(", ")}\n${" ".repeat(28)}the expert's proposal sampling (default: as the target)`);

/** node's parseArgs with -h/--help added: null, once `help` is printed, when it was asked for. */
export function parseOrHelp<T extends ParseArgsConfig>(config: T, help: string): ReturnType<typeof parseArgs<T>> | null {
  const parsed = parseArgs({ ...config, options: { ...config.options, help: { type: "boolean", short: "h" } } });
  if ((parsed.values as Values).help !== true) return parsed as ReturnType<typeof parseArgs<T>>;
  console.log(help);
  return null;
}

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

export const positiveInt = (v: Values, name: string) => numberOption(v, name, intAtLeast(1), "a positive integer");

export function engineOptionsFrom(v: Values, extra: { maxSequences?: number } = {}): EngineModelsOptions {
  const target = str(v, "target");
  if (!target) throw new InvalidArgumentError("--target", "a target GGUF is required (see --help)");
  const gpu = str(v, "gpu") ?? "auto";
  if (!["auto", "cpu", "cuda", "vulkan"].includes(gpu)) throw new InvalidArgumentError("--gpu", `expected auto, cpu, cuda or vulkan, got '${gpu}'`);
  const threads = positiveInt(v, "threads");
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
    expertThreads: positiveInt(v, "expert-threads"),
    soloThreads: positiveInt(v, "solo-threads"),
    schedule,
    contextSize: numberOption(v, "context-size", intAtLeast(16), "an integer >= 16"),
    maxSequences: extra.maxSequences,
    kvCache,
  };
}

/** The decoding flags given, as resolveDecodingSettings takes them (numbers parsed, not yet checked). */
export function decodingInputFrom(v: Values): DecodingInput {
  const input: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(DECODING_PARAMS)) {
    if (p.kind === "bool") {
      if (v[p.flag] === true && v[p.off] === true) throw new InvalidArgumentError(`--${p.off}`, `cannot be combined with --${p.flag}`);
      if (v[p.flag] === true || v[p.off] === true) input[key] = v[p.flag] === true;
      continue;
    }
    const raw = str(v, p.flag);
    // Text that is no number stays text, so the refusal shows what was typed.
    if (raw !== undefined) input[key] = p.kind === "enum" || raw.trim() === "" || Number.isNaN(Number(raw)) ? raw : Number(raw);
  }
  return input as DecodingInput;
}

/** The decoding flags resolved: errors name the flag; whether --expert is given decides the defaults that need one. */
export function decodingFrom(v: Values, extra: DecodingInput = {}): DecodingSettings {
  return resolveDecodingSettings({ ...decodingInputFrom(v), ...extra }, { source: "cli", hasExpert: str(v, "expert") !== undefined });
}

/** --max-tokens, --seed and --ignore-eos (undefined: the command's default). */
export function runOptionsFrom(v: Values): Pick<GenerateOptions, "maxTokens" | "seed" | "ignoreEos"> {
  return {
    maxTokens: numberOption(v, "max-tokens", intAtLeast(0), "a non-negative integer"),
    seed: numberOption(v, "seed", (n) => Number.isSafeInteger(n) && n >= 0, "a non-negative integer"),
    ignoreEos: v["ignore-eos"] === true,
  };
}

/** A comma-separated strategy list (as --strategies takes); an unknown name is refused naming `flag`. */
export function strategyListFrom(list: string, flag = "--strategies"): StrategyName[] {
  return list.split(",").map((raw) => checkParam("strategy", raw.trim(), flag) as StrategyName);
}
