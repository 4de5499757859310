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

/** The expert's proposal at a position: its token and log-probability under the expert's warped distribution. */
export interface Proposal {
  token: number;
  logprob: number;
}

export interface Strategy {
  readonly name: string;
  readonly models: readonly ModelRole[];
  /**
   * The token at this position. `proposal`, when given, is what this strategy's own `propose`
   * returned for these expert logits and this rng (the speculative decoder drew it to draft): a
   * rule may use it rather than draw it again.
   */
  choose(logits: ModelLogits, rng: PositionRng, proposal?: Proposal): Choice;
  /**
   * The expert's proposal at this position (drafting in speculative mode). Defined for strategies
   * whose `choose` returns this proposal's token whenever it keeps the expert's token.
   */
  propose?(expertLogits: Float32Array, rng: PositionRng): Proposal;
}
