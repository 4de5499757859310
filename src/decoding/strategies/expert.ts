// The security expert alone (a baseline: how secure and how useful is the small model by itself?).
import type { StrategyArgs } from "../settings.ts";
import { expertProposal } from "./proposal.ts";
import type { Choice, ModelLogits, PositionRng, Strategy } from "../types.ts";

export class ExpertStrategy implements Strategy {
  static readonly params = {} as const;
  readonly name = "expert";
  readonly models = ["expert"] as const;
  constructor(private readonly s: StrategyArgs) {}

  choose(logits: ModelLogits, rng: PositionRng): Choice {
    const { token, logprob } = expertProposal(logits.expert!, this.s.sampling.expert, rng);
    return { token, source: "expert", logprob };
  }

  propose(expertLogits: Float32Array, rng: PositionRng): number {
    return expertProposal(expertLogits, this.s.sampling.expert, rng).token;
  }
}
