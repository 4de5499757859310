// How many tokens the expert drafts per speculative round. The output never depends on it (each
// position is decided by the same rule either way); only the speed does. With per-draft acceptance
// α, a round of k drafts yields E(k) = (1 - α^(k+1)) / (1 - α) tokens (the accepted drafts plus the
// rule's own token) and costs (k + 1) expert steps plus one verification of k + 1 tokens. The chooser
// picks the k that maximises tokens per millisecond from measured costs and recent acceptance, the
// way llama.cpp's and vLLM's dynamic speculation do; on a CPU, where verifying 2 tokens can cost
// twice one, this matters more than on a GPU.

export const DRAFT_MIN = 1;
export const DRAFT_MAX = 16;

/** Exponentially weighted mean; undefined until the first observation. */
class Ewma {
  value: number | undefined;
  constructor(private readonly weight: number) {}
  add(x: number): void {
    this.value = this.value === undefined ? x : this.value + this.weight * (x - this.value);
  }
}

/** Extra cost of each verified token relative to one token, assumed before two sizes are measured. */
const PRIOR_SLOPE = 0.25;

/**
 * Measured costs of one model pair, kept across generations (the engine owns one): the expert's
 * step, the verification of n tokens per sample, and the rest of a round (decisions, rollback).
 */
export class SpeculationCosts {
  readonly draftStepMs = new Ewma(0.2);
  readonly roundOverheadMs = new Ewma(0.2);
  private readonly verifyMs = new Map<number, Ewma>();

  observeVerify(tokensPerSample: number, ms: number): void {
    let e = this.verifyMs.get(tokensPerSample);
    if (!e) this.verifyMs.set(tokensPerSample, (e = new Ewma(0.2)));
    e.add(ms);
  }

  /** Estimated verification ms for n tokens per sample: measured, else interpolated, never decreasing in n. */
  verify(n: number): number | undefined {
    const known = [...this.verifyMs.entries()].map(([m, e]) => [m, e.value!] as const).sort((a, b) => a[0] - b[0]);
    if (known.length === 0) return undefined;
    // Running maximum: a larger batch never costs less (measurement noise can say otherwise).
    const mono: [number, number][] = [];
    for (const [m, ms] of known) mono.push([m, Math.max(ms, mono.length ? mono[mono.length - 1][1] : 0)]);
    const below = mono.filter(([m]) => m <= n);
    const above = mono.filter(([m]) => m > n);
    if (below.length && below[below.length - 1][0] === n) return below[below.length - 1][1];
    if (below.length && above.length) {
      const [m0, c0] = below[below.length - 1];
      const [m1, c1] = above[0];
      return c0 + ((c1 - c0) * (n - m0)) / (m1 - m0);
    }
    if (below.length) {
      const [m1, c1] = below[below.length - 1];
      const slope = below.length >= 2 ? (c1 - below[below.length - 2][1]) / (m1 - below[below.length - 2][0]) : PRIOR_SLOPE * c1;
      return c1 + Math.max(slope, 0) * (n - m1);
    }
    const [m1, c1] = above[0];
    return Math.max(c1 / (1 + PRIOR_SLOPE * (m1 - 1)), c1 - PRIOR_SLOPE * c1 * (m1 - n));
  }
}

export interface RoundOutcome {
  /** Drafts offered and kept, summed over the round's samples. */
  drafted: number;
  accepted: number;
  /** Samples whose round ended on a rejected draft (rather than after all drafts). */
  rejections: number;
}

/** Per-generation acceptance estimate plus the pair's costs: the draft length of the next round. */
export class DraftLengthChooser {
  // Decayed success/failure counts of single drafts, with a weak prior of α = 0.75.
  private kept = 1.5;
  private rejected = 0.5;
  private current = 4;

  constructor(
    private readonly costs: SpeculationCosts,
    private readonly fixed?: number,
  ) {
    if (fixed !== undefined) this.current = fixed;
  }

  get acceptance(): number {
    return this.kept / (this.kept + this.rejected);
  }

  next(): number {
    return this.current;
  }

  observe(outcome: RoundOutcome): void {
    const decay = 0.85;
    this.kept = decay * this.kept + outcome.accepted;
    this.rejected = decay * this.rejected + outcome.rejections;
    if (this.fixed === undefined) this.current = this.best();
  }

  /** Expected tokens per round of k drafts at acceptance a. */
  static tokensPerRound(k: number, a: number): number {
    return a >= 1 ? k + 1 : (1 - a ** (k + 1)) / (1 - a);
  }

  private best(): number {
    const step = this.costs.draftStepMs.value;
    const overhead = this.costs.roundOverheadMs.value ?? 0;
    if (step === undefined || this.costs.verify(1) === undefined) {
      // Nothing measured yet: grow while everything is accepted, else follow the accepted run.
      return this.current;
    }
    const a = this.acceptance;
    let bestK = DRAFT_MIN;
    let bestRate = -1;
    for (let k = DRAFT_MIN; k <= DRAFT_MAX; k++) {
      const cost = (k + 1) * step + this.costs.verify(k + 1)! + overhead;
      const rate = DraftLengthChooser.tokensPerRound(k, a) / cost;
      if (rate > bestRate * 1.0001) {
        bestRate = rate;
        bestK = k;
      }
    }
    return bestK;
  }
}
