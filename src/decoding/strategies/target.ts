// Plain sampling from the target alone: the baseline every co-decoding rule is compared with.
import { sampleWarped } from "../warpers.ts";
import type { Choice, ModelLogits, PositionRng, SamplingSettings, Strategy } from "../types.ts";

export class TargetStrategy implements Strategy {
  readonly name = "target";
  readonly models = ["target"] as const;
  constructor(private readonly sampling: SamplingSettings) {}

  choose(logits: ModelLogits, rng: PositionRng): Choice {
    const { token, logprob } = sampleWarped(logits.target!, this.sampling, rng.key("target"));
    return { token, source: "target", logprob };
  }
}
