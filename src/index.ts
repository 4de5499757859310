// cosec's typed public API.
export { Engine, DEFAULT_TARGET_SAMPLING, DEFAULT_MAX_TOKENS, type GenerationSummary } from "./generate/engine.ts";
export type * from "./generate/types.ts";
export type * from "./backend/types.ts";
// A caller's own decoding rule: a Strategy object passed as GenerateOptions.strategy, built with
// these distribution helpers (native kernels, loaded on first use).
export type { SamplingSettings, Strategy, ModelRole, ModelLogits, Choice, TokenSource, PositionRng, RngPurpose } from "./decoding/types.ts";
export { argmax, logSumExp, sampleFull, sampleWarped, warpedProb } from "./decoding/warpers.ts";
export { LlamaBackend } from "./backend/llama-backend.ts";
export { assertSameVocabulary } from "./backend/vocabulary-check.ts";
export { createStrategy, STRATEGY_NAMES } from "./decoding/strategies/index.ts";
export { positionRng, uniformFor } from "./decoding/rng.ts";
export * from "./errors.ts";
