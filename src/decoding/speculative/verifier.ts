// The verifier: decides a sample's positions in order with the strategy's `choose`, on the expert's
// rows and the scored logits; the first decision that differs from the draft ends the sample's
// round. Every position sees the logits and random numbers it would see sequentially, so the output
// is the sequential schedule's.
import { aborted, decide, type DecodeJob } from "../job.ts";
import type { ModelLogits, ModelRole, Proposal } from "../types.ts";

export interface Verdict {
  /** Drafts kept (a prefix of the drafts). */
  kept: number;
  /** The token chosen after them, the next round's pending token; null when the sample ended. */
  next: number | null;
}

/** Sample i (item n of the round): its drafts, the expert's rows, and the scorer's logits per role. */
export function verifyDrafts(
  job: DecodeJob,
  i: number,
  n: number,
  drafts: readonly number[],
  expertRows: readonly Float32Array[],
  proposals: readonly (Proposal | undefined)[],
  scored: ReadonlyMap<ModelRole, readonly (readonly Float32Array[])[]>,
): Verdict {
  const s = job.samples[i];
  let kept = 0;
  for (let j = 0; j <= drafts.length; j++) {
    // A caller that aborted on an earlier token of this round (from onToken) gets no more.
    if (aborted(job)) return { kept, next: null };
    const at: ModelLogits = { expert: expertRows[j] };
    for (const [role, items] of scored) at[role] = items[n][j];
    const choice = decide(job, i, at, proposals[j]);
    if (!s.push(choice)) break;
    if (j < drafts.length && choice.token === drafts[j]) {
      kept++;
      continue;
    }
    return { kept, next: choice.token };
  }
  return { kept, next: null };
}
