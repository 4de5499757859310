// The proposer: the expert drafts up to k tokens per sample, one batched expert pass per depth.
// Each draft is the strategy's own `propose` on the expert's logits at that position, keyed by the
// position's random numbers; a rule without one (the target, weighted, a caller's rule) is drafted
// for by the expert's sampling, which changes how many drafts are kept, never the output.
import type { EvaluationOptions } from "../../backend/types.ts";
import { StrategyError } from "../../errors.ts";
import { positionRng } from "../rng.ts";
import { expertProposal } from "../strategies/proposal.ts";
import type { PositionRng, Proposal, SamplingSettings } from "../types.ts";
import type { Caches, DecodeJob, EvalItem } from "../job.ts";

export interface Drafts {
  /** Per sample (index into `active`): the expert's logits E_0..E_len, one more than its drafts. */
  rows: Float32Array[][];
  /** Per sample: the drafted tokens d_0..d_len-1. */
  tokens: number[][];
  /** Per sample and position: the strategy's own proposal there, when it has `propose` (for its `choose`). */
  proposals: (Proposal | undefined)[][];
  /** Wall time of each expert pass, the first (over the pending tokens) included; not a deferred last pass. */
  stepMs: number[];
  /**
   * With `deferLast`, when every sample drafted all it was allowed: the round's last expert pass
   * (over the last drafts, for the rows that decide the position after them), not yet run. The
   * caller runs it beside the verification, which needs only the drafted tokens; the rows are
   * complete once it settles.
   */
  finishLast?: (options: EvaluationOptions) => Promise<void>;
}

/** Reusable copies of logits rows, indexed by (sample slot, draft depth): no allocation per token. */
class RowPool {
  private readonly pool: Float32Array[][] = [];

  take(slot: number, depth: number, src: Float32Array): Float32Array {
    const list = (this.pool[slot] ??= []);
    let row = list[depth];
    if (!row || row.length !== src.length) row = list[depth] = new Float32Array(src.length);
    row.set(src);
    return row;
  }
}

export class ExpertProposer {
  private readonly rows = new RowPool();
  private readonly own: ((row: Float32Array, rng: PositionRng) => Proposal) | undefined;
  private readonly fallback: (row: Float32Array, rng: PositionRng) => Proposal;

  constructor(
    private readonly job: DecodeJob,
    private readonly caches: Caches,
    expertSampling: SamplingSettings,
    /** Drafting stops at a proposal of lower probability (under the expert's warped distribution). */
    private readonly pMin = 0,
  ) {
    this.own = job.strategy.propose?.bind(job.strategy);
    this.fallback = (row, rng) => expertProposal(row, expertSampling, rng);
  }

  /** How many tokens each active sample may draft: at most k, within its token budget and context. */
  lengths(active: readonly number[], pending: readonly (readonly number[])[], k: number): number[] {
    return active.map((i) => {
      let room = k;
      while (room > 0 && !this.caches.fits(i, pending[i].length + room)) room--;
      return Math.min(room, Math.max(0, this.job.samples[i].remaining - 1));
    });
  }

  /**
   * Evaluates the pending tokens, then drafts up to lengths[n] tokens per sample; a sample stops
   * drafting at a token that would end it. `first`: how the first pass runs (beside the verifiers'
   * or not); `inline`: whether the later passes may run on this thread (nothing runs beside them);
   * `deferLast`: leave the last pass to the caller where it can (`Drafts.finishLast`).
   */
  async draft(active: readonly number[], pending: readonly EvalItem[], lengths: readonly number[], first: EvaluationOptions, inline: boolean, deferLast = false): Promise<Drafts> {
    const rows: Float32Array[][] = active.map(() => []);
    const tokens: number[][] = active.map(() => []);
    const proposals: (Proposal | undefined)[][] = active.map(() => []);
    const stepMs: number[] = [];
    let start = performance.now();
    let step = await this.caches.evaluate("expert", pending, first);
    stepMs.push(performance.now() - start);
    let drafting = active.map((_, n) => n); // indices into `active`
    for (let depth = 0; ; depth++) {
      const still: number[] = [];
      drafting.forEach((n, m) => {
        // The next expert pass overwrites the sequence's logits buffer: keep a copy.
        const row = this.rows.take(n, depth, step[m][0]);
        rows[n].push(row);
        if (depth >= lengths[n]) return;
        const s = this.job.samples[active[n]];
        const rng = positionRng(s.seed, s.sample, s.position + depth);
        const own = this.own?.(row, rng);
        if (own !== undefined && !Number.isInteger(own?.token)) {
          throw new StrategyError(`strategy '${this.job.strategy.name}': propose must return { token, logprob }, got ${JSON.stringify(own)}`);
        }
        proposals[n].push(own);
        const proposal = own ?? this.fallback(row, rng);
        const d = proposal.token;
        if (s.endsOn(d)) return; // nothing to draft past the end
        // An unsure proposal is decided at this position but not drafted past: the rule keeps such
        // a token about half the time, against 0.88 for one the expert is sure of (bench/draft-confidence.ts).
        if (this.pMin > 0 && Math.exp(proposal.logprob) < this.pMin) return;
        tokens[n].push(d);
        still.push(n);
      });
      drafting = still;
      if (drafting.length === 0 || this.job.signal?.aborted) break;
      const items = drafting.map((n) => ({ i: active[n], tokens: [tokens[n][depth]], last: 1 }));
      // Every sample still drafting has drafted its length: the rows of this pass decide only the
      // position after the drafts, and no draft depends on them.
      if (deferLast && drafting.every((n) => tokens[n].length >= lengths[n])) {
        const last = drafting;
        const finishLast = async (options: EvaluationOptions) => {
          const rowsOut = await this.caches.evaluate("expert", items, options);
          last.forEach((n, m) => rows[n].push(this.rows.take(n, depth + 1, rowsOut[m][0])));
        };
        return { rows, tokens, proposals, stepMs, finishLast };
      }
      start = performance.now();
      step = await this.caches.evaluate("expert", items, { inline });
      stepMs.push(performance.now() - start);
    }
    return { rows, tokens, proposals, stepMs };
  }
}
