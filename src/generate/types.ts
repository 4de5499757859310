// The public generation API's data types. Every front end (CLI, server, evaluation, demo,
// benchmarks) goes through `Engine.generate`; none has its own decoding loop.
import type { GpuChoice } from "../backend/types.ts";
import type { Schedule } from "../decoding/core-sharing.ts";
import type { DecodingInput } from "../decoding/settings.ts";
import type { TokenSource } from "../decoding/types.ts";

export type { StrategyName } from "../decoding/strategies/index.ts";

export interface EngineModelsOptions {
  target: string;
  expert?: string;
  /** LoRA adapter GGUF applied to the expert (the security expert = base + adapter). */
  expertLora?: string;
  expertLoraScale?: number;
  /** Expert without its adapter, for `proxy`; default: the expert GGUF without `expertLora`. */
  expertBase?: string;
  gpu?: GpuChoice;
  /** Threads per model (default: physical cores for the target, same for the expert). */
  targetThreads?: number;
  expertThreads?: number;
  /**
   * Threads the target may borrow while the expert waits (speculative verification, co-decoding
   * one model after the other, the target strategy alone), lent only while one generation runs.
   * Default: target's plus expert's.
   */
  soloThreads?: number;
  /** Lend soloThreads: learned from timings per kind of step (`auto`, default), never, or always (core-sharing.ts). */
  schedule?: Schedule;
  contextSize?: number;
  /** Parallel sequences per model (n samples of one request, concurrent server requests). */
  maxSequences?: number;
  /** KV cache precision of every model (default f16). */
  kvCache?: "f16" | "f32";
  /**
   * Keep the KV caches of the last single-sample generation, so that the next one sharing a prefix
   * (an editor's next completion) evaluates only the rest; each model gets one sequence slot more.
   */
  promptCache?: boolean;
}

export interface GenerateOptions {
  /**
   * How to decode: resolveDecodingSettings's result, or its input (resolved here; defaults: the
   * declared ones, cosec-plus and speculative with an expert). `strategy` also takes your own rule.
   */
  decoding?: DecodingInput;
  maxTokens?: number;
  /** Number of samples, decoded as parallel sequences of one context. */
  n?: number;
  seed?: number;
  /** Index of the first sample in the random stream (sample i uses key seed/(firstSample+i)). */
  firstSample?: number;
  stop?: readonly string[];
  /** Generate past end-of-generation tokens, up to maxTokens (fixed-length benchmarks; default false). */
  ignoreEos?: boolean;
  /** Use the engine's prompt cache for this generation (default true where the engine keeps one). */
  cachePrompt?: boolean;
  /** Whether the prompt gets the model's BOS token (default: as the GGUF says). */
  addBos?: boolean;
  signal?: AbortSignal;
  /** Called for each token as soon as it is chosen. */
  onToken?: (event: TokenEvent) => void;
}

export interface TokenEvent {
  sample: number;
  token: number;
  /** Text newly completed by this token (may be empty while a UTF-8 sequence is incomplete). */
  text: string;
  source: TokenSource;
  logprob: number;
}

export type FinishReason = "stop" | "length" | "eos" | "aborted";

export interface GenerationResult {
  sample: number;
  seed: number;
  text: string;
  tokens: number[];
  sources: TokenSource[];
  logprobs: number[];
  finishReason: FinishReason;
  /** Fraction of tokens kept from the expert's proposals (cosec-plus); null where not applicable. */
  acceptanceRate: number | null;
  timing: {
    promptTokens: number;
    /** Of those, the ones taken from the prompt cache instead of evaluated. */
    cachedPromptTokens: number;
    promptMs: number;
    generatedTokens: number;
    generateMs: number;
    promptTokensPerSecond: number;
    tokensPerSecond: number;
  };
}
