// The sequential schedule: evaluate each sample's pending tokens on every model the strategy reads,
// choose one token per sample, repeat. Both caches hold every token but the newest chosen one.
import type { CoreSharing } from "./core-sharing.ts";
import { aborted, Caches, decide, emptyProfile, runSteps, type DecodeJob, type DecodeTiming } from "./job.ts";
import type { ModelLogits } from "./types.ts";

export async function decodeSequential(job: DecodeJob, cores?: CoreSharing): Promise<DecodeTiming> {
  const roles = job.strategy.models;
  const stepKind = `step:${roles.join("+")}`;
  const caches = await Caches.open(job, roles);
  const t0 = performance.now();
  let promptMs = -1;
  const profile = emptyProfile();
  await runSteps(job, caches, async (active, pending, stepBegin) => {
    const items = active.map((i) => ({ i, tokens: pending[i], last: 1 }));
    const perRole: Float32Array[][][] = [];
    const threads = cores?.lend(stepKind);
    // One generation alone: this thread has nothing else to do during the (largest) pass, so a short
    // one may run on it.
    const inline = cores?.alone === true;
    const stepStart = performance.now();
    if (threads !== undefined) {
      // One model after the other, the target on the cores of both.
      for (const role of roles) perRole.push(await caches.evaluate(role, items, { threads, inline }));
    } else {
      // Side by side, each model on its own threads.
      perRole.push(...(await caches.evaluateSideBySide(roles, items, { inline })));
    }
    const passesEnd = performance.now();
    // Prompt steps cost more per sample than generation steps: not comparable, not observed.
    if (promptMs >= 0) cores?.observe(stepKind, threads !== undefined, passesEnd - stepStart, active.length);
    // A caller gone during the passes gets no more tokens.
    if (aborted(job)) return false;
    const measured = promptMs >= 0;
    if (promptMs < 0) promptMs = performance.now() - t0;
    active.forEach((i, k) => {
      const at: ModelLogits = {};
      roles.forEach((role, r) => (at[role] = perRole[r][k][0]));
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
    return true;
  });
  const total = performance.now() - t0;
  return { promptMs: Math.max(promptMs, 0), generateMs: total - Math.max(promptMs, 0), rounds: 0, drafted: 0, acceptedDrafts: 0, profile, cachedPromptTokens: caches.cachedPromptTokens };
}
