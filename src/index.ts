// cosec's typed public API.
export { Engine, DEFAULT_MAX_TOKENS, type GenerationSummary } from "./generate/engine.ts";
export { FIM_ORDERS, FimUnsupportedError, supportsFim, type FimInput, type FimOrder } from "./generate/fim.ts";
export type * from "./generate/types.ts";
export type * from "./backend/types.ts";
// How to decode: every parameter declared once (DECODING_PARAMS), validated and completed by one
// function, whose result GenerateOptions.decoding takes.
export { DECODING_PARAMS, resolveDecodingSettings, type DecodingInput, type DecodingSettings, type ParamSpec, type ResolveContext } from "./decoding/settings.ts";
export { STRATEGY_NAMES } from "./decoding/strategies/index.ts";
// A caller's own decoding rule: a Strategy object passed as `decoding.strategy`, built with these
// distribution helpers (native kernels, loaded on first use) and tried on positionRng's streams.
export type { SamplingSettings, Strategy, ModelRole, ModelLogits, Choice, TokenSource, PositionRng, RngPurpose } from "./decoding/types.ts";
export { argmax, logSumExp, sampleFull, sampleWarped, warpedProb } from "./decoding/warpers.ts";
export { positionRng } from "./decoding/rng.ts";
export { LlamaBackend } from "./backend/llama-backend.ts";
export * from "./errors.ts";
