// The engine on real GGUF files (tiny random-weight fixtures written by the project's trainer).
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, openSync, closeSync, ftruncateSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LlamaBackend } from "../../src/backend/llama-backend.ts";
import { getRuntime } from "../../src/backend/native-addon.ts";
import { Engine } from "../../src/generate/engine.ts";
import type { GenerateOptions, StrategyName } from "../../src/generate/types.ts";
import { ContextOverflowError, ModelLoadError, StrategyError, VocabularyMismatchError } from "../../src/errors.ts";
import type { Strategy } from "../../src/decoding/types.ts";
import { resolveDecodingSettings, type DecodingInput } from "../../src/decoding/settings.ts";
import type { CosecPlusStrategy } from "../../src/decoding/strategies/cosec-plus.ts";
import type { ProxyStrategy, WeightedStrategy } from "../../src/decoding/strategies/combined.ts";
import { argmax, logSumExp, warp } from "../../src/decoding/warpers.ts";
import { ensureFixtures, readReference, readReferenceLogits, type FixturePaths, type ReferenceName } from "../helpers/fixtures.ts";

let f: FixturePaths;
let engine: Engine;
const scratch = mkdtempSync(join(tmpdir(), "cosec-engine-"));

before(async () => {
  f = await ensureFixtures();
  engine = await Engine.load({
    target: f.targetLlama,
    expert: f.expertLlama,
    expertLora: f.expertLlamaLora,
    gpu: "cpu",
    maxSequences: 4,
    contextSize: 256,
  });
});

after(async () => {
  await engine?.dispose();
});

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("backend: raw logits equal a PyTorch forward of the same weights", () => {
  // With an F32 KV cache llama.cpp's CPU arithmetic differs from PyTorch only by summation order:
  // measured 3e-5 to 1.3e-4 in logits on these fixtures (random init, std 0.2, logits up to ±10).
  // The tolerance, 1e-3, leaves a margin of ~8x; a layout bug (a transposed or unpermuted matrix, a
  // missing bias, a LoRA applied to the wrong side) moves logits by the order of the logits. The
  // default F16 cache rounds keys and values and moves logits by ~2e-2 here: checked separately.
  const TOLERANCE = 1e-3;
  const cases: [ReferenceName, () => string, () => string | undefined][] = [
    ["target-llama", () => f.targetLlama, () => undefined],
    ["expert-llama", () => f.expertLlama, () => undefined],
    ["expert-llama+lora", () => f.expertLlama, () => f.expertLlamaLora],
    ["target-qwen2", () => f.targetQwen2, () => undefined],
    ["target-qwen2+lora", () => f.targetQwen2, () => f.targetQwen2Lora],
  ];
  for (const [name, model, lora] of cases) {
    it(name, async () => {
      const ref = await readReference();
      const expected = await readReferenceLogits(name);
      const loraPath = lora();
      const b = await LlamaBackend.load({ path: model(), lora: loraPath ? { path: loraPath } : undefined, gpu: "cpu", kvCache: "f32" });
      try {
        assert.equal(b.info.vocabSize, ref.vocabSize);
        assert.deepEqual(b.tokenizer.tokenize(ref.prompt), ref.promptTokens, "llama.cpp tokenizes like the HF tokenizer");
        const [logits] = await b.newSequence().evaluate(ref.promptTokens, "last");
        const d = maxDiff(logits, expected);
        assert.ok(d <= TOLERANCE, `max |Δlogit| ${d} exceeds ${TOLERANCE}`);
        if (loraPath) {
          // The adapter must matter: without it the logits are far from the adapted reference.
          const plain = await LlamaBackend.load({ path: model(), gpu: "cpu", kvCache: "f32" });
          const [base] = await plain.newSequence().evaluate(ref.promptTokens, "last");
          assert.ok(maxDiff(base, expected) > 100 * TOLERANCE, "the LoRA adapter changes the logits");
          await plain.dispose();
        }
      } finally {
        await b.dispose();
      }
    });
  }

  it("tokenizes the reference texts exactly like the Hugging Face tokenizer", async () => {
    const ref = await readReference();
    for (const { text, ids } of ref.tokenization) {
      // Hugging Face parses special-token text by default; the engine does so only when asked,
      // so user text cannot smuggle control tokens in.
      assert.deepEqual(engine.tokenizer.tokenize(text, { parseSpecial: true }), ids, JSON.stringify(text));
      assert.equal(engine.tokenizer.detokenize(ids), text);
    }
  });

  it("the default F16 KV cache stays within 1% of the logit range", async () => {
    const ref = await readReference();
    const expected = await readReferenceLogits("target-llama");
    const b = await LlamaBackend.load({ path: f.targetLlama, gpu: "cpu" });
    const [logits] = await b.newSequence().evaluate(ref.promptTokens, "last");
    const d = maxDiff(logits, expected);
    console.log(`# F16 KV cache: max |Δlogit| vs PyTorch ${d.toFixed(4)}`);
    assert.ok(d < 0.01 * maxAbs(expected));
    await b.dispose();
  });

  it("Q8_0 loads and stays close (reported)", async () => {
    const ref = await readReference();
    const b = await LlamaBackend.load({ path: f.targetLlamaQ8, gpu: "cpu" });
    const [logits] = await b.newSequence().evaluate(ref.promptTokens, "last");
    const d = maxDiff(logits, await readReferenceLogits("target-llama"));
    console.log(`# Q8_0 max |Δlogit| vs PyTorch F32: ${d.toFixed(4)} (max |logit| ${maxAbs(logits).toFixed(2)})`);
    assert.ok(d < 0.1 * maxAbs(logits));
    await b.dispose();
  });
});

describe("backend: KV cache", () => {
  it("rolling back gives the state a fresh evaluation of the kept text gives", async () => {
    const prompt = engine.tokenizer.tokenize("def add(a, b):\n    return");
    const a = engine.target.newSequence();
    const b = engine.target.newSequence();
    try {
      await a.evaluate(prompt, "last");
      await a.evaluate([257, 1000, 42], "all");
      await a.truncate(prompt.length);
      assert.equal(a.length, prompt.length);
      const rolled = (await a.evaluate([318], "last"))[0].slice();
      await b.evaluate(prompt, "last");
      const fresh = (await b.evaluate([318], "last"))[0];
      assert.ok(maxDiff(rolled, fresh) < 1e-4, `rolled-back logits differ by ${maxDiff(rolled, fresh)}`);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it("a one-sequence context (its own KV stream) gives the logits of a shared one, also after a rollback", async () => {
    const single = await LlamaBackend.load({ path: f.targetLlama, gpu: "cpu", contextSize: 256, maxSequences: 1 });
    const prompt = engine.tokenizer.tokenize("def add(a, b):\n    return");
    const a = single.newSequence();
    const b = engine.target.newSequence();
    try {
      await a.evaluate(prompt, "last");
      await a.evaluate([257, 1000, 42], "all");
      await a.truncate(prompt.length);
      const rows = (await a.evaluate([318, 11], "all")).map((r) => r.slice());
      await b.evaluate(prompt, "last");
      const shared = await b.evaluate([318, 11], "all");
      for (let i = 0; i < 2; i++) assert.ok(maxDiff(rows[i], shared[i]) < 1e-4, `row ${i}: ${maxDiff(rows[i], shared[i])}`);
    } finally {
      a.dispose();
      b.dispose();
      await single.dispose();
    }
  });

  it("returns logits for the last N positions, equal to one-by-one evaluation", async () => {
    const prompt = engine.tokenizer.tokenize("x = 1\ny =");
    const extra = [362, 198, 89];
    const a = engine.target.newSequence();
    const b = engine.target.newSequence();
    try {
      await a.evaluate(prompt, "last");
      const rows = (await a.evaluate(extra, "all")).map((r) => r.slice());
      assert.equal(rows.length, 3);
      await b.evaluate(prompt, "last");
      for (let i = 0; i < extra.length; i++) {
        const [one] = await b.evaluate([extra[i]], "last");
        assert.ok(maxDiff(rows[i], one) < 1e-3, `position ${i}: ${maxDiff(rows[i], one)}`);
      }
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});

describe("backend: thread counts", () => {
  it("an evaluation on the persistent pool's threads gives the logits of a one-thread evaluation", async () => {
    const backend = await LlamaBackend.load({ path: f.targetLlama, gpu: "cpu", threads: 1, maxThreads: 2, contextSize: 128, maxSequences: 2 });
    try {
      assert.equal(backend.info.threads, 1);
      const prompt = backend.tokenizer.tokenize("def add(a, b):\n    return a +");
      const one = backend.newSequence();
      const two = backend.newSequence();
      const rowsOne = (await backend.evaluateBatch([{ sequence: one, tokens: prompt, logitsFor: 3 }], { threads: 1 }))[0].map((r) => r.slice());
      // Beyond maxThreads is capped, not an error.
      const rowsTwo = (await backend.evaluateBatch([{ sequence: two, tokens: prompt, logitsFor: 3 }], { threads: 8 }))[0];
      for (let i = 0; i < 3; i++) assert.ok(maxDiff(rowsOne[i], rowsTwo[i]) < 1e-4, `row ${i}: ${maxDiff(rowsOne[i], rowsTwo[i])}`);
      // One-token steps alternate between the pool and the pool-less path.
      for (const [k, t] of [257, 1000, 42].entries()) {
        const [a] = await backend.evaluateBatch([{ sequence: one, tokens: [t], logitsFor: 1 }], { threads: k % 2 ? 2 : 1 });
        const [b] = await backend.evaluateBatch([{ sequence: two, tokens: [t], logitsFor: 1 }], { threads: k % 2 ? 1 : 2 });
        assert.ok(maxDiff(a[0], b[0]) < 1e-4, `step ${k}: ${maxDiff(a[0], b[0])}`);
      }
    } finally {
      await backend.dispose();
    }
  });

  it("a pass run inline on the JS thread gives the logits of one run on a worker thread", async () => {
    const { addon } = await getRuntime("cpu");
    const model = new addon.Model(f.targetLlama, 0);
    const ctx = new addon.Context(model, { contextSize: 64, sequences: 2, batchSize: 64, threads: 1, maxThreads: 2 });
    try {
      const V = model.info().vocabSize;
      const prompt = Int32Array.from([5, 17, 300, 42]);
      const pass = (seq: number, tokens: Int32Array, from: number) =>
        [tokens, Int32Array.from(tokens, () => seq), Int32Array.from(tokens, (_, i) => from + i), Uint8Array.from(tokens, (_, i) => (i === tokens.length - 1 ? 1 : 0))] as const;
      const a = new Float32Array(V);
      const b = new Float32Array(V);
      await ctx.decode(...pass(0, prompt, 0), a);
      ctx.decodeSync(...pass(1, prompt, 0), b, 2);
      // Different KV cells of one unified cache (another summation order): as for batched vs one-by-one.
      assert.ok(maxDiff(a, b) < 1e-3, `prompt: ${maxDiff(a, b)}`);
      await ctx.decode(...pass(0, Int32Array.of(7), 4), a);
      ctx.decodeSync(...pass(1, Int32Array.of(7), 4), b);
      assert.ok(maxDiff(a, b) < 1e-3, `step: ${maxDiff(a, b)}`);
      // Bad input is refused by name, synchronously.
      assert.throws(() => ctx.decodeSync(...pass(1, Int32Array.of(V + 5), 5), b), /outside the vocabulary/);
    } finally {
      ctx.dispose();
      model.dispose();
    }
  });

  it("co-decoding gives the same tokens whether the models run side by side or one after the other", async () => {
    const opts = { target: f.targetLlama, expert: f.expertLlama, expertLora: f.expertLlamaLora, gpu: "cpu", contextSize: 256, targetThreads: 1, expertThreads: 1 } as const;
    const serial = await Engine.load({ ...opts, schedule: "serial", soloThreads: 2 });
    const overlap = await Engine.load({ ...opts, schedule: "overlap" });
    try {
      assert.equal(serial.cores.schedule, "serial");
      assert.equal(serial.cores.solo, 2);
      for (const strategy of ["cosec-plus", "proxy"] as StrategyName[]) {
        const base: GenerateOptions = { decoding: { strategy, speculative: false }, maxTokens: 16, seed: 4 };
        const a = await serial.generate("def read(path):\n", base);
        const b = await overlap.generate("def read(path):\n", base);
        assert.deepEqual(a.map((r) => [r.tokens, r.sources]), b.map((r) => [r.tokens, r.sources]), strategy);
        // Speculative verification on the borrowed cores too.
        const c = await serial.generate("def read(path):\n", { ...base, decoding: { strategy, speculative: true, draftMax: 4 } });
        assert.deepEqual(c.map((r) => [r.tokens, r.sources]), b.map((r) => [r.tokens, r.sources]), `${strategy}, speculative`);
      }
    } finally {
      await Promise.all([serial.dispose(), overlap.dispose()]);
    }
  });
});

describe("engine: passes on the JS thread", () => {
  it("a generation whose passes run on the JS thread still gives the event loop a turn every few ms", async () => {
    // The target alone, one generation: nothing to run meanwhile, so its short passes run inline.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const start = performance.now();
    let ms = 0;
    try {
      const [r] = await engine.generate("def f(x):\n", { decoding: { strategy: "target", speculative: false }, maxTokens: 200, seed: 1, ignoreEos: true });
      ms = performance.now() - start;
      assert.equal(r.tokens.length, 200);
    } finally {
      clearInterval(timer);
    }
    // A turn at least every 5 ms of inline passes (one pass may run past it): well over ms/10.
    assert.ok(ticks >= Math.max(3, Math.floor(ms / 10)), `${ticks} timer ticks in a ${ms.toFixed(0)} ms generation`);
  });
});

describe("strategies on real logits equal their formulas computed directly", () => {
  function softmaxLog(x: Float32Array): Float64Array {
    let m = -Infinity;
    for (const v of x) m = Math.max(m, v);
    let z = 0;
    for (const v of x) z += Math.exp(v - m);
    const lz = m + Math.log(z);
    return Float64Array.from(x, (v) => v - lz);
  }

  it("weighted, proxy, cosec-plus ratio and warped target over the full vocabulary", async () => {
    const ref = await readReference();
    const tSeq = engine.target.newSequence();
    const eSeq = engine.expert!.newSequence();
    const t = (await tSeq.evaluate(ref.promptTokens, "last"))[0].slice();
    const e = (await eSeq.evaluate(ref.promptTokens, "last"))[0].slice();
    await Promise.all([tSeq.dispose(), eSeq.dispose()]);
    const base = await LlamaBackend.load({ path: f.expertLlama, gpu: "cpu" });
    const b = (await base.newSequence().evaluate(ref.promptTokens, "last"))[0].slice();
    await base.dispose();
    const lt = softmaxLog(t);
    const le = softmaxLog(e);
    const target = { temperature: 0.7, topK: 40, topP: 0.9, minP: 0 };
    const sampling = { ...target, expertTemperature: 0.4, expertTopK: 50, expertTopP: 0.95 };

    const strategy = (d: DecodingInput) => resolveDecodingSettings({ ...d, ...sampling }, { hasExpert: true }).strategy;
    const weighted = strategy({ strategy: "weighted", alpha: 0.3 }) as WeightedStrategy;
    const w = weighted.combined({ target: t, expert: e });
    for (let i = 0; i < t.length; i++) assert.ok(Math.abs(w[i] - (0.7 * lt[i] + 0.3 * le[i])) < 1e-4, `weighted ${i}`);

    const proxy = strategy({ strategy: "proxy" }) as ProxyStrategy;
    const p = proxy.combined({ target: t, expert: e, expertBase: b });
    for (let i = 0; i < t.length; i++) assert.ok(Math.abs(p[i] - (t[i] + e[i] - b[i])) < 1e-4, `proxy ${i}`);

    const cosec = strategy({ strategy: "cosec-plus" }) as CosecPlusStrategy;
    for (const token of [0, 13, 198, 1000, 50256]) {
      const direct = Math.min(1, Math.exp(lt[token] - le[token]));
      assert.ok(Math.abs(cosec.acceptanceRatio(t, e, token) - direct) < 1e-5, `ratio for ${token}`);
    }

    // The warped target: temperature, then top-k, then top-p, renormalised.
    const ids = Array.from(t.keys()).sort((x, y) => t[y] - t[x] || x - y).slice(0, 40);
    const scaled = ids.map((i) => t[i] / 0.7);
    const z = scaled.reduce((a, v) => a + Math.exp(v - scaled[0]), 0);
    const probs = scaled.map((v) => Math.exp(v - scaled[0]) / z);
    let keep = 0;
    for (let c = 0; keep < probs.length && c < 0.9; keep++) c += probs[keep];
    const kept = probs.slice(0, keep);
    const zk = kept.reduce((a, v) => a + v, 0);
    const d = warp(t, target)!;
    assert.deepEqual(Array.from(d.tokens), ids.slice(0, keep));
    kept.forEach((v, i) => assert.ok(Math.abs(d.probs[i] - v / zk) < 1e-5));
  });
});

describe("bad input gets named errors", () => {
  it("different vocabularies: names the first differing id and both tokens", async () => {
    const ref = await readReference();
    await assert.rejects(
      Engine.load({ target: f.targetLlama, expert: f.otherVocab, gpu: "cpu" }),
      (e: Error) =>
        e instanceof VocabularyMismatchError &&
        e.firstDifferingId === ref.renamedTokenId &&
        e.message.includes(`token id ${ref.renamedTokenId}`) &&
        e.message.includes("cosec-renamed-1000"),
    );
  });

  it("a truncated GGUF", async () => {
    const path = join(scratch, "truncated.gguf");
    copyFileSync(f.expertLlama, path);
    const fd = openSync(path, "r+");
    ftruncateSync(fd, Math.floor(statSync(path).size / 2));
    closeSync(fd);
    await assert.rejects(LlamaBackend.load({ path, gpu: "cpu" }), (e: Error) => e instanceof ModelLoadError && /truncated/.test(e.message));
  });

  it("a file that is not GGUF, and a missing file", async () => {
    const path = join(scratch, "garbage.gguf");
    writeFileSync(path, "this is not a model");
    await assert.rejects(LlamaBackend.load({ path, gpu: "cpu" }), (e: Error) => e instanceof ModelLoadError && /not a GGUF/.test(e.message));
    await assert.rejects(LlamaBackend.load({ path: join(scratch, "nope.gguf"), gpu: "cpu" }), /not found/);
  });

  it("a prompt longer than the context", async () => {
    const long = "x = 1\n".repeat(200);
    await assert.rejects(engine.generate(long, { maxTokens: 4 }), (e: Error) => e instanceof ContextOverflowError && /context holds 256/.test(e.message));
  });

  it("bad generation options name the field", async () => {
    await assert.rejects(engine.generate("x", { n: 0 }), /n: must be a positive integer/);
    await assert.rejects(engine.generate("x", { decoding: { topP: 1.5 } }), /topP: must be a number in \(0, 1\], got 1.5/);
    await assert.rejects(engine.generate("x", { decoding: { strategy: "bogus" as StrategyName } }), /strategy: unknown strategy 'bogus'/);
  });
});

describe("generation", () => {
  const prompt = "def read_file(path):\n";

  it("same seed gives the same output; different seeds differ", async () => {
    const opts: GenerateOptions = { decoding: { strategy: "cosec-plus" }, maxTokens: 24, n: 2, seed: 5 };
    const a = await engine.generate(prompt, opts);
    const b = await engine.generate(prompt, opts);
    assert.deepEqual(a.map((r) => r.tokens), b.map((r) => r.tokens));
    const c = await engine.generate(prompt, { ...opts, seed: 6 });
    assert.notDeepEqual(a.map((r) => r.tokens), c.map((r) => r.tokens));
    assert.notDeepEqual(a[0].tokens, a[1].tokens, "samples of one run differ");
  });

  it("sample i of a batch equals sample i generated alone (paired comparisons)", async () => {
    const batch = await engine.generate(prompt, { decoding: { strategy: "target" }, maxTokens: 16, n: 3, seed: 9 });
    const alone = await engine.generate(prompt, { decoding: { strategy: "target" }, maxTokens: 16, n: 1, seed: 9, firstSample: 2 });
    assert.deepEqual(alone[0].tokens, batch[2].tokens);
    assert.equal(alone[0].sample, 2);
  });

  it("concurrent calls (merged into shared batches) give the same outputs as calls run alone", async () => {
    for (const speculative of [false, undefined]) {
      const a: GenerateOptions = { decoding: { strategy: "cosec-plus", speculative }, maxTokens: 12, seed: 21 };
      const b: GenerateOptions = { decoding: { strategy: "target" }, maxTokens: 12, seed: 22, n: 2 };
      const [ra, rb] = await Promise.all([engine.generate(prompt, a), engine.generate("int main() {", b)]);
      assert.deepEqual((await engine.generate(prompt, a)).map((r) => r.tokens), ra.map((r) => r.tokens));
      assert.deepEqual((await engine.generate("int main() {", b)).map((r) => r.tokens), rb.map((r) => r.tokens));
    }
  });

  it("results carry provenance, acceptance and timing; streaming concatenates to the text", async () => {
    const streamed: string[] = [];
    const [r] = await engine.generate(prompt, { decoding: { strategy: "cosec-plus" }, maxTokens: 20, seed: 1, onToken: (e) => streamed.push(e.text) });
    assert.equal(streamed.join(""), r.text);
    assert.equal(r.sources.length, r.tokens.length);
    const fromExpert = r.sources.filter((s) => s === "expert").length;
    assert.equal(r.acceptanceRate, fromExpert / r.tokens.length);
    assert.ok(r.timing.tokensPerSecond > 0 && r.timing.promptTokens > 0);
    assert.equal(engine.tokenizer.detokenize(r.tokens), r.text);
    const [t] = await engine.generate(prompt, { decoding: { strategy: "target" }, maxTokens: 5 });
    assert.equal(t.acceptanceRate, null);
  });

  it("stop sequences cut the text, also when the stop spans two tokens", async () => {
    const greedy: GenerateOptions = { decoding: { strategy: "target", temperature: 0 }, maxTokens: 12 };
    const [full] = await engine.generate(prompt, greedy);
    const pieces = full.tokens.map((t) => engine.tokenizer.detokenize([t]));
    // A stop made of the end of token 3 and the start of token 4 (each at least one character).
    const k = 3;
    const stop = pieces[k].slice(-2) + pieces[k + 1].slice(0, 2);
    const cut = full.text.indexOf(stop);
    assert.ok(cut >= 0 && pieces[k].length > 0 && pieces[k + 1].length > 0);
    const streamed: string[] = [];
    const [r] = await engine.generate(prompt, { ...greedy, stop: [stop], onToken: (e) => streamed.push(e.text) });
    assert.equal(r.finishReason, "stop");
    assert.equal(r.text, full.text.slice(0, cut));
    assert.equal(streamed.join(""), r.text, "no part of the stop string is streamed");
    const [len] = await engine.generate(prompt, { ...greedy, maxTokens: 4 });
    assert.equal(len.finishReason, "length");
    assert.equal(len.tokens.length, 4);
  });

  it("aborting ends every sample with finish reason 'aborted'", async () => {
    const ac = new AbortController();
    let count = 0;
    const results = await engine.generate(prompt, {
      n: 2,
      maxTokens: 100,
      signal: ac.signal,
      onToken: () => {
        if (++count === 5) ac.abort();
      },
    });
    for (const r of results) {
      assert.equal(r.finishReason, "aborted");
      assert.ok(r.tokens.length < 100);
    }
    assert.equal(engine.target.freeSequences, 4, "sequences are released");
  });
});

describe("a caller's own strategy", () => {
  // Greedy on the mean of the two models' logits, with a greedy expert proposal: a rule the
  // project does not ship, passed to generate as an object.
  const mean: Strategy = {
    name: "mean-greedy",
    models: ["target", "expert"],
    choose: (l) => {
      const t = l.target!;
      const e = l.expert!;
      const avg = new Float32Array(t.length);
      for (let i = 0; i < t.length; i++) avg[i] = (t[i] + e[i]) / 2;
      const token = argmax(avg);
      return { token, source: "mixed", logprob: avg[token] - logSumExp(avg) };
    },
    propose: (expert) => ({ token: argmax(expert), logprob: 0 }),
  };

  it("decodes by its choose, the same sequential and speculative", async () => {
    const sequential = await engine.generate("int main(void) {\n", { decoding: { strategy: mean, speculative: false }, maxTokens: 16, n: 2, seed: 1 });
    assert.equal(sequential[0].tokens.length > 0, true);
    assert.ok(sequential.every((r) => r.sources.every((s) => s === "mixed")));
    // Its greedy rule ignores the random stream: both samples are one sequence.
    assert.deepEqual(sequential[0].tokens, sequential[1].tokens);
    for (const draftMax of [2, 6]) {
      const spec = await engine.generate("int main(void) {\n", { decoding: { strategy: mean, speculative: true, draftMax }, maxTokens: 16, n: 2, seed: 1 });
      assert.deepEqual(spec.map((r) => r.tokens), sequential.map((r) => r.tokens), `k=${draftMax}`);
    }
  });

  it("a malformed one is a named error", async () => {
    await assert.rejects(engine.generate("x", { decoding: { strategy: { ...mean, models: ["draft" as never] } } }), (e: Error) => e instanceof StrategyError && /models must list roles/.test(e.message));
    await assert.rejects(engine.generate("x", { decoding: { strategy: { ...mean, choose: undefined as never } } }), (e: Error) => e instanceof StrategyError && /choose\(logits, rng\)/.test(e.message));
    // propose returning a bare token (not a { token, logprob } proposal): named when it is first called.
    const bare = { ...mean, propose: ((expert: Float32Array) => argmax(expert)) as never };
    await assert.rejects(engine.generate("x", { decoding: { strategy: bare, speculative: true }, maxTokens: 4 }), (e: Error) => e instanceof StrategyError && /propose must return \{ token, logprob \}/.test(e.message));
  });
});

describe("speculative co-decoding equals sequential co-decoding token for token", () => {
  const prompts = ["def check_path(p):\n", "int main(void) {\n"];
  const strategies: StrategyName[] = ["cosec-plus", "target", "expert", "weighted", "proxy"];
  for (const strategy of strategies) {
    it(strategy, async () => {
      for (const [pi, prompt] of prompts.entries()) {
        for (const seed of [1, 2]) {
          const base: GenerateOptions = { decoding: { strategy, speculative: false }, maxTokens: 24, n: 2, seed: seed + 10 * pi };
          const sequential = (await engine.generate(prompt, base)).map((r) => [r.tokens, r.sources, r.finishReason]);
          for (const draftMax of [1, 3, 8, undefined]) {
            const spec = await engine.generate(prompt, { ...base, decoding: { strategy, speculative: true, draftMax } });
            assert.deepEqual(
              spec.map((r) => [r.tokens, r.sources, r.finishReason]),
              sequential,
              `${strategy}, prompt ${pi}, seed ${seed}, k=${draftMax ?? "adaptive"}`,
            );
          }
        }
      }
    });
  }

  it("with stop sequences and token limits inside a round", async () => {
    const decoding = { strategy: "cosec-plus", expertTemperature: 0.2 } as const;
    const base: GenerateOptions = { decoding: { ...decoding, speculative: false }, maxTokens: 7, n: 2, seed: 3 };
    const [full] = await engine.generate("def f(x):\n", { ...base, maxTokens: 20 });
    const stop = full.text.slice(6, 9);
    for (const opts of [base, { ...base, maxTokens: 20, stop: [stop] }]) {
      const sequential = await engine.generate("def f(x):\n", opts);
      for (const draftMax of [3, 8]) {
        const spec = await engine.generate("def f(x):\n", { ...opts, decoding: { ...decoding, speculative: true, draftMax } });
        assert.deepEqual(
          spec.map((r) => [r.text, r.tokens, r.finishReason]),
          sequential.map((r) => [r.text, r.tokens, r.finishReason]),
        );
      }
    }
  });

  it("past end-of-text tokens with ignoreEos, to the token limit", async () => {
    const base: GenerateOptions = { decoding: { strategy: "cosec-plus", speculative: false }, maxTokens: 40, n: 2, seed: 5, ignoreEos: true };
    const sequential = await engine.generate("def f(x):\n", base);
    for (const r of sequential) {
      assert.equal(r.finishReason, "length");
      assert.equal(r.tokens.length, 40);
    }
    for (const draftMax of [3, undefined]) {
      const spec = await engine.generate("def f(x):\n", { ...base, decoding: { strategy: "cosec-plus", speculative: true, draftMax } });
      assert.deepEqual(
        spec.map((r) => r.tokens),
        sequential.map((r) => r.tokens),
      );
    }
  });

  for (const schedule of ["overlap", "serial"] as const) {
    it(`with rounds that draft nothing, where the pair's costs say drafts cannot pay (${schedule})`, async () => {
      // A separate engine whose measured costs make every extra verified token cost 20 single
      // passes and whose long-run acceptance is near zero: the chooser picks k = 0 (plain
      // co-decoding steps: side by side with overlap, the target on both cores with serial) with
      // a one-draft probe now and then.
      const e = await Engine.load({ target: f.targetLlama, expert: f.expertLlama, expertLora: f.expertLlamaLora, gpu: "cpu", maxSequences: 2, contextSize: 256, schedule, soloThreads: 2 });
      try {
        const c = e.speculationCosts;
        c.draftStepMs.add(0.1);
        c.roundOverheadMs.add(0);
        // Twice each: the first pass of a size is not counted (draft-length.ts).
        for (const threads of [0, 2]) for (const n of [1, 2, 3, 5, 9]) for (let pass = 0; pass < 2; pass++) c.observeVerify(n, 1 + 20 * (n - 1), threads);
        for (let r = 0; r < 200; r++) c.acceptance.add(0);
        for (const strategy of ["cosec-plus", "proxy"] as StrategyName[]) {
          const base: GenerateOptions = { decoding: { strategy, speculative: false }, maxTokens: 30, n: 2, seed: 4, ignoreEos: true };
          const sequential = await e.generate("def f(x):\n", base);
          const { results, speculative } = await e.generateWithStats("def f(x):\n", { ...base, decoding: { strategy, speculative: true } });
          assert.deepEqual(
            results.map((r) => [r.tokens, r.sources]),
            sequential.map((r) => [r.tokens, r.sources]),
            strategy,
          );
          assert.ok(speculative && speculative.drafted < speculative.rounds, `${strategy}: ${speculative?.drafted} drafts in ${speculative?.rounds} rounds`);
        }
      } finally {
        await e.dispose();
      }
    });
  }

  it("is the default for strategies that use the expert, and not for the target alone", async () => {
    const cosec = await engine.generateWithStats("def f(x):\n", { decoding: { strategy: "cosec-plus" }, maxTokens: 8, seed: 1 });
    assert.ok(cosec.speculative && cosec.speculative.rounds > 0);
    const target = await engine.generateWithStats("def f(x):\n", { decoding: { strategy: "target" }, maxTokens: 8, seed: 1 });
    assert.equal(target.speculative, undefined, "the target alone runs without the expert");
    const forced = await engine.generateWithStats("def f(x):\n", { decoding: { strategy: "target", speculative: true }, maxTokens: 8, seed: 1 });
    assert.ok(forced.speculative && forced.speculative.rounds > 0);
    assert.deepEqual(forced.results[0].tokens, target.results[0].tokens);
  });

  it("accepts drafts and reports round statistics", async () => {
    // A greedy pair where the target is steered by the expert's drafts: statistics must add up.
    const { results, speculative } = await engine.generateWithStats("def f(x):\n", {
      decoding: { strategy: "expert", speculative: true, draftMax: 4 },
      maxTokens: 30,
    });
    assert.ok(speculative && speculative.rounds > 0);
    assert.ok(speculative.acceptedDrafts <= speculative.drafted);
    // `expert` keeps every draft: the prompt's round decides 1 token (it drafts nothing), then
    // rounds of 4 drafts + 1 decided token: 30 tokens in 1 + 6 rounds.
    assert.equal(results[0].tokens.length, 30);
    assert.equal(speculative.rounds, 7);
  });
});
