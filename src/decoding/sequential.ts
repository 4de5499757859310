// The sequential schedule: evaluate each sample's pending tokens on every model the strategy reads,
// choose one token per sample, repeat. Both caches hold every token but the newest chosen one.
import type { CoreSharing } from "./core-sharing.ts";
import { aborted, activeSamples, Caches, decide, emptyProfile, yieldForSignal, type DecodeJob, type DecodeTiming } from "./job.ts";
import type { ModelLogits, ModelRole } from "./types.ts";

export async function decodeSequential(job: DecodeJob, cores?: CoreSharing): Promise<DecodeTiming> {
  const roles = job.strategy.models;
  const stepKind = `step:${roles.join("+")}`;
  const caches = await Caches.open(job, roles);
  const pending: (readonly number[])[] = job.samples.map((_, i) => caches.promptTail(i));
  const t0 = performance.now();
  let promptMs = -1;
  const profile = emptyProfile();
  // A job that ended without an error leaves its caches to the prompt cache: a KV cache is valid
  // for the tokens it holds, however they were chosen (also drafts of a round cut by an abort).
  let clean = false;
  try {
    for (;;) {
      const stepBegin = performance.now();
      await yieldForSignal(job);
      const active = aborted(job) ? [] : activeSamples(job, caches, pending);
      if (active.length === 0) break;
      const items = active.map((i) => ({ i, tokens: pending[i], last: 1 }));
      const perRole: Float32Array[][][] = [];
      const threads = cores?.lend(stepKind);
      // One generation alone, running one model or one model after the other: this thread has
      // nothing else to do during a pass, so short passes may run on it.
      const inline = cores?.alone === true && (threads !== undefined || roles.length === 1);
      const stepStart = performance.now();
      if (threads !== undefined) {
        // One model after the other, the target on the cores of both.
        for (const role of roles) perRole.push(await caches.evaluate(role, items, { threads, inline }));
      } else {
        // Side by side: each llama.cpp context decodes on its own worker thread.
        perRole.push(...(await Promise.all(roles.map((role) => caches.evaluate(role, items, { inline })))));
      }
      const passesEnd = performance.now();
      // Prompt steps cost more per sample than generation steps: not comparable, not observed.
      if (promptMs >= 0) cores?.observe(stepKind, threads !== undefined, (passesEnd - stepStart) / active.length);
      // A caller gone during the passes gets no more tokens.
      if (aborted(job)) break;
      const logits = new Map<ModelRole, Float32Array[][]>(roles.map((role, r) => [role, perRole[r]]));
      const measured = promptMs >= 0;
      if (promptMs < 0) promptMs = performance.now() - t0;
      active.forEach((i, k) => {
        const at: ModelLogits = {};
        for (const role of roles) at[role] = logits.get(role)![k][0];
        const choice = decide(job, i, at);
        if (job.samples[i].push(choice)) pending[i] = [choice.token];
      });
      if (measured) {
        const end = performance.now();
        profile.steps++;
        profile.totalMs += end - stepBegin;
        profile.modelMs += passesEnd - stepStart;
        profile.decideMs += end - passesEnd;
      }
    }
    clean = true;
  } finally {
    await caches.close(clean);
  }
  const total = performance.now() - t0;
  return { promptMs: Math.max(promptMs, 0), generateMs: total - Math.max(promptMs, 0), rounds: 0, drafted: 0, acceptedDrafts: 0, profile, cachedPromptTokens: caches.cachedPromptTokens };
}
