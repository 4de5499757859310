// The speculative draft-length chooser: expected tokens per round, the verification cost model, and
// the choice of k from costs and acceptance (checked against the closed form by brute force).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DRAFT_MAX, DraftLengthChooser, PROBE_EVERY, SpeculationCosts } from "../../src/decoding/draft-length.ts";

const passed = new WeakMap<SpeculationCosts, Set<string>>();
/** A verification measured: preceded, at a size not passed yet, by a first pass (not counted, see VerifyCosts). */
function measured(costs: SpeculationCosts, n: number, ms: number, threads?: number): void {
  const seen = passed.get(costs) ?? new Set<string>();
  passed.set(costs, seen);
  if (!seen.has(`${n}@${threads ?? 0}`)) costs.observeVerify(n, 1e6, threads); // a first pass, however slow, does not count
  seen.add(`${n}@${threads ?? 0}`);
  costs.observeVerify(n, ms, threads);
}

function feed(costs: SpeculationCosts, step: number, verify: (n: number) => number, sizes: number[]): void {
  costs.draftStepMs.add(step);
  costs.roundOverheadMs.add(0);
  for (const n of sizes) measured(costs, n, verify(n));
}

/** Observes rounds until the acceptance estimate settles on `a` (rounds of 10 drafts, 10a kept). */
function settle(chooser: DraftLengthChooser, a: number): void {
  for (let r = 0; r < 60; r++) chooser.observe({ drafted: 10, accepted: 10 * a, rejections: 10 * (1 - a) });
}

describe("draft length", () => {
  it("the first pass of each size and layout is not counted: a one-time spike cannot price its size out", () => {
    const c = new SpeculationCosts();
    c.observeVerify(3, 18.9, 2); // measured: a first 3-token pass on lent cores, later ones ~5 ms
    assert.equal(c.verify(3, 2), undefined);
    c.observeVerify(3, 5, 2);
    assert.equal(c.verify(3, 2), 5);
    c.observeVerify(4, 22, 2);
    assert.equal(c.verify(4, 2), 6.25, "unmeasured: extrapolated from size 3 (a quarter of its cost per token), not from the spike");
    c.observeVerify(3, 7); // own threads: a layout of its own, its first pass not counted either
    assert.equal(c.verify(3), 5, "own threads unmeasured: the lent estimate stands in");
  });

  it("expected tokens per round is the geometric sum, k + 1 at full acceptance", () => {
    assert.equal(DraftLengthChooser.tokensPerRound(4, 1), 5);
    assert.ok(Math.abs(DraftLengthChooser.tokensPerRound(3, 0.5) - (1 + 0.5 + 0.25 + 0.125)) < 1e-12);
    assert.equal(DraftLengthChooser.tokensPerRound(8, 0), 1);
  });

  it("verification costs: measured sizes exact, others interpolated, never decreasing", () => {
    const c = new SpeculationCosts();
    assert.equal(c.verify(3), undefined);
    measured(c, 2, 10);
    measured(c, 6, 18);
    assert.equal(c.verify(2), 10);
    assert.equal(c.verify(4), 14);
    assert.ok(c.verify(9)! >= 18, "extrapolation upward keeps growing");
    measured(c, 9, 12); // noise: a larger batch measured cheaper
    assert.ok(c.verify(9)! >= c.verify(6)!);
    assert.ok(c.verify(1)! <= 10 && c.verify(1)! > 0);
  });

  it("one slow call moves a verification estimate by a bounded step", () => {
    const c = new SpeculationCosts();
    measured(c, 3, 10);
    measured(c, 3, 500); // a scheduler hiccup
    assert.ok(Math.abs(c.verify(3)! - 12) < 1e-9, `got ${c.verify(3)}`);
    // Pooled, not maxed: noise at one size does not lift every larger size to it.
    measured(c, 5, 11);
    measured(c, 4, 30);
    assert.ok(c.verify(5)! < 30 && c.verify(5)! >= c.verify(4)!);
  });

  it("a fixed draft length is kept whatever is observed", () => {
    const c = new SpeculationCosts();
    feed(c, 1, (n) => 10 + n, [1, 2, 5, 9]);
    const ch = new DraftLengthChooser(c, 7);
    settle(ch, 0.1);
    assert.equal(ch.next(), 7);
  });

  it("chooses the k with the most tokens per millisecond", () => {
    const verify = (n: number) => 10 + 4 * (n - 1); // CPU-like: each extra token costs 40% of one
    for (const a of [0.02, 0.3, 0.6, 0.8, 0.95]) {
      const c = new SpeculationCosts();
      feed(c, 0.5, verify, [1, 2, 3, 5, 9, 17]);
      const ch = new DraftLengthChooser(c);
      settle(ch, a);
      // No drafts: expert and target side by side on their own threads.
      const cost = (k: number) => (k === 0 ? Math.max(0.5, c.verify(1)!) : (k + 1) * 0.5 + c.verify(k + 1)!);
      const rate = (k: number) => DraftLengthChooser.tokensPerRound(k, ch.acceptance) / cost(k);
      let best = 0;
      for (let k = 0; k <= DRAFT_MAX; k++) if (rate(k) > rate(best)) best = k;
      assert.equal(ch.next(), best, `acceptance ${a}`);
      assert.ok(Math.abs(ch.acceptance - a) < 0.02);
    }
  });

  it("with the last expert step beside the verification, a round costs one step less on own threads", () => {
    // An expensive expert step (half a verification) against a flat verification: hiding one step
    // per round makes one draft pay where, counted in full, none did.
    const verify = (n: number) => 4 + 0.5 * (n - 1);
    const c = new SpeculationCosts();
    feed(c, 2, verify, [1, 2, 3, 5, 9, 17]);
    for (const beside of [false, true]) {
      const ch = new DraftLengthChooser(c, undefined, beside);
      settle(ch, 0.8);
      const cost = (k: number) => (k === 0 || beside ? k * 2 + Math.max(2, c.verify(k + 1)!) : (k + 1) * 2 + c.verify(k + 1)!);
      const rate = (k: number) => DraftLengthChooser.tokensPerRound(k, ch.acceptance) / cost(k);
      let best = 0;
      for (let k = 0; k <= DRAFT_MAX; k++) if (rate(k) > rate(best)) best = k;
      assert.equal(ch.next(), best, `beside ${beside}`);
      // Lent cores: the verifier takes the expert's threads, nothing runs beside it.
      const lentRate = (k: number) => DraftLengthChooser.tokensPerRound(k, ch.acceptance) / ((k + 1) * 2 + c.verify(k + 1, 2)!);
      let lentBest = 0;
      for (let k = 0; k <= DRAFT_MAX; k++) if (lentRate(k) > lentRate(lentBest)) lentBest = k;
      assert.equal(ch.next(2), lentBest, `beside ${beside}, lent`);
    }
    const plain = new DraftLengthChooser(c, undefined, false);
    const beside = new DraftLengthChooser(c, undefined, true);
    settle(plain, 0.8);
    settle(beside, 0.8);
    assert.ok(beside.next() > plain.next(), `beside ${beside.next()} vs counted in full ${plain.next()}`);
  });

  it("drafts longer when acceptance is higher or verification cheaper", () => {
    const k = (a: number, slope: number) => {
      const c = new SpeculationCosts();
      feed(c, 0.5, (n) => 10 + slope * (n - 1), [1, 2, 3, 5, 9, 17]);
      const ch = new DraftLengthChooser(c);
      settle(ch, a);
      return ch.next();
    };
    assert.ok(k(0.95, 1) > k(0.5, 1));
    assert.ok(k(0.8, 0.5) > k(0.8, 6));
    assert.equal(k(0.99, 0.1), DRAFT_MAX);
    assert.equal(k(0.05, 6), 0, "no drafts when they cannot pay: a plain co-decoding step");
  });

  it("without drafts it still probes the acceptance, and drafts again once it rises", () => {
    const c = new SpeculationCosts();
    feed(c, 0.5, (n) => 10 + 6 * (n - 1), [1, 2, 3, 5, 9, 17]);
    const ch = new DraftLengthChooser(c);
    settle(ch, 0.05);
    const lengths: number[] = [];
    for (let r = 0; r < 3 * (PROBE_EVERY + 1); r++) {
      const k = ch.next();
      lengths.push(k);
      ch.observe({ drafted: k, accepted: 0, rejections: k });
    }
    assert.deepEqual(
      lengths.map((k, i) => [i, k]).filter(([, k]) => k > 0),
      [[PROBE_EVERY, 1], [2 * PROBE_EVERY + 1, 1], [3 * PROBE_EVERY + 2, 1]],
      "one one-draft probe after every PROBE_EVERY rounds without drafts",
    );
    for (let r = 0; r < 40; r++) ch.observe({ drafted: 4, accepted: 4, rejections: 0 });
    assert.ok(ch.next() >= 2, "acceptance back up: drafting again");
  });
});

it("verification costs are kept per thread layout, each standing in for the other until measured", () => {
  const c = new SpeculationCosts();
  measured(c, 4, 10); // own threads
  assert.equal(c.verify(4, 2), 10, "no lent measurement yet: the own-thread estimate");
  measured(c, 4, 6, 2);
  assert.equal(c.verify(4, 2), 6);
  assert.equal(c.verify(4), 10, "lent measurements leave the own-thread table alone");
  // The chooser sizes drafts for the layout of the round it is asked about.
  for (const n of [2, 3, 4, 5, 6, 8, 12, 17]) {
    measured(c, n, 5 + 2 * n); // own threads: each verified token costs 2 ms more
    measured(c, n, 5.2 + 0.2 * n, 2); // lent: nearly flat
  }
  c.draftStepMs.add(0.5);
  const ch = new DraftLengthChooser(c);
  ch.observe({ drafted: 8, accepted: 8, rejections: 0 });
  assert.ok(ch.next(2) > ch.next(0), `lent ${ch.next(2)} vs own ${ch.next(0)}`);
});
