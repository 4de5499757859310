// The speculative schedule, after llama.cpp's lean draft/verify loop and vLLM's proposer / scorer /
// verifier split: each round the proposer (the expert) drafts k tokens per sample, the scorer (the
// target, and the expert base for proxy) evaluates pending + drafts in one batched pass, and the
// verifier decides the positions in order with the strategy's `choose`; the first decision that
// differs from the draft ends the round and the caches roll back to it. The scheduling policy
// (draft length, core lending) only watches the timings. A position sees the same logits and
// random numbers as in the sequential schedule, so the outputs are identical.
import type { CoreSharing } from "../core-sharing.ts";
import type { SpeculationCosts } from "../draft-length.ts";
import { aborted, Caches, emptyProfile, runSteps, type DecodeJob, type DecodeTiming } from "../job.ts";
import type { DecodingSettings } from "../settings.ts";
import type { ModelRole } from "../types.ts";
import { ExpertProposer } from "./proposer.ts";
import { SpeculationSchedule } from "./schedule.ts";
import { score } from "./scorer.ts";
import { verifyDrafts } from "./verifier.ts";

/**
 * `decoding.draftMax`: a fixed draft length, else chosen each round from the pair's measured `costs`
 * (shared across generations; a fresh estimate when absent) and the acceptance. `cores`: a lone
 * verifier runs while the expert waits for its verdict, and may borrow the expert's cores.
 */
export async function decodeSpeculative(job: DecodeJob, decoding: Pick<DecodingSettings, "draftMax" | "draftPMin" | "sampling">, costs?: SpeculationCosts, cores?: CoreSharing): Promise<DecodeTiming> {
  // The expert drafts; the models the rule needs besides it are scored in one pass each.
  const verifiers: ModelRole[] = [...new Set<ModelRole>(job.strategy.models)].filter((r) => r !== "expert");
  const caches = await Caches.open(job, ["expert", ...verifiers]);
  const proposer = new ExpertProposer(job, caches, decoding.sampling.expert, decoding.draftPMin);
  const schedule = new SpeculationSchedule(verifiers, costs, decoding.draftMax, cores);
  const timing: DecodeTiming = { promptMs: -1, generateMs: 0, rounds: 0, drafted: 0, acceptedDrafts: 0, profile: emptyProfile(), cachedPromptTokens: 0 };
  const t0 = performance.now();
  await runSteps(job, caches, async (active, pending, roundBegin) => {
    const roundStart = performance.now();
    const tokensBefore = active.reduce((n, i) => n + job.samples[i].tokens.length, 0);
    const promptRound = active.some((i) => pending[i].length > 1);
    // The prompt's round drafts nothing: both models read the prompt side by side and the first
    // token comes as soon as both are done (drafting first delayed it by k expert passes).
    const plan = promptRound ? schedule.promptPlan() : schedule.plan();
    const lengths = proposer.lengths(active, pending, plan.k);
    const pendingItems = active.map((i) => ({ i, tokens: pending[i], last: 1 }));
    // A round without drafts on the models' own threads is a sequential step: expert and
    // verifiers evaluate the pending tokens side by side, the expert's pass handed to a worker
    // thread before the verifiers' start on this one (Caches.evaluateSideBySide).
    const sideBySide = plan.verifyThreads === undefined && lengths.every((k) => k === 0);
    const passesStart = performance.now();
    // On their own threads, a lone verifier also runs beside the expert's last pass of the round:
    // that pass gives only the rows of the position after the drafts, while the verification
    // needs only the drafted tokens (one expert step of each round off the critical path).
    const deferLast = !sideBySide && plan.verifyThreads === undefined && verifiers.length === 1;
    const drafting = proposer.draft(active, pendingItems, lengths, sideBySide ? { offThread: true } : { inline: plan.alone }, plan.alone, deferLast);
    const sideScores = sideBySide ? score(caches, verifiers, pendingItems, { inline: plan.alone }) : null;
    sideScores?.catch(() => undefined); // awaited below; handled here too, should the expert's pass throw first
    const drafts = await drafting;
    const draftEnd = performance.now();
    if (timing.promptMs < 0) timing.promptMs = performance.now() - t0;
    // A caller gone during the passes gets no more tokens (its request is freed now, not a round later).
    if (aborted(job)) {
      await sideScores?.catch(() => undefined); // no pass left running on caches about to be freed
      return false;
    }

    // Handed to a worker thread before the verification starts on this one.
    const lastPass = drafts.finishLast?.({ offThread: true });
    const verifying =
      sideScores ??
      score(
        caches,
        verifiers,
        active.map((i, n) => ({ i, tokens: [...pending[i], ...drafts.tokens[n]], last: drafts.tokens[n].length + 1 })),
        { threads: plan.verifyThreads, inline: plan.alone && verifiers.length === 1 }, // several: side by side
      );
    // Both settle before either's error is thrown: no pass left running on caches about to be freed.
    const [last, verified] = await Promise.allSettled([lastPass, verifying]);
    if (last.status === "rejected") throw last.reason;
    if (verified.status === "rejected") throw verified.reason;
    const scores = verified.value;
    if (aborted(job)) return false;
    const scoreEnd = performance.now();

    // Tokens per sample of that pass, when every sample drafted alike (else not one cost).
    const maxDrafts = Math.max(...drafts.tokens.map((d) => d.length));
    const verifiedPerSample = drafts.tokens.every((d) => d.length === maxDrafts) ? Math.max(...active.map((i) => pending[i].length)) + maxDrafts : undefined;

    const outcome = { drafted: 0, accepted: 0, rejections: 0 };
    let rollbackMs = 0;
    for (let n = 0; n < active.length; n++) {
      const i = active[n];
      const tokens = drafts.tokens[n];
      const base = caches.seq("expert", i).length - tokens.length; // cache length before the drafts
      const { kept, next } = verifyDrafts(job, i, n, tokens, drafts.rows[n], drafts.proposals[n], scores.logits);
      outcome.drafted += tokens.length;
      outcome.accepted += kept;
      if (kept < tokens.length && next !== null) outcome.rejections++;
      const rollbackStart = performance.now();
      await caches.truncate(i, base + kept);
      rollbackMs += performance.now() - rollbackStart;
      if (next !== null) pending[i] = [next];
      else if (!job.samples[i].done) throw new Error("speculative round ended without a token");
    }
    const roundEnd = performance.now();
    if (!promptRound) {
      const p = timing.profile;
      const expertPassesMs = drafts.stepMs.reduce((a, b) => a + b, 0);
      const draftWall = draftEnd - passesStart;
      p.steps++;
      p.totalMs += roundEnd - roundBegin;
      // Side by side, the scorer's pass overlaps the expert's: the wall time counts once.
      p.modelMs += sideBySide ? scoreEnd - passesStart - (draftWall - expertPassesMs) : expertPassesMs + (scoreEnd - draftEnd);
      p.draftMs += sideBySide ? 0 : expertPassesMs;
      p.decideMs += draftWall - expertPassesMs + (roundEnd - scoreEnd - rollbackMs);
      p.rollbackMs += rollbackMs;
    }
    timing.rounds++;
    timing.drafted += outcome.drafted;
    timing.acceptedDrafts += outcome.accepted;
    schedule.observe(plan, {
      promptRound,
      sideBySide,
      draftStepMs: drafts.stepMs,
      verifyMs: scores.ms,
      roundMs: roundEnd - roundStart,
      verifiedPerSample,
      produced: active.reduce((n, i) => n + job.samples[i].tokens.length, 0) - tokensBefore,
      outcome,
    });
    return true;
  });
  timing.cachedPromptTokens = caches.cachedPromptTokens;
  timing.promptMs = Math.max(timing.promptMs, 0);
  timing.generateMs = performance.now() - t0 - timing.promptMs;
  return timing;
}
