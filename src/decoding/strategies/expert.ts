// The security expert alone (a baseline: how secure and how useful is the small model by itself?).
import { expertProposal } from "./proposal.ts";
import type { Choice, ModelLogits, PositionRng, SamplingSettings, Strategy } from "../types.ts";

export class ExpertStrategy implements Strategy {
  readonly name = "expert";
  readonly models = ["expert"] as const;
  constructor(private readonly sampling: SamplingSettings) {}

  choose(logits: ModelLogits, rng: PositionRng): Choice {
    const { token, logprob } = expertProposal(logits.expert!, this.sampling, rng);
    return { token, source: "expert", logprob };
  }

  propose(expertLogits: Float32Array, rng: PositionRng): number {
    return expertProposal(expertLogits, this.sampling, rng).token;
  }
}
