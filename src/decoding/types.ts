// Decoding rules as pure, synchronous pieces. A strategy sees raw logits of the models it needs
// at one position plus that position's random stream, and returns the token. The sequential and
// speculative decoders both call the same `choose`, which is why their outputs are identical.

/** Temperature 0 means greedy; topK 0, topP 1 and minP 0 disable their cut (declared in settings.ts). */
export type { SamplingSettings } from "./settings.ts";

export type ModelRole = "target" | "expert" | "expertBase";

/** Raw logits (vocabSize floats) of each model the strategy needs, at one position. */
export type ModelLogits = Partial<Record<ModelRole, Float32Array>>;

/** Where a chosen token came from. */
export type TokenSource = "expert" | "target" | "mixed";

export interface Choice {
  token: number;
  source: TokenSource;
  /** Log-probability of the chosen token under the distribution it was finally drawn from. */
  logprob: number;
}

/** Random numbers for one (seed, sample, position), split by purpose so rules never share draws. */
export interface PositionRng {
  uniform(purpose: RngPurpose): number;
  /** A 32-bit key that seeds per-token Gumbel noise (sampling by Gumbel-max). */
  key(purpose: RngPurpose): number;
}

export type RngPurpose = "expert-proposal" | "target" | "mixed" | "accept";

export interface Strategy {
  readonly name: string;
  readonly models: readonly ModelRole[];
  choose(logits: ModelLogits, rng: PositionRng): Choice;
  /**
   * The token the expert proposes at this position (drafting in speculative mode). Defined for
   * strategies whose `choose` returns this proposal whenever it keeps the expert's token.
   */
  propose?(expertLogits: Float32Array, rng: PositionRng): number;
}
