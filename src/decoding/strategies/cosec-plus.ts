// CoSec+ co-decoding. The expert proposes t from its warped distribution; t is kept when
// min(1, p_target(t) / p_expert(t)) > threshold, else the token is drawn from the target.
// `reference` mode follows the authors' code: the ratio and the fallback use the RAW softmax of each
// model (temperature 1, no top-k/top-p). `warped` mode uses the warped distributions for both.
import type { ParamSpecs, StrategyArgs } from "../settings.ts";
import { logSumExp, sampleFull, sampleWarped, warpedProb, argmax } from "../warpers.ts";
import { expertProposal } from "./proposal.ts";
import type { Choice, ModelLogits, PositionRng, Proposal, Strategy } from "../types.ts";

export class CosecPlusStrategy implements Strategy {
  static readonly params = {
    threshold: { kind: "number", min: 0, max: 1, default: 0.3, flag: "threshold", field: "cosec.threshold", run: true, metavar: "X", help: "cosec-plus: keep the expert's token when min(1, p_t/p_e) > X" },
    mode: {
      kind: "enum", values: ["reference", "warped"], noun: "cosec-plus mode", default: "reference", flag: "cosec-plus-mode", field: "cosec.mode", run: true, metavar: "M",
      help: "cosec-plus: the ratio's and the fallback's distributions, raw (reference, as the authors' code) or warped",
    },
  } as const satisfies ParamSpecs;
  readonly name = "cosec-plus";
  readonly models = ["target", "expert"] as const;
  constructor(private readonly s: StrategyArgs) {}

  /**
   * In reference mode, the target's raw normaliser from the last ratio, which a fallback draw
   * reuses (undefined in warped mode). Set and read within one synchronous `choose`, so no object
   * is allocated per decision.
   */
  private targetLse: number | undefined;

  /** Acceptance ratio min(1, p_t/p_e) for the proposed token, per the mode. */
  acceptanceRatio(target: Float32Array, expert: Float32Array, token: number): number {
    let pt: number;
    let pe: number;
    if (this.s.mode === "reference") {
      this.targetLse = logSumExp(target);
      pt = Math.exp(target[token] - this.targetLse);
      pe = Math.exp(expert[token] - logSumExp(expert));
    } else {
      this.targetLse = undefined;
      pt = warpedProb(target, this.s.sampling.target, token);
      pe = warpedProb(expert, this.s.sampling.expert, token);
    }
    return pe > 0 ? Math.min(1, pt / pe) : 0;
  }

  choose(logits: ModelLogits, rng: PositionRng, proposed?: Proposal): Choice {
    const target = logits.target!;
    const expert = logits.expert!;
    const proposal = proposed ?? this.propose(expert, rng);
    const ratio = this.acceptanceRatio(target, expert, proposal.token);
    const targetLse = this.targetLse;
    if (ratio > this.s.threshold) {
      return { token: proposal.token, source: "expert", logprob: proposal.logprob };
    }
    // Greedy runs stay greedy: the fallback is the target's argmax in both modes.
    if (this.s.sampling.target.temperature <= 0) return { token: argmax(target), source: "target", logprob: 0 };
    const key = rng.key("target");
    const s = this.s.mode === "warped" ? sampleWarped(target, this.s.sampling.target, key) : sampleFull(target, key, 1, targetLse);
    return { token: s.token, source: "target", logprob: s.logprob };
  }

  propose(expertLogits: Float32Array, rng: PositionRng): Proposal {
    return expertProposal(expertLogits, this.s.sampling.expert, rng);
  }
}
