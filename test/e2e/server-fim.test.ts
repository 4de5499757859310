// Fill-in-the-middle: the prompt layout from the model's own FIM tokens (both orders, repo-level
// extra files), and `cosec serve` answering llama.cpp's /infill and /completion and OpenAI's completions `suffix`
// on a pair whose vocabulary has Qwen2.5-Coder's FIM tokens (fixtures targetFim/expertFim: random
// weights, so the fill is gibberish, but deterministic per seed). Models without FIM tokens and
// malformed bodies get named 400s.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are read field by field */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fimOrderOf, LlamaBackend } from "../../src/backend/llama-backend.ts";
import { ModelLoadError } from "../../src/errors.ts";
import { fimPrompt, FimUnsupportedError } from "../../src/generate/fim.ts";
import { ensureFixtures, readReference, readReferenceLogits } from "../helpers/fixtures.ts";
import { sseData, startServer, type ServerProcess } from "./server-harness.ts";

const KEY = "sk-cosec-fim";
const auth = { "content-type": "application/json", authorization: `Bearer ${KEY}` };

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(url, { method: "POST", headers: auth, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

describe("FIM prompts from the model's tokens", () => {
  test("prefix-suffix-middle, suffix-prefix-middle, extra files, and no FIM tokens", async () => {
    const f = await ensureFixtures();
    const fim = (await readReference()).fimTokens;
    const b = await LlamaBackend.load({ path: f.targetFim, gpu: "cpu" });
    const plain = await LlamaBackend.load({ path: f.targetLlama, gpu: "cpu" });
    const spm = await LlamaBackend.load({ path: f.targetFimSpm, gpu: "cpu" });
    try {
      const t = (s: string) => b.tokenizer.tokenize(s, { addBos: false });
      const [pre, suf, mid, repo, sep] = ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|repo_name|>", "<|file_sep|>"].map((k) => fim[k]);
      assert.deepEqual(b.vocab.special.fimPrefix, pre, "llama.cpp finds the tokens by their spelling");
      const input = { prefix: "def area(r):\n    ", suffix: "\n    return a\n" };
      assert.deepEqual(fimPrompt(b.vocab, b.tokenizer, input), [pre, ...t(input.prefix), suf, ...t(input.suffix), mid]);
      assert.deepEqual(fimPrompt(b.vocab, b.tokenizer, { ...input, order: "spm", middle: "a =" }), [suf, ...t(input.suffix), pre, ...t(input.prefix), mid, ...t("a =")]);
      assert.deepEqual(fimPrompt(b.vocab, b.tokenizer, { ...input, extra: [{ filename: "util.py", text: "PI = 3.14\n" }] }), [
        repo, ...t("myproject\n"), sep, ...t("util.py\n"), ...t("PI = 3.14\n"), sep, ...t("filename\n"), pre, ...t(input.prefix), suf, ...t(input.suffix), mid,
      ]);
      assert.ok(b.vocab.isEndOfGeneration(fim["<|fim_pad|>"]), "a fill ends at <|fim_pad|>");
      // The markers are never text: a completion that writes one ends there (llama.cpp ends only on the others).
      for (const marker of [pre, suf, mid]) assert.ok(b.vocab.isEndOfGeneration(marker), `a completion ends at token ${marker}`);
      assert.ok(!b.vocab.isEndOfGeneration(t("def")[0]));
      assert.throws(() => fimPrompt(plain.vocab, plain.tokenizer, input), (e: Error) => e instanceof FimUnsupportedError && /no fill-in-the-middle tokens/.test(e.message));
      assert.equal(b.info.fimOrder, undefined, "a GGUF without cosec.fim.order says nothing of its layout");
      assert.equal(spm.info.fimOrder, "spm", "the trainer's key is read");
      assert.throws(() => fimOrderOf({ cosec: { fim: { order: "pms" } } }, "m.gguf"), (e: Error) => e instanceof ModelLoadError && /cosec\.fim\.order "pms", expected one of psm, spm: m\.gguf/.test(e.message));
    } finally {
      await b.dispose();
      await plain.dispose();
      await spm.dispose();
    }
  });
});

describe("cosec serve: /infill and completions with suffix", () => {
  let fimServer: ServerProcess;
  let plainServer: ServerProcess;
  before(async () => {
    const f = await ensureFixtures();
    const common = ["--api-key", KEY, "--parallel", "2", "--max-tokens", "64", "--context-size", "512"];
    [fimServer, plainServer] = await Promise.all([startServer([...common, "--target", f.targetFim, "--expert", f.expertFim]), startServer(common)]);
  });
  after(async () => {
    for (const s of [fimServer, plainServer]) assert.equal(await s?.stop(), 0, s?.output());
  });

  const infill = { input_prefix: "def area(r):\n    ", input_suffix: "\n    return a\n", n_predict: 12, seed: 4, temperature: 0.8 };

  test("/infill answers llama.cpp's shape, equal to completions with the same prefix and suffix", async () => {
    const a = await post(`${fimServer.url}/infill`, { ...infill, cache_prompt: true, n_indent: 4, t_max_predict_ms: 500 });
    assert.equal(a.status, 200, JSON.stringify(a.json));
    assert.equal(typeof a.json.content, "string");
    assert.equal(a.json.stop, true);
    assert.ok(a.json.tokens_predicted > 0 && a.json.tokens_predicted <= 12);
    assert.ok(["eos", "limit"].includes(a.json.stop_type));
    assert.equal(a.json.cosec.strategy, "cosec-plus", "co-decoded with the expert by default");
    assert.equal(typeof a.json.cosec.acceptance_rate, "number");
    const c = await post(`${fimServer.url}/v1/completions`, { prompt: infill.input_prefix, suffix: infill.input_suffix, max_tokens: 12, seed: 4, temperature: 0.8 });
    assert.equal(c.status, 200, JSON.stringify(c.json));
    assert.equal(c.json.choices[0].text, a.json.content, "one FIM prompt for both endpoints");
    assert.equal(c.json.usage.prompt_tokens, a.json.tokens_evaluated);
  });

  test("/completion (Continue's llama.cpp provider): its FIM template as text fills like /infill; ids and streaming too", async () => {
    const a = await post(`${fimServer.url}/infill`, infill);
    // Continue applies the model's FIM template itself and sends the text; llama-server reads the
    // special-token spellings in it as those tokens, and so does cosec.
    const templated = `<|fim_prefix|>${infill.input_prefix}<|fim_suffix|>${infill.input_suffix}<|fim_middle|>`;
    const body = { prompt: templated, n_predict: 12, seed: 4, temperature: 0.8, stream: false, frequency_penalty: 0, mirostat: 0 };
    const c = await post(`${fimServer.url}/completion`, body);
    assert.equal(c.status, 200, JSON.stringify(c.json));
    assert.equal(c.json.tokens_evaluated, a.json.tokens_evaluated, "the same prompt tokens as /infill's layout");
    assert.equal(c.json.content, a.json.content);
    assert.equal(c.json.stop, true);
    assert.equal(c.json.cosec.strategy, "cosec-plus");
    const ids = await post(`${fimServer.url}/completion`, { ...body, prompt: [1, 2, 3] });
    assert.equal(ids.status, 200, JSON.stringify(ids.json));
    assert.equal(ids.json.tokens_evaluated, 3);
    const res = await fetch(`${fimServer.url}/completion`, { method: "POST", headers: auth, body: JSON.stringify({ ...body, stream: true }) });
    assert.equal(res.status, 200);
    const events: Record<string, any>[] = [];
    for await (const d of sseData(res)) events.push(JSON.parse(d));
    assert.equal(events.at(-1)!.stop, true);
    assert.equal(events.map((e) => e.content).join(""), c.json.content);
    const outside = await post(`${fimServer.url}/completion`, { prompt: [1, 10_000_000] });
    assert.equal(outside.status, 400);
    assert.equal(outside.json.error.param, "prompt[1]");
    const missing = await post(`${fimServer.url}/completion`, { n_predict: 4 });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.error.param, "prompt");
  });

  test("/infill streams content events, the last with stop: true", async () => {
    const whole = await post(`${fimServer.url}/infill`, infill);
    const res = await fetch(`${fimServer.url}/infill`, { method: "POST", headers: auth, body: JSON.stringify({ ...infill, stream: true }) });
    assert.equal(res.status, 200);
    const events: Record<string, any>[] = [];
    for await (const d of sseData(res)) events.push(JSON.parse(d));
    assert.ok(events.length >= 2);
    assert.ok(events.slice(0, -1).every((e) => e.stop === false));
    assert.equal(events.at(-1)!.stop, true);
    assert.equal(events.map((e) => e.content).join(""), whole.json.content);
  });

  test("a request sharing the previous one's prefix starts from its KV caches, with the same output", async () => {
    const typedOn = { ...infill, input_prefix: `${infill.input_prefix}a = 3.14 * r`, seed: 11 };
    await post(`${fimServer.url}/infill`, { ...infill, seed: 11 });
    const reused = await post(`${fimServer.url}/infill`, typedOn);
    assert.equal(reused.status, 200);
    assert.ok(reused.json.tokens_cached > 0, `tokens_cached ${reused.json.tokens_cached}`);
    assert.ok(reused.json.tokens_cached < reused.json.tokens_evaluated);
    const uncached = await post(`${fimServer.url}/infill`, { ...typedOn, cache_prompt: false });
    assert.equal(uncached.json.tokens_cached, 0);
    assert.equal(reused.json.content, uncached.json.content);
  });

  test("prompt_logprobs (vLLM's shape) equal PyTorch's log-softmax of the same model", async () => {
    const ref = await readReference();
    const logits = await readReferenceLogits("target-llama");
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    let z = 0;
    for (const v of logits) z += Math.exp(v - max);
    const next = 13; // any token after the reference prompt
    const expected = logits[next] - max - Math.log(z);
    const r = await post(`${plainServer.url}/v1/completions`, { prompt: [...ref.promptTokens, next], max_tokens: 1, prompt_logprobs: 2 });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const pl = r.json.choices[0].prompt_logprobs as (Record<string, { logprob: number; rank: number; decoded_token: string }> | null)[];
    assert.equal(pl.length, ref.promptTokens.length + 1);
    assert.equal(pl[0], null);
    const last = pl.at(-1)!;
    // llama.cpp's F32 kernels against PyTorch's: the engine tests allow 1% of the largest logit; here 1e-3 relative.
    assert.ok(Math.abs(last[String(next)].logprob - expected) < 1e-3 * Math.abs(expected) + 1e-4, `${last[String(next)].logprob} vs ${expected}`);
    assert.ok(Object.keys(last).length >= 2 && Object.keys(last).length <= 3, "the token and the top 2");
    for (const entry of pl.slice(1)) for (const v of Object.values(entry!)) assert.ok(v.logprob <= 0 && v.rank >= 1);
    const streamed = await post(`${plainServer.url}/v1/completions`, { prompt: "x", max_tokens: 1, prompt_logprobs: 0, stream: true });
    assert.equal(streamed.status, 400);
    assert.equal(streamed.json.error.param, "prompt_logprobs");
  });

  test("bad input: named 400s", async () => {
    const notList = await post(`${fimServer.url}/infill`, { ...infill, input_extra: "util.py" });
    assert.equal(notList.status, 400);
    assert.equal(notList.json.error.param, "input_extra");
    const long = await post(`${fimServer.url}/infill`, { ...infill, input_prefix: "x = 1\n".repeat(400) });
    assert.equal(long.status, 400);
    assert.equal(long.json.error.code, "context_length_exceeded");
    const ids = await post(`${fimServer.url}/v1/completions`, { prompt: [1, 2, 3], suffix: "x", max_tokens: 2 });
    assert.equal(ids.status, 400);
    assert.equal(ids.json.error.param, "prompt");
    for (const [path, body, param] of [
      ["/infill", infill, "input_prefix"],
      ["/v1/completions", { prompt: "def f():", suffix: "\n", max_tokens: 4 }, "suffix"],
    ] as const) {
      const r = await post(`${plainServer.url}${path}`, body);
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, "fim_unsupported");
      assert.equal(r.json.error.param, param);
      assert.match(r.json.error.message, /no fill-in-the-middle tokens/);
    }
    // Without a key, nothing is generated.
    const anon = await fetch(`${fimServer.url}/infill`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(infill) });
    assert.equal(anon.status, 401);
  });
});

describe("cosec serve: fills laid out as the target was trained (its GGUF), or as --fim-order says", () => {
  let spmServer: ServerProcess;
  let psmServer: ServerProcess;
  before(async () => {
    const f = await ensureFixtures();
    const common = ["--api-key", KEY, "--parallel", "1", "--max-tokens", "32", "--context-size", "512", "--target", f.targetFimSpm, "--expert", f.expertFim];
    [spmServer, psmServer] = await Promise.all([startServer(common), startServer([...common, "--fim-order", "psm"])]);
  });
  after(async () => {
    for (const s of [spmServer, psmServer]) assert.equal(await s?.stop(), 0, s?.output());
  });

  test("/infill and completions with suffix fill what the suffix-first template fills; --fim-order psm overrides the GGUF", async () => {
    const fill = { input_prefix: "def area(r):\n    ", input_suffix: "\n    return a\n", n_predict: 12, seed: 7, temperature: 0.8 };
    const spm = await post(`${spmServer.url}/infill`, fill);
    assert.equal(spm.status, 200, JSON.stringify(spm.json));
    // The same layout written out as text (a text prompt is never rearranged).
    const templated = `<|fim_suffix|>${fill.input_suffix}<|fim_prefix|>${fill.input_prefix}<|fim_middle|>`;
    const text = await post(`${psmServer.url}/completion`, { prompt: templated, n_predict: 12, seed: 7, temperature: 0.8 });
    assert.equal(text.status, 200, JSON.stringify(text.json));
    assert.equal(spm.json.content, text.json.content);
    assert.equal(spm.json.tokens_evaluated, text.json.tokens_evaluated);
    const openai = await post(`${spmServer.url}/v1/completions`, { prompt: fill.input_prefix, suffix: fill.input_suffix, max_tokens: 12, seed: 7, temperature: 0.8 });
    assert.equal(openai.json.choices[0].text, spm.json.content);
    // Told otherwise, the server lays the prefix first: a different prompt.
    const psm = await post(`${psmServer.url}/infill`, fill);
    const psmText = await post(`${spmServer.url}/completion`, { prompt: `<|fim_prefix|>${fill.input_prefix}<|fim_suffix|>${fill.input_suffix}<|fim_middle|>`, n_predict: 12, seed: 7, temperature: 0.8 });
    assert.equal(psm.json.content, psmText.json.content);
    assert.notEqual(psm.json.content, spm.json.content, "the two layouts are different prompts");
  });
});
