// Where the decoders place the models' passes (the scheduling hints the backend gets), on a fake
// pair that records every evaluation: side by side, the smaller model's pass is handed to a worker
// thread before the larger one starts on the calling thread; in a speculative round on the models'
// own threads, the expert's last pass runs beside the verification. The outputs are pinned
// elsewhere (decoder-golden.test.ts); this pins the placement the speed work relies on.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EvaluationOptions, EvaluationRequest } from "../../src/backend/types.ts";
import { Engine } from "../../src/generate/engine.ts";
import { resolveDecodingSettings } from "../../src/decoding/settings.ts";
import { FakeBackend } from "../helpers/fake-backend.ts";

interface Call {
  model: string;
  tokens: number;
  options: EvaluationOptions;
}

class RecordingBackend extends FakeBackend {
  constructor(
    salt: number,
    readonly name: string,
    parameters: number,
    private readonly log: Call[],
    like?: number,
  ) {
    super(salt, 4, like);
    this.info.parameterCount = parameters;
  }

  override evaluateBatch(requests: readonly EvaluationRequest[], options: EvaluationOptions = {}): Promise<Float32Array[][]> {
    this.log.push({ model: this.name, tokens: Math.max(...requests.map((r) => r.tokens.length)), options });
    return super.evaluateBatch(requests);
  }
}

async function record(speculative: boolean, draftMax?: number): Promise<Call[]> {
  const log: Call[] = [];
  const engine = Engine.fromBackends({ target: new RecordingBackend(1, "target", 5_000_000, log), expert: new RecordingBackend(2, "expert", 900_000, log, 1) });
  try {
    const decoding = resolveDecodingSettings({ strategy: "cosec-plus", speculative, draftMax }, { hasExpert: true });
    await engine.generate("abcdef", { decoding, maxTokens: 24, seed: 3, ignoreEos: true });
  } finally {
    await engine.dispose();
  }
  return log;
}

describe("pass placement", () => {
  it("sequential steps: the expert's pass goes to a worker first, then the larger target's runs on this thread", async () => {
    const log = await record(false);
    assert.ok(log.length >= 2 * 24, `${log.length} passes`);
    for (let i = 0; i + 1 < log.length; i += 2) {
      assert.deepEqual([log[i].model, log[i + 1].model], ["expert", "target"], `step ${i / 2}: the off-thread pass is started first`);
      assert.equal(log[i].options.offThread, true);
      assert.notEqual(log[i + 1].options.offThread, true, "the largest model's pass may run on the calling thread");
    }
  });

  it("speculative rounds on own threads: the expert's last pass runs beside the verification", async () => {
    const log = await record(true, 3);
    // A round with drafts: the expert's passes, its last one off-thread, then the target's
    // verification of pending + drafts (several tokens).
    const verifications = log.map((c, i) => [c, i] as const).filter(([c]) => c.model === "target" && c.tokens > 1 && c.tokens <= 4);
    assert.ok(verifications.length >= 3, `${verifications.length} verifications of drafts`);
    for (const [, i] of verifications) {
      const before = log[i - 1];
      assert.equal(before.model, "expert", "the expert's last pass is handed over just before the verification starts");
      assert.equal(before.tokens, 1);
      assert.equal(before.options.offThread, true, "and runs on a worker beside it");
      // The drafting passes before it ran on this thread's terms (not forced off it).
      const drafting = log.slice(0, i - 1).reverse();
      const previous = drafting.find((c) => c.model === "target");
      const expertSteps = drafting.slice(0, previous ? drafting.indexOf(previous) : drafting.length);
      assert.ok(expertSteps.slice(1).every((c) => c.model === "expert" && c.options.offThread !== true), "earlier drafting steps are not forced off the thread");
    }
  });
});
