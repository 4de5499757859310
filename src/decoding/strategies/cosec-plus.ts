// CoSec+ co-decoding. The expert proposes t from its warped distribution; t is kept when
// min(1, p_target(t) / p_expert(t)) > threshold, else the token is drawn from the target.
// `reference` mode follows the authors' code: the ratio and the fallback use the RAW softmax of each
// model (temperature 1, no top-k/top-p). `warped` mode uses the warped distributions for both.
import { logSumExp, sampleFull, sampleWarped, warpedProb, argmax } from "../warpers.ts";
import { expertProposal } from "./proposal.ts";
import type { Choice, ModelLogits, PositionRng, SamplingSettings, Strategy } from "../types.ts";

export interface CosecPlusOptions {
  threshold: number;
  mode: "reference" | "warped";
  expertSampling: SamplingSettings;
  targetSampling: SamplingSettings;
}

export class CosecPlusStrategy implements Strategy {
  readonly name = "cosec-plus";
  readonly models = ["target", "expert"] as const;
  constructor(private readonly o: CosecPlusOptions) {}

  /** Acceptance ratio min(1, p_t/p_e) for the proposed token, per the mode. */
  acceptanceRatio(target: Float32Array, expert: Float32Array, token: number): number {
    let pt: number;
    let pe: number;
    if (this.o.mode === "reference") {
      pt = Math.exp(target[token] - logSumExp(target));
      pe = Math.exp(expert[token] - logSumExp(expert));
    } else {
      pt = warpedProb(target, this.o.targetSampling, token);
      pe = warpedProb(expert, this.o.expertSampling, token);
    }
    return pe > 0 ? Math.min(1, pt / pe) : 0;
  }

  choose(logits: ModelLogits, rng: PositionRng): Choice {
    const target = logits.target!;
    const expert = logits.expert!;
    const proposal = expertProposal(expert, this.o.expertSampling, rng);
    if (this.acceptanceRatio(target, expert, proposal.token) > this.o.threshold) {
      return { token: proposal.token, source: "expert", logprob: proposal.logprob };
    }
    // Greedy runs stay greedy: the fallback is the target's argmax in both modes.
    if (this.o.targetSampling.temperature <= 0) return { token: argmax(target), source: "target", logprob: 0 };
    const key = rng.key("target");
    const s = this.o.mode === "warped" ? sampleWarped(target, this.o.targetSampling, key) : sampleFull(target, key);
    return { token: s.token, source: "target", logprob: s.logprob };
  }

  propose(expertLogits: Float32Array, rng: PositionRng): number {
    return expertProposal(expertLogits, this.o.expertSampling, rng).token;
  }
}
