import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LendingChooser, PairCores } from "../../src/decoding/core-sharing.ts";

describe("core sharing of a model pair", () => {
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

  it("learns which choice is cheaper, in runs of steps, and re-tries the other one now and then", () => {
    const c = new LendingChooser();
    assert.equal(run(c, 16, 5, 3.5), 0); // an epoch on own threads first
    assert.equal(run(c, 16, 5, 3.5), 16); // then one lent
    assert.deepEqual(c.estimates, { own: 5, lent: 3.5 });
    const lent = run(c, 12 * 16, 5, 3.5);
    assert.ok(lent >= 10 * 16 && lent < 12 * 16, `lent on ${lent} of 192 steps`); // mostly the cheaper, sometimes the other
    // Lending must be clearly cheaper to be chosen.
    const close = new LendingChooser();
    run(close, 32, 5, 4.8);
    assert.equal(run(close, 8 * 16, 5, 4.8), 0);
    // The machine changes (the second core gets busy): lending turns slow, and the chooser follows.
    run(c, 40 * 16, 5, 9);
    const after = run(c, 8 * 16, 5, 9);
    assert.ok(after <= 16, `still lent on ${after} of 128 steps`);
  });

  it("does not count the first steps of a generation or after a switch, nor let one outlier move an estimate far", () => {
    const c = new LendingChooser();
    c.settle(); // a generation starts
    for (let i = 0; i < 16; i++) {
      c.pick();
      c.observe(false, i < 2 ? 1000 : 4); // cold first steps: not measured
    }
    assert.equal(c.estimates.own, 4);
    for (let i = 0; i < 3; i++) {
      assert.equal(c.pick(), true); // the switch to lending
      c.observe(true, i < 2 ? 50 : 3); // its first two steps pay for the switch
    }
    assert.equal(c.estimates.lent, 3);
    c.observe(false, 400); // not the current choice: ignored
    c.observe(true, Number.NaN); // ignored
    c.observe(true, 300); // an outlier counts as at most 4x the estimate (second observation: the mean)
    assert.deepEqual(c.estimates, { own: 4, lent: (3 + 12) / 2 });
    for (let i = 0; i < 300; i++) c.observe(true, i % 10 === 0 ? 12 : 3); // one slow step in ten ...
    assert.ok(c.estimates.lent! > 3.5 && c.estimates.lent! < 4.3, `... counts, as in the mean of 3.9: ${c.estimates.lent}`);
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
        cores.observe(key, t !== undefined, t !== undefined ? lent : own);
        return t;
      };
      for (let i = 0; i < 32; i++) step("step:target+expert", 5, 3);
      assert.deepEqual(cores.chooser("step:target+expert").estimates, { own: 5, lent: 3 });
      assert.equal(step("step:target+expert", 5, 3), 2);
      assert.equal(step("verify:target", 1, 2), undefined); // a new kind starts from its own measurements
    });
    await assert.rejects(cores.run(async () => Promise.reject(new Error("boom"))), /boom/);
    await cores.run(async () => assert.equal(cores.lend("step:target+expert"), 2)); // a failed run was counted out
  });
});
