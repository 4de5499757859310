// How many tokens the expert drafts per speculative round. The output never depends on it (each
// position is decided by the same rule either way); only the speed does. With per-draft acceptance
// α, a round of k drafts yields E(k) = (1 - α^(k+1)) / (1 - α) tokens (the accepted drafts plus the
// rule's own token) and costs (k + 1) expert steps plus one verification of k + 1 tokens (the last
// step beside the verification where the models keep their own threads). The chooser
// picks the k that maximises tokens per millisecond from measured costs and recent acceptance, the
// way llama.cpp's and vLLM's dynamic speculation do; on a CPU, where verifying 2 tokens can cost
// twice one, this matters more than on a GPU.
//
// The chooser may also pick k = 0: a round without drafts is one co-decoding step (expert and
// target passes, side by side unless the target borrows the expert's cores, then the rule), so
// speculation costs about what sequential co-decoding costs on a pair whose acceptance is too low
// to pay. Every PROBE_EVERY such rounds it drafts one token, so
// that the acceptance estimate follows the text and speculation resumes where it pays again.

/** The longest draft the chooser considers (a fixed --draft-max may be longer). */
export const DRAFT_MAX = 16;
/** Rounds without drafts between two one-draft probes of the acceptance. */
export const PROBE_EVERY = 8;

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

/** Verification costs of one thread layout: ms per size (tokens per sample), never decreasing in size. */
class VerifyCosts {
  private readonly ms = new Map<number, Ewma>();
  /** Sizes passed once: the first pass of a size is not counted (below). */
  private readonly seen = new Set<number>();
  /** The measured sizes made non-decreasing; rebuilt after a new observation, not per estimate. */
  private table: [number, number][] | null = null;

  get empty(): boolean {
    return this.ms.size === 0;
  }

  /** Counts a pass of `tokensPerSample` tokens; false when it was the size's first, not counted. */
  observe(tokensPerSample: number, ms: number): boolean {
    // The first pass of a batch size on a layout may pay one-time costs (such as llama.cpp sizing
    // buffers for a new shape): measured 13-22 ms where later passes of the same size took 2.2-5 ms
    // (25M target, 2 cores). Counted, such a spike priced its size out for good, since a size the
    // chooser no longer picks is never measured again, and the extrapolation from it priced out
    // every larger one: rounds drafted about 2 tokens where the pass costs favour 4.
    if (!this.seen.has(tokensPerSample)) {
      this.seen.add(tokensPerSample);
      return false;
    }
    let e = this.ms.get(tokensPerSample);
    if (!e) this.ms.set(tokensPerSample, (e = new Ewma(0.2)));
    // A scheduler hiccup can make one call take many times its usual cost: cap what one
    // observation may move the estimate, so a spike does not steer several rounds.
    e.add(e.value === undefined ? ms : Math.min(ms, 2 * e.value));
    this.table = null;
    return true;
  }

  /**
   * Measured, else interpolated or extrapolated from the measured sizes. One walk over the table,
   * nothing allocated: the chooser asks for every size each round, after each observation.
   */
  estimate(n: number): number | undefined {
    const mono = (this.table ??= nonDecreasing([...this.ms.entries()].map(([m, e]) => [m, e.value!] as [number, number]).sort((a, b) => a[0] - b[0])));
    if (mono.length === 0) return undefined;
    let j = -1; // the last measured size <= n
    while (j + 1 < mono.length && mono[j + 1][0] <= n) j++;
    if (j >= 0 && mono[j][0] === n) return mono[j][1];
    if (j >= 0 && j + 1 < mono.length) {
      const [m0, c0] = mono[j];
      const [m1, c1] = mono[j + 1];
      return c0 + ((c1 - c0) * (n - m0)) / (m1 - m0);
    }
    if (j >= 0) {
      const [m1, c1] = mono[j];
      const slope = j >= 1 ? (c1 - mono[j - 1][1]) / (m1 - mono[j - 1][0]) : PRIOR_SLOPE * c1;
      return c1 + Math.max(slope, 0) * (n - m1);
    }
    const [m1, c1] = mono[0];
    return Math.max(c1 / (1 + PRIOR_SLOPE * (m1 - 1)), c1 - PRIOR_SLOPE * c1 * (m1 - n));
  }
}

/**
 * Measured costs of one model pair, kept across generations (the engine owns one): the expert's
 * step, the verification of n tokens per sample, and the rest of a round (decisions, rollback).
 * Verification is kept per thread count (0: the verifier's own threads), since a target that
 * borrows the expert's cores verifies at other costs (core-sharing.ts).
 */
export class SpeculationCosts {
  /** Long-run per-draft acceptance of the pair: the starting estimate of each generation. */
  readonly acceptance = new Ewma(0.05);
  readonly draftStepMs = new Ewma(0.2);
  readonly roundOverheadMs = new Ewma(0.2);
  private readonly verifyByThreads = new Map<number, VerifyCosts>();

  /** Counts a verification; false when it was the first of its size on that layout (not counted). */
  observeVerify(tokensPerSample: number, ms: number, threads = 0): boolean {
    let v = this.verifyByThreads.get(threads);
    if (!v) this.verifyByThreads.set(threads, (v = new VerifyCosts()));
    return v.observe(tokensPerSample, ms);
  }

  /**
   * Estimated verification ms for n tokens per sample on `threads`: measured, else interpolated,
   * never decreasing in n; before that layout's first measurement, another layout's estimate.
   */
  verify(n: number, threads = 0): number | undefined {
    const own = this.verifyByThreads.get(threads);
    if (own && !own.empty) return own.estimate(n);
    for (const other of this.verifyByThreads.values()) if (!other.empty) return other.estimate(n);
    return undefined;
  }
}

/**
 * The closest non-decreasing sequence (pool-adjacent-violators): where a larger batch measured
 * cheaper than a smaller one, both get their mean, rather than noise at one size raising all larger ones.
 */
function nonDecreasing(points: [number, number][]): [number, number][] {
  const blocks: { sum: number; count: number; first: number; last: number }[] = [];
  points.forEach(([, ms], i) => {
    blocks.push({ sum: ms, count: 1, first: i, last: i });
    while (blocks.length > 1 && blocks[blocks.length - 2].sum / blocks[blocks.length - 2].count > blocks[blocks.length - 1].sum / blocks[blocks.length - 1].count) {
      const b = blocks.pop()!;
      const a = blocks[blocks.length - 1];
      a.sum += b.sum;
      a.count += b.count;
      a.last = b.last;
    }
  });
  const out = points.map(([m]) => [m, 0] as [number, number]);
  for (const b of blocks) for (let i = b.first; i <= b.last; i++) out[i][1] = b.sum / b.count;
  return out;
}

export interface RoundOutcome {
  /** Drafts offered and kept, summed over the round's samples. */
  drafted: number;
  accepted: number;
  /** Samples whose round ended on a rejected draft (rather than after all drafts). */
  rejections: number;
}

/** Weight, in drafts, of the prior acceptance; and the per-round decay of the observed counts. */
const PRIOR_DRAFTS = 4;
const DECAY = 0.95;

/** Per-generation acceptance estimate plus the pair's costs: the draft length of the next round. */
export class DraftLengthChooser {
  // Decayed success/failure counts of single drafts, starting from the pair's long-run acceptance
  // (0.75 before any) weighted as a few drafts: one unlucky round must not collapse k.
  private kept: number;
  private rejected: number;
  private current = 4;
  private observed = false;
  private roundsWithoutDrafts = 0;

  constructor(
    private readonly costs: SpeculationCosts,
    private readonly fixed?: number,
    /** On the models' own threads the round's last expert step runs beside the verification. */
    private readonly lastStepBeside = false,
  ) {
    if (fixed !== undefined) this.current = fixed;
    const prior = costs.acceptance.value ?? 0.75;
    this.kept = PRIOR_DRAFTS * prior;
    this.rejected = PRIOR_DRAFTS * (1 - prior);
  }

  get acceptance(): number {
    return this.kept / (this.kept + this.rejected);
  }

  /** The draft length of the next round, whose verification runs on `verifyThreads` (0: own). */
  next(verifyThreads = 0): number {
    if (this.fixed !== undefined || !this.observed) return this.current;
    this.current = this.best(verifyThreads);
    if (this.current > 0) this.roundsWithoutDrafts = 0;
    else if (++this.roundsWithoutDrafts > PROBE_EVERY) {
      this.roundsWithoutDrafts = 0;
      return 1;
    }
    return this.current;
  }

  observe(outcome: RoundOutcome): void {
    this.kept = DECAY * this.kept + outcome.accepted;
    this.rejected = DECAY * this.rejected + outcome.rejections;
    const trials = outcome.accepted + outcome.rejections;
    if (trials > 0) this.costs.acceptance.add(outcome.accepted / trials);
    this.observed = true;
  }

  /** Expected tokens per round of k drafts at acceptance a. */
  static tokensPerRound(k: number, a: number): number {
    return a >= 1 ? k + 1 : (1 - a ** (k + 1)) / (1 - a);
  }

  private best(threads: number): number {
    const step = this.costs.draftStepMs.value;
    const overhead = this.costs.roundOverheadMs.value ?? 0;
    if (step === undefined || this.costs.verify(1, threads) === undefined) {
      // Nothing measured yet: grow while everything is accepted, else follow the accepted run.
      return this.current;
    }
    const a = this.acceptance;
    let bestK = 0;
    let bestRate = -1;
    for (let k = 0; k <= DRAFT_MAX; k++) {
      const verify = this.costs.verify(k + 1, threads)!;
      // A round without drafts on the models' own threads runs expert and verifier side by side;
      // with drafts, its last expert step may run beside the verification (speculative/decode.ts).
      const beside = threads === 0 && (k === 0 || this.lastStepBeside);
      const cost = beside ? k * step + Math.max(step, verify) + overhead : (k + 1) * step + verify + overhead;
      const rate = DraftLengthChooser.tokensPerRound(k, a) / cost;
      if (rate > bestRate * 1.0001) {
        bestRate = rate;
        bestK = k;
      }
    }
    return bestK;
  }
}
