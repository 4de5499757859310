// The model backend: the one place that touches an inference engine. Small on purpose, so that
// another backend (a remote server, a future engine) can implement it.

/** Which compute backend to load a model on. `auto` picks the best available (CUDA > Vulkan > CPU). */
export type GpuChoice = "auto" | "cpu" | "cuda" | "vulkan";

export interface LoadOptions {
  /** Path to a GGUF model file. */
  path: string;
  /** Optional LoRA adapter GGUF applied on load, with its scale (default 1). */
  lora?: { path: string; scale?: number };
  gpu?: GpuChoice;
  /** Layers offloaded to the GPU; default: all when a GPU is used. */
  gpuLayers?: number;
  /** Context size in tokens shared by all sequences of this model (default: min(train ctx, 4096)). */
  contextSize?: number;
  /** Maximum number of parallel sequences (KV cache slots). Default 1. */
  maxSequences?: number;
  /** KV cache precision: "f16" (llama.cpp's default, half the memory) or "f32" (exact attention inputs). */
  kvCache?: "f16" | "f32";
  /** Flash attention (default off, as in node-llama-cpp: on CPU it rounds queries to F16). */
  flashAttention?: boolean;
  /** CPU threads for this model (default: physical cores). Give each model of a pair its own. */
  threads?: number;
  /**
   * The most CPU threads one evaluation may ask for (`EvaluationOptions.threads`); a persistent
   * pool of that size is kept. Default `threads`.
   */
  maxThreads?: number;
}

/** Fill-in-the-middle layouts: prefix-suffix-middle, or suffix first (llama.cpp's --spm-infill). */
export const FIM_ORDERS = ["psm", "spm"] as const;
export type FimOrder = (typeof FIM_ORDERS)[number];

export interface ModelInfo {
  path: string;
  architecture: string;
  /** Number of entries in the output distribution. */
  vocabSize: number;
  /** Context size of the loaded context (tokens, shared by its sequences). */
  contextSize: number;
  /** Context length the model was trained with (GGUF metadata). */
  trainContextSize: number;
  parameterCount: number;
  /** The compute device actually used, e.g. "cpu", "cuda", "vulkan". */
  device: string;
  /** CPU threads of one-token evaluations (llama.cpp's n_threads). */
  threads: number;
  /** The fill-in-the-middle layout the model was trained with, where its GGUF records it. */
  fimOrder?: FimOrder;
  lora?: { path: string; scale: number };
}

export interface SpecialTokens {
  bos: number | null;
  eos: number | null;
  eot: number | null;
  pad: number | null;
  /** Fill-in-the-middle control tokens, as llama.cpp finds them (GGUF metadata, else known spellings). */
  fimPrefix: number | null;
  fimSuffix: number | null;
  fimMiddle: number | null;
  fimPad: number | null;
  /** Repository-name and file-separator tokens of repo-level FIM prompts (Qwen2.5-Coder, StarCoder2). */
  fimRepo: number | null;
  fimSeparator: number | null;
}

export interface Vocabulary {
  readonly size: number;
  readonly special: SpecialTokens;
  /** The raw token text (as stored in the GGUF) for an id. */
  tokenText(id: number): string;
  /** The bytes a token stands for when decoded. */
  tokenBytes(id: number): Uint8Array;
  /** True for tokens that end generation (EOS, EOT, ...). */
  isEndOfGeneration(id: number): boolean;
}

export interface Tokenizer {
  tokenize(text: string, options?: { addBos?: boolean; parseSpecial?: boolean }): number[];
  detokenize(tokens: readonly number[]): string;
}

/**
 * One KV cache slot. `evaluate` appends tokens and returns raw logits (one Float32Array of
 * `vocabSize` per requested position). The returned arrays are views into a buffer owned by
 * the sequence: valid until the next `evaluate` on the same sequence; copy them to keep them.
 */
export interface ModelSequence {
  readonly id: number;
  /** Tokens in the cache, in order. */
  readonly tokens: readonly number[];
  readonly length: number;
  /** Logits after each of the last `logitsFor` new tokens ("last" = 1, "all" = every new token), in order. */
  evaluate(tokens: readonly number[], logitsFor: LogitsFor): Promise<Float32Array[]>;
  /** Roll the cache back to its first `length` tokens. */
  truncate(length: number): Promise<void>;
  /** Frees the slot; it is reusable once the promise resolves (pending work on it finishes first). */
  dispose(): Promise<void>;
}

/**
 * The only scheduling hints a backend takes. It needs them because only the caller knows what else
 * runs meanwhile; the policy that sets them is src/decoding/core-sharing.ts and speculative/schedule.ts.
 */
export interface EvaluationOptions {
  /**
   * CPU threads for this evaluation, capped at the backend's `maxThreads`: a caller that knows the
   * other models are idle (speculative verification) may use cores they would otherwise need.
   */
  threads?: number;
  /**
   * The caller has nothing to run meanwhile (one model after the other): a short pass may then run
   * on the calling thread, which saves the hand-over to a worker thread and back.
   */
  inline?: boolean;
  /**
   * Another pass runs on the calling thread meanwhile (models side by side): hand this one to a
   * worker thread however short it is, or the two would run one after the other.
   */
  offThread?: boolean;
}

/** Which new positions to return logits for: the last one, all of them, or the last N. */
export type LogitsFor = "last" | "all" | number;

/** One item of a batched evaluation across sequences of the same model. */
export interface EvaluationRequest {
  sequence: ModelSequence;
  tokens: readonly number[];
  logitsFor: LogitsFor;
}

export interface ModelBackend {
  readonly info: ModelInfo;
  readonly vocab: Vocabulary;
  readonly tokenizer: Tokenizer;
  /** Take a free sequence slot; throws when all `maxSequences` are in use. */
  newSequence(): ModelSequence;
  /** Number of sequence slots not in use. */
  readonly freeSequences: number;
  /** Evaluate several sequences in one batch (one forward pass); results in request order. */
  evaluateBatch(requests: readonly EvaluationRequest[], options?: EvaluationOptions): Promise<Float32Array[][]>;
  dispose(): Promise<void>;
}
