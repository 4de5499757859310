// The scorer: each model the rule reads besides the expert evaluates every active sample's pending
// tokens plus its drafts in one batched pass, returning the k+1 distributions that decide them.
import type { EvaluationOptions } from "../../backend/types.ts";
import type { Caches, EvalItem } from "../job.ts";
import type { ModelRole } from "../types.ts";

export interface Scores {
  /** Per scoring role, per item, the logits rows of its last `item.last` positions. */
  logits: Map<ModelRole, Float32Array[][]>;
  /** Wall time from the start of the passes until all settled. */
  ms: number;
}

/**
 * Starts the passes (several roles side by side, each on its own threads) and settles with their
 * logits. The time counts from before they begin: a pass short enough to run on this thread is
 * done by the time its promise exists.
 */
export async function score(caches: Caches, roles: readonly ModelRole[], items: readonly EvalItem[], options?: EvaluationOptions): Promise<Scores> {
  const t0 = performance.now();
  const perRole = await caches.evaluateSideBySide(roles, items, options ?? {});
  return { logits: new Map(roles.map((role, r) => [role, perRole[r]])), ms: performance.now() - t0 };
}
