import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../src/errors.ts";
import { pairedDifference, passAtK } from "../../src/eval/humaneval/passk.ts";
import type { HumanEvalRecord } from "../../src/eval/humaneval/pipeline.ts";
import { summarize } from "../../src/eval/humaneval/summary.ts";

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

test("pass@k matches hand-computed 1 - C(n-c,k)/C(n,k)", () => {
  close(passAtK(5, 2, 1), 0.4);
  close(passAtK(5, 2, 2), 1 - 3 / 10); // C(3,2)=3, C(5,2)=10
  close(passAtK(10, 3, 5), 1 - 21 / 252); // C(7,5)=21, C(10,5)=252
  close(passAtK(20, 1, 10), 0.5); // C(19,10)/C(20,10) = 10/20
  close(passAtK(200, 1, 100), 0.5); // large n stays exact (no factorial overflow)
  close(passAtK(200, 7, 1), 7 / 200);
});

test("pass@k edge cases: all pass, none pass, n == k, n < k", () => {
  close(passAtK(20, 20, 1), 1);
  close(passAtK(20, 20, 10), 1);
  close(passAtK(20, 0, 1), 0);
  close(passAtK(20, 0, 10), 0);
  close(passAtK(4, 0, 4), 0);
  close(passAtK(4, 1, 4), 1);
  close(passAtK(10, 6, 5), 1); // n - c < k: every draw of 5 contains a pass
  assert.throws(() => passAtK(3, 1, 10), InvalidArgumentError); // not enough samples to draw k
  assert.throws(() => passAtK(3, 0, 10), /at least 10 samples/);
  assert.throws(() => passAtK(3, 4, 1), /impossible/);
  assert.throws(() => passAtK(3, 1, 0), InvalidArgumentError);
});

test("paired difference: mean, normal and bootstrap 95% intervals", () => {
  const d = pairedDifference([0.1, -0.1, 0.3]);
  close(d.mean, 0.1);
  const half = (1.96 * 0.2) / Math.sqrt(3); // sample sd of the diffs is 0.2
  close(d.normal95[0], 0.1 - half);
  close(d.normal95[1], 0.1 + half);
  const eps = 1e-9; // the percentiles of 3 points sit at the extremes, up to rounding
  assert.ok(d.bootstrap95[0] >= -0.1 - eps && d.bootstrap95[0] < d.mean && d.bootstrap95[1] > d.mean && d.bootstrap95[1] <= 0.3 + eps);
  assert.deepEqual(pairedDifference([0.1, -0.1, 0.3]), d, "bootstrap is seeded, so reproducible");
  const same = pairedDifference([0.25, 0.25]);
  assert.deepEqual([same.mean, ...same.normal95, ...same.bootstrap95], [0.25, 0.25, 0.25, 0.25, 0.25]);
  assert.equal(pairedDifference([]).problems, 0);
});

function rec(problem: string, strategy: string, sample: number, passed: boolean): HumanEvalRecord {
  return {
    problem, strategy, sample, seed: 1, completion: "", status: passed ? "passed" : "failed", details: "",
    tokens: 10, finishReason: "stop", acceptanceRate: strategy === "cosec-plus" ? 0.5 : null, executionMs: 1,
  };
}

test("summary: per-strategy pass@k over problems and paired difference against the first strategy", () => {
  const records: HumanEvalRecord[] = [];
  // p1: target 1/2 pass, cosec-plus 2/2; p2: target 0/2, cosec-plus 1/2.
  [true, false].forEach((p, i) => records.push(rec("p1", "target", i, p)));
  [true, true].forEach((p, i) => records.push(rec("p1", "cosec-plus", i, p)));
  [false, false].forEach((p, i) => records.push(rec("p2", "target", i, p)));
  [false, true].forEach((p, i) => records.push(rec("p2", "cosec-plus", i, p)));
  const s = summarize(records, ["target", "cosec-plus"], [1, 2, 5]);
  close(s.strategies[0].passAtK[1]!, (0.5 + 0) / 2);
  close(s.strategies[1].passAtK[1]!, (1 + 0.5) / 2);
  close(s.strategies[0].passAtK[2]!, (1 + 0) / 2);
  assert.equal(s.strategies[0].passAtK[5], null, "n < k for every problem");
  assert.equal(s.strategies[0].problemsForK[5], 0);
  assert.deepEqual(s.strategies[1].statusCounts, { passed: 3, failed: 1, error: 0, timeout: 0, killed: 0 });
  assert.equal(s.strategies[1].meanAcceptanceRate, 0.5);
  assert.equal(s.strategies[0].meanAcceptanceRate, null);
  const p1 = s.paired.find((p) => p.k === 1)!;
  assert.equal(p1.baseline, "target");
  close(p1.mean, 0.5); // (1 - 0.5 + 0.5 - 0) / 2
  assert.equal(p1.problems, 2);
  assert.ok(Number.isNaN(s.paired.find((p) => p.k === 5)!.mean));
});
