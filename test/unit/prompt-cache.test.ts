// The prompt cache on a fake pair (no GGUF): a generation sharing a prefix with the previous one
// starts from its KV caches, evaluates only the rest, and gives exactly the output of an engine
// without a cache, for every schedule; the cache holds one slot per model and frees it when the
// roles or the prefix do not match.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DecodingInput } from "../../src/decoding/settings.ts";
import { Engine } from "../../src/generate/engine.ts";
import { fakePair } from "../helpers/fake-backend.ts";

const SCHEDULES: DecodingInput[] = [
  { strategy: "cosec-plus", speculative: false },
  { strategy: "cosec-plus", speculative: true },
  { strategy: "cosec-plus", speculative: true, draftMax: 3 },
  { strategy: "target" },
];
const first = "defabcghij";
const next = "defabcghijklmn"; // the first prompt typed on
const shape = (r: Awaited<ReturnType<Engine["generate"]>>) => r.map((x) => ({ tokens: x.tokens, logprobs: x.logprobs, sources: x.sources }));

describe("prompt cache", () => {
  for (const decoding of SCHEDULES) {
    it(`reuses the shared prefix and changes no output: ${JSON.stringify(decoding)}`, async () => {
      const cached = Engine.fromBackends(fakePair(), { promptCache: true });
      const fresh = Engine.fromBackends(fakePair());
      try {
        const opts = { decoding, maxTokens: 12, seed: 3 };
        const a = await cached.generate(first, opts);
        assert.equal(a[0].timing.cachedPromptTokens, 0, "nothing kept yet");
        const b = await cached.generate(next, opts);
        const promptLength = cached.tokenizer.tokenize(next).length;
        assert.ok(b[0].timing.cachedPromptTokens >= cached.tokenizer.tokenize(first).length - 1, `reused ${b[0].timing.cachedPromptTokens}`);
        assert.ok(b[0].timing.cachedPromptTokens < promptLength, "the last prompt token is always evaluated");
        assert.deepEqual(shape(b), shape(await fresh.generate(next, opts)), "same output as without the cache");
        // The same prompt again reuses all of it but one token, and repeats itself.
        const c = await cached.generate(next, opts);
        assert.equal(c[0].timing.cachedPromptTokens, promptLength - 1);
        assert.deepEqual(shape(c), shape(b));
        // cachePrompt: false evaluates everything.
        assert.equal((await cached.generate(next, { ...opts, cachePrompt: false }))[0].timing.cachedPromptTokens, 0);
      } finally {
        await cached.dispose();
        await fresh.dispose();
      }
    });
  }

  it("holds one slot per model, frees it on another prefix, and is not used by n > 1", async () => {
    const pair = fakePair(3);
    const engine = Engine.fromBackends(pair, { promptCache: true });
    try {
      await engine.generate(first, { decoding: { strategy: "cosec-plus" }, maxTokens: 4 });
      assert.equal(pair.target.freeSequences, 2, "the kept target sequence");
      assert.equal(pair.expert.freeSequences, 2, "the kept expert sequence");
      const other = await engine.generate("zzzz", { decoding: { strategy: "cosec-plus" }, maxTokens: 4 });
      assert.equal(other[0].timing.cachedPromptTokens, 0, "no shared prefix");
      const many = await engine.generate(first, { decoding: { strategy: "cosec-plus" }, maxTokens: 4, n: 2 });
      assert.ok(many.every((r) => r.timing.cachedPromptTokens === 0));
      assert.equal(pair.target.freeSequences, 2, "n = 2 left the kept sequence alone");
      // Another set of roles (the target alone) frees the pair's entry and keeps its own.
      await engine.generate(first, { decoding: { strategy: "target" }, maxTokens: 4 });
      assert.equal(pair.expert.freeSequences, 3);
      assert.equal(pair.target.freeSequences, 2);
    } finally {
      await engine.dispose();
    }
    assert.equal(pair.target.freeSequences, 3, "dispose frees it");
  });
});
