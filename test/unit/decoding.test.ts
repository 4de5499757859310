// Decoding rules on a 5-token toy vocabulary, checked against distributions computed by hand.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { positionRng, uniformFor } from "../../src/decoding/rng.ts";
import { expertKey, resolveDecodingSettings, type DecodingInput } from "../../src/decoding/settings.ts";
import type { ModelLogits, PositionRng, SamplingSettings, Strategy } from "../../src/decoding/types.ts";
import { logSumExp, sampleWarped, warp, warpedProb } from "../../src/decoding/warpers.ts";
import { InvalidArgumentError } from "../../src/errors.ts";

const toyTarget = Float32Array.from([2.0, 1.0, 0.5, -1.0, 0.0]);
const toyExpert = Float32Array.from([0.0, 2.5, 0.1, 1.5, -2.0]);
const toyBase = Float32Array.from([0.5, 0.5, 0.5, 0.5, 0.5]);

function softmax(x: ArrayLike<number>, t = 1): number[] {
  const m = Math.max(...Array.from(x));
  const e = Array.from(x, (v) => Math.exp((v - m) / t));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/** A PositionRng whose numbers never matter (greedy decoding). */
const unusedRng: PositionRng = {
  uniform: () => 0.5,
  key: () => 0,
};

const DRAWS = 40000;
/** Four standard deviations of a frequency estimated from DRAWS draws. */
const MC_TOL = 4 * Math.sqrt(0.25 / DRAWS);

/** The distribution a strategy samples from, estimated over the engine's own random stream. */
function impliedDistribution(choose: (rng: PositionRng) => number): number[] {
  const counts = new Array(5).fill(0);
  for (let pos = 0; pos < DRAWS; pos++) counts[choose(positionRng(1234, 0, pos))]++;
  return counts.map((c) => c / DRAWS);
}

function assertClose(actual: number[], expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tol ${tol})`);
  }
}

const plain: SamplingSettings = { temperature: 1, topK: 0, topP: 1, minP: 0 };

/** A built-in strategy with the given sampling of each model, as resolveDecodingSettings builds it. */
function createStrategy(input: DecodingInput["strategy"] | DecodingInput, sampling: { target: SamplingSettings; expert: SamplingSettings }): Strategy {
  const o: DecodingInput = typeof input === "string" ? { strategy: input } : (input as DecodingInput);
  const expert = Object.fromEntries(Object.entries(sampling.expert).map(([k, v]) => [expertKey(k), v]));
  return resolveDecodingSettings({ ...o, ...sampling.target, ...expert }, { hasExpert: true }).strategy;
}

describe("random stream", () => {
  it("is a pure function of (seed, sample, position, purpose)", () => {
    assert.equal(uniformFor(7, 2, 11, "target"), uniformFor(7, 2, 11, "target"));
    assert.equal(positionRng(7, 2, 11).uniform("accept"), uniformFor(7, 2, 11, "accept"));
    const keys = new Set([
      uniformFor(7, 2, 11, "target"),
      uniformFor(8, 2, 11, "target"),
      uniformFor(7, 3, 11, "target"),
      uniformFor(7, 2, 12, "target"),
      uniformFor(7, 2, 11, "expert-proposal"),
      uniformFor(2 ** 40 + 7, 2, 11, "target"),
    ]);
    assert.equal(keys.size, 6);
  });

  it("is uniform on [0, 1)", () => {
    const n = 20000;
    const bins = new Array(10).fill(0);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const u = uniformFor(1, 0, i, "target");
      assert.ok(u >= 0 && u < 1);
      bins[Math.floor(u * 10)]++;
      sum += u;
    }
    assert.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`);
    for (const b of bins) assert.ok(Math.abs(b / n - 0.1) < 0.01, `bin ${b / n}`);
  });
});

describe("warpers", () => {
  it("logSumExp matches the direct formula", () => {
    const direct = Math.log(Array.from(toyTarget).reduce((a, v) => a + Math.exp(v), 0));
    assert.ok(Math.abs(logSumExp(toyTarget) - direct) < 1e-6);
    const direct2 = Math.log(Array.from(toyTarget).reduce((a, v) => a + Math.exp(v / 0.4), 0));
    assert.ok(Math.abs(logSumExp(toyTarget, 1 / 0.4) - direct2) < 1e-5);
  });

  it("temperature, top-k and top-p give the hand-computed distribution", () => {
    // T = 0.5: p ∝ exp(2x); top-k 3 keeps ids 0, 1, 2; then top-p 0.9 cuts after the mass reaches 0.9.
    const e = [Math.exp(4), Math.exp(2), Math.exp(1)];
    const z = e[0] + e[1] + e[2];
    const p = e.map((v) => v / z); // ≈ [0.844, 0.114, 0.042]
    const d = warp(toyTarget, { temperature: 0.5, topK: 3, topP: 0.9, minP: 0 })!;
    assert.deepEqual(Array.from(d.tokens), [0, 1]);
    const kept = p[0] + p[1];
    assertClose(Array.from(d.probs), [p[0] / kept, p[1] / kept], 1e-6, "probs");
    // top-p alone (no top-k) on the raw softmax.
    const raw = softmax(toyTarget);
    const d2 = warp(toyTarget, { temperature: 1, topK: 0, topP: 0.6, minP: 0 })!;
    assert.deepEqual(Array.from(d2.tokens), [0, 1]);
    assertClose(Array.from(d2.probs), [raw[0] / (raw[0] + raw[1]), raw[1] / (raw[0] + raw[1])], 1e-6, "top-p");
    assert.equal(warpedProb(toyTarget, { temperature: 1, topK: 0, topP: 0.6, minP: 0 }, 4), 0);
  });

  it("min-p keeps the tokens at least minP times as probable as the top one, after top-k and top-p", () => {
    // T = 0.5: p ∝ exp(2x) = [e^4, e^2, e^1, e^-2, e^0]; relative to the top: [1, 0.135, 0.050, 0.0003, 0.018].
    const e = [Math.exp(4), Math.exp(2), Math.exp(1), Math.exp(-2), Math.exp(0)];
    const alone = warp(toyTarget, { temperature: 0.5, topK: 0, topP: 1, minP: 0.1 })!;
    assert.deepEqual(Array.from(alone.tokens), [0, 1]);
    assertClose(Array.from(alone.probs), [e[0] / (e[0] + e[1]), e[1] / (e[0] + e[1])], 1e-6, "min-p alone");
    const low = warp(toyTarget, { temperature: 0.5, topK: 0, topP: 1, minP: 0.01 })!;
    assert.deepEqual(Array.from(low.tokens), [0, 1, 2, 4]);
    // With top-k 4 and top-p 0.99 first (they keep 0, 1, 2, 4), min-p 0.04 then drops id 4.
    const after = warp(toyTarget, { temperature: 0.5, topK: 4, topP: 0.99, minP: 0.04 })!;
    assert.deepEqual(Array.from(after.tokens), [0, 1, 2]);
    assert.equal(warpedProb(toyTarget, { temperature: 0.5, topK: 0, topP: 1, minP: 0.1 }, 2), 0);
    // min-p 1 keeps the top token only; min-p 0 leaves the full softmax (no truncation at all).
    assert.deepEqual(Array.from(warp(toyTarget, { temperature: 0.5, topK: 0, topP: 1, minP: 1 })!.tokens), [0]);
    assert.equal(warp(toyTarget, { temperature: 0.5, topK: 0, topP: 1, minP: 0 }), null);
  });

  it("Gumbel-max sampling follows the distribution", () => {
    const dist = impliedDistribution((rng) => sampleWarped(toyTarget, plain, rng.key("target")).token);
    assertClose(dist, softmax(toyTarget), MC_TOL, "full softmax");
  });

  it("temperature 0 is greedy", () => {
    assert.equal(sampleWarped(toyExpert, { temperature: 0, topK: 50, topP: 0.95, minP: 0 }, 0.99).token, 1);
  });
});

describe("strategies sample the documented distributions", () => {
  const logits: ModelLogits = { target: toyTarget, expert: toyExpert, expertBase: toyBase };
  const sampling = { target: plain, expert: { temperature: 0.7, topK: 3, topP: 1, minP: 0 } };

  it("target and expert", () => {
    const t = createStrategy("target", sampling);
    assertClose(impliedDistribution((r) => t.choose(logits, r).token), softmax(toyTarget), MC_TOL, "target");
    const e = createStrategy("expert", sampling);
    const warped = warp(toyExpert, sampling.expert)!;
    const expected = [0, 0, 0, 0, 0];
    warped.tokens.forEach((tok, i) => (expected[tok] = warped.probs[i]));
    assertClose(impliedDistribution((r) => e.choose(logits, r).token), expected, MC_TOL, "expert");
  });

  for (const threshold of [0.3, 0.6]) {
    it(`cosec-plus (reference mode, threshold ${threshold})`, () => {
      const s = createStrategy({ strategy: "cosec-plus", threshold }, sampling);
      const q = warp(toyExpert, sampling.expert)!; // the proposal distribution
      const pt = softmax(toyTarget);
      const pe = softmax(toyExpert);
      // P(x) = q(x)·[min(1, pt(x)/pe(x)) > θ] + (Σ_rejected q)·pt(x)
      const expected = [0, 0, 0, 0, 0];
      let rejected = 0;
      q.tokens.forEach((tok, i) => {
        if (Math.min(1, pt[tok] / pe[tok]) > threshold) expected[tok] += q.probs[i];
        else rejected += q.probs[i];
      });
      for (let x = 0; x < 5; x++) expected[x] += rejected * pt[x];
      assertClose(impliedDistribution((r) => s.choose(logits, r).token), expected, MC_TOL, "cosec-plus");
    });
  }

  it("cosec-plus warped mode uses warped distributions for the ratio and the fallback", () => {
    const targetSampling = { temperature: 0.5, topK: 0, topP: 1, minP: 0 };
    const s = createStrategy({ strategy: "cosec-plus", threshold: 0.3, mode: "warped" }, { target: targetSampling, expert: sampling.expert });
    const q = warp(toyExpert, sampling.expert)!;
    const pt = softmax(toyTarget, 0.5);
    const expected = [0, 0, 0, 0, 0];
    let rejected = 0;
    q.tokens.forEach((tok, i) => {
      if (Math.min(1, pt[tok] / q.probs[i]) > 0.3) expected[tok] += q.probs[i];
      else rejected += q.probs[i];
    });
    for (let x = 0; x < 5; x++) expected[x] += rejected * pt[x];
    assertClose(impliedDistribution((r) => s.choose(logits, r).token), expected, MC_TOL, "warped");
  });

  it("cosec-plus keeps the expert's proposal exactly when the ratio clears the threshold", () => {
    const s = createStrategy({ strategy: "cosec-plus", threshold: 0.3 }, sampling);
    const pt = softmax(toyTarget);
    const pe = softmax(toyExpert);
    const seen = new Set<string>();
    for (let pos = 0; pos < 300; pos++) {
      const rng = positionRng(3, 1, pos);
      const proposal = sampleWarped(toyExpert, sampling.expert, rng.key("expert-proposal")).token;
      const c = s.choose(logits, rng);
      if (Math.min(1, pt[proposal] / pe[proposal]) > 0.3) assert.deepEqual([c.token, c.source], [proposal, "expert"]);
      else assert.equal(c.source, "target");
      seen.add(c.source);
    }
    assert.deepEqual([...seen].sort(), ["expert", "target"], "both branches were exercised");
  });

  it("weighted: softmax((1-a)·log p_target + a·log p_expert)", () => {
    for (const alpha of [0, 0.3, 1]) {
      const s = createStrategy({ strategy: "weighted", alpha }, sampling);
      const lt = softmax(toyTarget).map(Math.log);
      const le = softmax(toyExpert).map(Math.log);
      const expected = softmax(lt.map((v, i) => (1 - alpha) * v + alpha * le[i]));
      assertClose(impliedDistribution((r) => s.choose(logits, r).token), expected, MC_TOL, `weighted a=${alpha}`);
    }
  });

  it("proxy: softmax(target + expert - expertBase)", () => {
    const s = createStrategy("proxy", sampling);
    const expected = softmax(Array.from(toyTarget, (v, i) => v + toyExpert[i] - toyBase[i]));
    assertClose(impliedDistribution((r) => s.choose(logits, r).token), expected, MC_TOL, "proxy");
  });

  it("greedy works for every strategy", () => {
    const greedy = { target: { temperature: 0, topK: 0, topP: 1, minP: 0 }, expert: { temperature: 0, topK: 0, topP: 1, minP: 0 } };
    const rng = unusedRng;
    assert.equal(createStrategy("target", greedy).choose(logits, rng).token, 0);
    assert.equal(createStrategy("expert", greedy).choose(logits, rng).token, 1);
    // expert argmax 1 has pt/pe ≈ 0.34 > 0.3: kept.
    assert.equal(createStrategy("cosec-plus", greedy).choose(logits, rng).token, 1);
    assert.equal(createStrategy({ strategy: "cosec-plus", threshold: 0.5 }, greedy).choose(logits, rng).token, 0);
    assert.equal(createStrategy({ strategy: "weighted", alpha: 0.9 }, greedy).choose(logits, rng).token, 1);
    assert.equal(createStrategy("proxy", greedy).choose(logits, rng).token, 1);
  });

  it("rejects unknown strategies and bad parameters with named errors", () => {
    assert.throws(() => createStrategy("nope" as "target", sampling), (e: Error) => e instanceof InvalidArgumentError && /unknown strategy 'nope'/.test(e.message));
    assert.throws(() => createStrategy({ strategy: "cosec-plus", threshold: 2 }, sampling), /threshold: must be a number in \[0, 1\], got 2/);
    assert.throws(() => createStrategy({ strategy: "weighted", alpha: -1 }, sampling), /alpha: must be a number in \[0, 1\], got -1/);
  });
});
