// Rules that sample one distribution built from several models' logits:
// `weighted` (CoSec): softmax((1-a)·log p_target + a·log p_expert);
// `proxy` (proxy-tuning): logits_target + (logits_expert - logits_expertBase).
import type { ParamSpecs, StrategyArgs } from "../settings.ts";
import { logSumExp, sampleWarped } from "../warpers.ts";
import type { Choice, ModelLogits, ModelRole, PositionRng, Strategy } from "../types.ts";

abstract class CombinedStrategy implements Strategy {
  abstract readonly name: string;
  abstract readonly models: readonly ModelRole[];
  private buffer = new Float32Array(0);
  constructor(protected readonly s: StrategyArgs) {}

  /** Writes the combined logits into `out`. */
  protected abstract combine(logits: ModelLogits, out: Float32Array): void;

  combined(logits: ModelLogits): Float32Array {
    const n = logits.target!.length;
    if (this.buffer.length !== n) this.buffer = new Float32Array(n);
    this.combine(logits, this.buffer);
    return this.buffer;
  }

  choose(logits: ModelLogits, rng: PositionRng): Choice {
    const { token, logprob } = sampleWarped(this.combined(logits), this.s.sampling.target, rng.key("mixed"));
    return { token, source: "mixed", logprob };
  }
}

export class WeightedStrategy extends CombinedStrategy {
  static readonly params = {
    alpha: { kind: "number", min: 0, max: 1, default: 0.5, flag: "alpha", field: "cosec.alpha", run: true, metavar: "A", help: "weighted: the expert's weight" },
  } as const satisfies ParamSpecs;
  readonly name = "weighted";
  readonly models = ["target", "expert"] as const;

  protected combine(logits: ModelLogits, out: Float32Array): void {
    const t = logits.target!;
    const e = logits.expert!;
    const a = this.s.alpha;
    const lt = logSumExp(t);
    const le = logSumExp(e);
    for (let i = 0; i < out.length; i++) out[i] = (1 - a) * (t[i] - lt) + a * (e[i] - le);
  }
}

export class ProxyStrategy extends CombinedStrategy {
  static readonly params = {} as const;
  readonly name = "proxy";
  readonly models = ["target", "expert", "expertBase"] as const;

  protected combine(logits: ModelLogits, out: Float32Array): void {
    const t = logits.target!;
    const e = logits.expert!;
    const b = logits.expertBase!;
    for (let i = 0; i < out.length; i++) out[i] = t[i] + (e[i] - b[i]);
  }
}
