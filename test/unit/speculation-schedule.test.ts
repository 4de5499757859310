// The speculative scheduling policy: what a round's timings teach the draft-length chooser and the
// core-lending learner.
import assert from "node:assert/strict";
import { it } from "node:test";
import type { CoreSharing } from "../../src/decoding/core-sharing.ts";
import { SpeculationCosts } from "../../src/decoding/draft-length.ts";
import { SpeculationSchedule, type RoundTimes } from "../../src/decoding/speculative/schedule.ts";

class RecordingCores implements CoreSharing {
  readonly observed: { key: string; lent: boolean; ms: number; tokens: number }[] = [];
  readonly alone = true;
  lend(): number | undefined {
    return 2;
  }
  observe(key: string, lent: boolean, ms: number, tokens: number): void {
    this.observed.push({ key, lent, ms, tokens });
  }
}

const round = (verifiedPerSample: number, roundMs: number): RoundTimes => ({
  promptRound: false,
  sideBySide: false,
  draftStepMs: [0.1, 0.1, 0.1],
  verifyMs: roundMs - 0.3,
  roundMs,
  verifiedPerSample,
  produced: 2,
  outcome: { drafted: 2, accepted: 1, rejections: 1 },
});

it("a round whose verification is the first of its size teaches neither the costs nor the lending learner", () => {
  const costs = new SpeculationCosts();
  const cores = new RecordingCores();
  const schedule = new SpeculationSchedule(["target"], costs, undefined, cores);
  const plan = schedule.plan();
  assert.equal(plan.verifyThreads, 2);
  schedule.observe(plan, round(3, 18.9)); // a first 3-token pass: one-time costs
  assert.equal(costs.verify(3, 2), undefined);
  assert.deepEqual(cores.observed, []);
  schedule.observe(plan, round(3, 5.3));
  assert.ok(Math.abs(costs.verify(3, 2)! - 5) < 1e-9);
  assert.deepEqual(cores.observed, [{ key: "round:target", lent: true, ms: 5.3, tokens: 2 }]);
  // A round without drafts measured side by side has no verification of its own to count: it teaches the learner.
  schedule.observe({ ...plan, k: 0, verifyThreads: undefined }, { ...round(1, 2.5), sideBySide: true, draftStepMs: [2.4] });
  assert.deepEqual(cores.observed.at(-1), { key: "round:target", lent: false, ms: 2.5, tokens: 2 });
});
