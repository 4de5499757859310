// The expert's proposal at a position: the one place it is drawn, shared by `expert`, `cosec-plus`
// and speculative drafting, so a draft equals what the rule would propose.
import { sampleWarped } from "../warpers.ts";
import type { PositionRng, Proposal, SamplingSettings } from "../types.ts";

export function expertProposal(expertLogits: Float32Array, settings: SamplingSettings, rng: PositionRng): Proposal {
  return sampleWarped(expertLogits, settings, rng.key("expert-proposal"));
}
