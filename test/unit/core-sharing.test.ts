import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultSchedule, PairCores } from "../../src/decoding/core-sharing.ts";

describe("core sharing of a model pair", () => {
  it("runs the pair one model after the other when the expert's threads add at least half to the target's", () => {
    assert.equal(defaultSchedule(1, 1), "serial"); // 2 cores
    assert.equal(defaultSchedule(2, 1), "serial");
    assert.equal(defaultSchedule(3, 1), "overlap"); // 4 cores
    assert.equal(defaultSchedule(12, 4), "overlap"); // 16 cores
    assert.equal(defaultSchedule(4, undefined), "overlap"); // no expert
  });

  it("lends the solo threads only while a single generation runs", async () => {
    const cores = new PairCores(4, "serial");
    assert.equal(cores.soloThreads(), undefined); // nothing running
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = cores.run(async () => {
      assert.equal(cores.soloThreads(), 4);
      assert.equal(cores.serial, true);
      await gate;
      return "first";
    });
    await cores.run(async () => {
      // A second generation at the same time: each model keeps to its own threads, side by side.
      assert.equal(cores.soloThreads(), undefined);
      assert.equal(cores.serial, false);
    });
    assert.equal(cores.soloThreads(), 4); // the first is alone again
    release();
    assert.equal(await first, "first");
    assert.equal(cores.soloThreads(), undefined);
  });

  it("counts a generation that fails as finished", async () => {
    const cores = new PairCores(2, "overlap");
    await assert.rejects(cores.run(async () => Promise.reject(new Error("boom"))), /boom/);
    await cores.run(async () => assert.equal(cores.soloThreads(), 2));
    assert.equal(cores.serial, false); // overlap never runs the models one after the other
  });
});
