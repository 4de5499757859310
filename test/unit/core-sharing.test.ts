import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chooseSharing, PairCores } from "../../src/decoding/core-sharing.ts";

describe("core sharing of a model pair", () => {
  it("lends cores and runs the models one after the other only when the measured passes say so", () => {
    // 25M-parameter target on 2 cores: 5 ms alone on one thread, 3.5 ms on two; expert 0.4 ms.
    assert.deepEqual(chooseSharing({ targetOwn: 5, targetSolo: 3.5, expert: 0.4 }), { lend: true, schedule: "serial" });
    // 5M target: a second thread buys nothing.
    assert.deepEqual(chooseSharing({ targetOwn: 1.45, targetSolo: 1.4, expert: 0.4 }), { lend: false, schedule: "overlap" });
    // Borrowing helps the target, but a slow expert is better hidden side by side.
    assert.deepEqual(chooseSharing({ targetOwn: 5, targetSolo: 4, expert: 2 }), { lend: true, schedule: "overlap" });
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
