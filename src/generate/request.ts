// What both engines (local pair, remote target) check of a generation request before decoding: the
// sample count, token limit and seed, the decoding settings, and the prompt's tokens against the
// context. One place, so a bad value gets the same error from either.
import type { Tokenizer } from "../backend/types.ts";
import { isDecodingSettings, resolveDecodingSettings, type DecodingSettings } from "../decoding/settings.ts";
import { ContextOverflowError, InvalidArgumentError } from "../errors.ts";
import type { GenerateOptions } from "./types.ts";

export const DEFAULT_MAX_TOKENS = 128;

export const tooLong = (tokens: number, context: number) =>
  new ContextOverflowError(`the prompt has ${tokens} tokens but the context holds ${context}; shorten it or raise --context-size`);

export interface CheckedRequest {
  n: number;
  maxTokens: number;
  seed: number;
  decoding: DecodingSettings;
}

/** The request's numbers and settings; front ends pass settings they resolved (their errors name
 * flags or fields), a library caller may pass its input. */
export function checkRequest(options: GenerateOptions, hasExpert: boolean): CheckedRequest {
  const n = options.n ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("n", `must be a positive integer, got ${n}`);
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new InvalidArgumentError("maxTokens", `must be a non-negative integer, got ${maxTokens}`);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new InvalidArgumentError("seed", `must be a non-negative integer, got ${seed}`);
  const decoding = isDecodingSettings(options.decoding) ? options.decoding : resolveDecodingSettings(options.decoding ?? {}, { hasExpert });
  return { n, maxTokens, seed, decoding };
}

/** The prompt as tokens, non-empty and shorter than `context` (one token must fit after it). */
export function promptTokens(prompt: string | readonly number[], tokenizer: Tokenizer, addBos: boolean | undefined, context: number): number[] {
  const tokens = typeof prompt === "string" ? tokenizer.tokenize(prompt, { addBos }) : [...prompt];
  if (tokens.length === 0) throw new InvalidArgumentError("prompt", "is empty (and the model adds no BOS token)");
  if (tokens.length >= context) throw tooLong(tokens.length, context);
  return tokens;
}
