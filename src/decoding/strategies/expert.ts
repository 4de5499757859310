// The security expert alone (a baseline: how secure and how useful is the small model by itself?).
import type { StrategyArgs } from "../settings.ts";
import { expertProposal } from "./proposal.ts";
import type { Choice, ModelLogits, PositionRng, Proposal, Strategy } from "../types.ts";

export class ExpertStrategy implements Strategy {
  static readonly params = {} as const;
  readonly name = "expert";
  readonly models = ["expert"] as const;
  constructor(private readonly s: StrategyArgs) {}

  choose(logits: ModelLogits, rng: PositionRng, proposal?: Proposal): Choice {
    const { token, logprob } = proposal ?? this.propose(logits.expert!, rng);
    return { token, source: "expert", logprob };
  }

  propose(expertLogits: Float32Array, rng: PositionRng): Proposal {
    return expertProposal(expertLogits, this.s.sampling.expert, rng);
  }
}
