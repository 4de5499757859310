// The scheduling policy of speculative rounds, kept out of the loop: how many tokens to draft (from
// the pair's measured costs and this generation's acceptance), whether a lone verifier borrows the
// expert's cores, and what each round's timings teach both. It changes when models run, never
// which token is chosen.
import type { CoreSharing } from "../core-sharing.ts";
import { DraftLengthChooser, SpeculationCosts, type RoundOutcome } from "../draft-length.ts";
import type { ModelRole } from "../types.ts";

export interface RoundPlan {
  /** Draft length asked of every sample (each may draft fewer). */
  k: number;
  /** Threads of the verifying pass: the expert's cores lent to a lone verifier, or its own (undefined). */
  verifyThreads: number | undefined;
  /** A single generation runs: passes it waits for may run on this thread. */
  alone: boolean;
}

export interface RoundTimes {
  /** The round's first expert pass read a prompt: it is neither a draft step nor overhead. */
  promptRound: boolean;
  /** Expert and verifiers ran side by side on the pending tokens (no drafts, nothing lent). */
  sideBySide: boolean;
  /** Wall time of each expert pass, the first included. */
  draftStepMs: readonly number[];
  verifyMs: number;
  roundMs: number;
  /** Tokens per sample of the verifying pass when every sample drafted alike, else undefined. */
  verifiedPerSample: number | undefined;
  /** Tokens the round added to its samples. */
  produced: number;
  outcome: RoundOutcome;
}

export class SpeculationSchedule {
  private readonly chooser: DraftLengthChooser;
  /** Lending is judged on whole rounds: a lent verification also changes the drafting around it. */
  private readonly roundKind: string;

  constructor(
    private readonly verifiers: readonly ModelRole[],
    private readonly costs: SpeculationCosts = new SpeculationCosts(),
    draftMax?: number,
    private readonly cores?: CoreSharing,
  ) {
    // A lone verifier runs beside the expert's last step of a round (decode.ts).
    this.chooser = new DraftLengthChooser(costs, draftMax, verifiers.length === 1);
    this.roundKind = `round:${verifiers.join("+")}`;
  }

  /** The expert drafts alone; a lone verifier may then take its cores too (verifiers that run
   * together keep their own). The draft length follows the verification's costs on those threads. */
  plan(): RoundPlan {
    const verifyThreads = this.verifiers.length === 1 ? this.cores?.lend(this.roundKind) : undefined;
    return { k: this.chooser.next(verifyThreads ?? 0), verifyThreads, alone: this.cores?.alone === true };
  }

  /** The prompt's round: no drafts, every model on its own threads (side by side). */
  promptPlan(): RoundPlan {
    return { k: 0, verifyThreads: undefined, alone: this.cores?.alone === true };
  }

  observe(plan: RoundPlan, t: RoundTimes): void {
    // Steps of one token per sample measure the draft cost (the first round's carries the prompt).
    const measured = t.promptRound || t.sideBySide ? t.draftStepMs.slice(1) : t.draftStepMs;
    for (const ms of measured) this.costs.draftStepMs.add(ms);
    // A pass beside the expert's is not the cost of one alone.
    const counted = !t.sideBySide && t.verifiedPerSample !== undefined ? this.costs.observeVerify(t.verifiedPerSample, t.verifyMs, plan.verifyThreads ?? 0) : true;
    if (!t.promptRound) {
      const draftMs = measured.reduce((a, b) => a + b, 0);
      if (!t.sideBySide) this.costs.roundOverheadMs.add(Math.max(0, t.roundMs - draftMs - t.verifyMs));
      // A round whose verification was the first of its size paid one-time costs (draft-length.ts):
      // no evidence for or against lending (one such round took 13-22 ms among rounds of 5-7 ms).
      if (counted && t.produced > 0 && this.verifiers.length === 1) this.cores?.observe(this.roundKind, plan.verifyThreads !== undefined, t.roundMs, t.produced);
    }
    this.chooser.observe(t.outcome);
  }
}
