// Plain sampling from the target alone: the baseline every co-decoding rule is compared with.
import type { StrategyArgs } from "../settings.ts";
import { sampleWarped } from "../warpers.ts";
import type { Choice, ModelLogits, PositionRng, Strategy } from "../types.ts";

export class TargetStrategy implements Strategy {
  static readonly params = {} as const;
  readonly name = "target";
  readonly models = ["target"] as const;
  constructor(private readonly s: StrategyArgs) {}

  choose(logits: ModelLogits, rng: PositionRng): Choice {
    const { token, logprob } = sampleWarped(logits.target!, this.s.sampling.target, rng.key("target"));
    return { token, source: "target", logprob };
  }
}
