import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LendingChooser, PairCores } from "../../src/decoding/core-sharing.ts";

describe("core sharing of a model pair", () => {
  const MAX_GAP = 64; // epochs between tries of the choice that looks worse, at most
  /** Steps of a chooser where a lent step costs lent() and an own one own(); returns how many were lent. */
  function run(c: LendingChooser, steps: number, own: number, lent: number): number {
    let n = 0;
    for (let i = 0; i < steps; i++) {
      const l = c.pick();
      c.observe(l, l ? lent : own);
      if (l) n++;
    }
    return n;
  }

  it("weighs a step by the tokens it produced: time over tokens, not a mean of per-step ratios", () => {
    // Own threads: speculative rounds that alternately keep four tokens in 4 ms and one in 3.5 ms
    // (7.5 ms for 5 tokens, 1.5 ms per token; a mean of the per-round ratios would say 2.25).
    // Lent: one token in 2 ms every round. Own threads are cheaper per token, and chosen.
    const c = new LendingChooser();
    let turn = 0;
    let lentSteps = 0;
    for (let i = 0; i < 14 * 16; i++) {
      const l = c.pick();
      if (l) c.observe(true, 2, 1);
      else c.observe(false, turn++ % 2 ? 3.5 : 4, turn % 2 ? 4 : 1);
      if (i >= 6 * 16 && l) lentSteps++;
    }
    assert.equal(c.estimates.own, 1.5);
    assert.equal(c.estimates.lent, 2);
    assert.ok(lentSteps <= 16, `lent on ${lentSteps} of ${8 * 16} steps after the first epochs`);
  });

  it("learns which choice is cheaper from epochs taken in turn, and re-tries the other one now and then", () => {
    const c = new LendingChooser();
    assert.equal(run(c, 6 * 16, 5, 3.5), 3 * 16); // three epochs of each, in turn, own threads first
    assert.equal(c.pick(), true);
    c.observe(true, 3.5);
    assert.deepEqual(c.estimates, { own: 5, lent: 3.5 });
    const lent = run(c, 12 * 16 - 1, 5, 3.5);
    assert.ok(lent >= 10 * 16 && lent < 12 * 16, `lent on ${lent} of 191 steps`); // mostly the cheaper, sometimes the other
    // Lending must be clearly cheaper to be chosen.
    const close = new LendingChooser();
    run(close, 6 * 16, 5, 4.8);
    assert.ok(run(close, 8 * 16, 5, 4.8) <= 16, "lent beyond one try although not clearly cheaper");
    // A much worse choice is tried less often than a slightly worse one.
    const far = new LendingChooser();
    run(far, 6 * 16, 5, 10);
    const near = new LendingChooser();
    run(near, 6 * 16, 5, 5.5);
    const [farTries, nearTries] = [run(far, 32 * 16, 5, 10), run(near, 32 * 16, 5, 5.5)];
    assert.ok(farTries <= 2 * 16 && farTries < nearTries, `tries of a 2x worse choice ${farTries}, of a 10% worse one ${nearTries}`);
    // The machine changes (the second core gets busy): lending turns slow, and the chooser follows.
    run(c, 40 * 16, 5, 9);
    const after = run(c, 8 * 16, 5, 9);
    assert.ok(after <= 16, `still lent on ${after} of 128 steps`);
  });

  it("is not misled by one cold epoch, and follows a change within a few epochs of trying it", () => {
    const c = new LendingChooser();
    for (let i = 0; i < 6 * 16; i++) {
      const l = c.pick();
      c.observe(l, l ? (i < 32 ? 20 : 3.5) : 5); // the first lent epoch runs on cold caches
    }
    assert.equal(run(c, 16, 5, 3.5), 16);
    // Own threads in use (lending costs 9) until lending turns cheap: the first try that shows it
    // is repeated at once until the medians agree, not after a growing wait.
    const d = new LendingChooser();
    run(d, 20 * 16, 5, 9);
    const epochs = Array.from({ length: 80 }, () => run(d, 16, 5, 3) === 16);
    const first = epochs.indexOf(true);
    assert.ok(first >= 0 && first <= MAX_GAP + 1, `lending not tried again within ${first} epochs`);
    assert.deepEqual(epochs.slice(first, first + 5), [true, true, true, true, true]);
  });

  it("does not count the first steps of a generation or after a switch, nor let one outlier move an estimate far", () => {
    const c = new LendingChooser();
    c.settle(); // a generation starts
    for (let i = 0; i < 16; i++) {
      assert.equal(c.pick(), false);
      c.observe(false, i < 2 ? 1000 : 4); // cold first steps: not measured
    }
    for (let i = 0; i < 16; i++) {
      assert.equal(c.pick(), true); // the switch to lending
      c.observe(true, i < 2 ? 50 : 3); // its first two steps pay for the switch
    }
    c.observe(false, 400); // not the current choice: ignored
    c.observe(true, Number.NaN); // ignored
    assert.equal(c.pick(), false);
    assert.deepEqual(c.estimates, { own: 4, lent: 3 });
    run(c, 15 + 16 * 3, 4, 3); // the first epochs, in turn
    // An epoch with one outlier: it counts as at most 4x the estimate ...
    assert.equal(c.pick(), true);
    c.observe(true, 300);
    for (let i = 0; i < 15; i++) c.observe(true, 3);
    c.pick();
    assert.equal(c.estimates.lent, 3); // ... and a median of epochs is not moved by one epoch
    // An epoch with too few measured steps (a generation that ended) is not filed.
    const d = new LendingChooser();
    d.pick();
    d.observe(false, 9);
    for (let i = 0; i < 15; i++) d.pick();
    d.pick();
    assert.deepEqual(d.estimates, {});
  });

  it("lends only while a single generation runs, and only what the schedule allows", async () => {
    const cores = new PairCores(2, 1, "serial");
    assert.equal(cores.lend("step"), undefined); // nothing running
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = cores.run(async () => {
      assert.equal(cores.lend("step"), 2);
      await gate;
      return "first";
    });
    await cores.run(async () => assert.equal(cores.lend("step"), undefined)); // two at once: own threads
    assert.equal(cores.lend("step"), 2); // the first is alone again
    release();
    assert.equal(await first, "first");

    const overlap = new PairCores(2, 1, "overlap");
    await overlap.run(async () => assert.equal(overlap.lend("step"), undefined));
    const nothingToLend = new PairCores(2, 2, "serial");
    await nothingToLend.run(async () => assert.equal(nothingToLend.lend("step"), undefined));
  });

  it("auto: each kind of step learns on its own", async () => {
    const cores = new PairCores(2, 1, "auto");
    await cores.run(async () => {
      const step = (key: string, own: number, lent: number) => {
        const t = cores.lend(key);
        cores.observe(key, t !== undefined, t !== undefined ? lent : own, 1);
        return t;
      };
      for (let i = 0; i < 6 * 16; i++) step("step:target+expert", 5, 3);
      assert.equal(step("step:target+expert", 5, 3), 2);
      assert.deepEqual(cores.chooser("step:target+expert").estimates, { own: 5, lent: 3 });
      assert.equal(step("verify:target", 1, 2), undefined); // a new kind starts from its own measurements
    });
    await assert.rejects(cores.run(async () => Promise.reject(new Error("boom"))), /boom/);
    await cores.run(async () => assert.equal(cores.lend("step:target+expert"), 2)); // a failed run was counted out
  });
});
