// cosec's typed public API.
export { Engine, DEFAULT_TARGET_SAMPLING, DEFAULT_MAX_TOKENS, type GenerationSummary } from "./generate/engine.ts";
export type * from "./generate/types.ts";
export type * from "./backend/types.ts";
export type { SamplingSettings, Strategy, ModelLogits, Choice, TokenSource, PositionRng } from "./decoding/types.ts";
export { LlamaBackend } from "./backend/llama-backend.ts";
export { assertSameVocabulary } from "./backend/vocabulary-check.ts";
export { createStrategy, STRATEGY_NAMES } from "./decoding/strategies/index.ts";
export { positionRng, uniformFor } from "./decoding/rng.ts";
export * from "./errors.ts";
