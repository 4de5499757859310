// Co-decoding with a remote target over HTTP: the project's own `cosec serve` (target only) is the
// OpenAI-compatible server, the fixture expert with its LoRA decodes locally. The rule's two ends
// are checked against the local engine: a threshold of 0 keeps every expert proposal (the output is
// the local expert's, token for token), a threshold of 1 keeps none (every token drawn by the
// server). A server that is unreachable or returns no prompt log-probabilities is a named error
// at connect time.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are read field by field */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { RemoteTargetError } from "../../src/backend/remote-target.ts";
import { Engine } from "../../src/generate/engine.ts";
import { RemoteEngine } from "../../src/generate/remote.ts";
import { ensureFixtures } from "../helpers/fixtures.ts";
import { startServer, type ServerProcess } from "./server-harness.ts";

const KEY = "sk-remote-target";
const PROMPT = "def read_file(path):\n";

describe("remote target on cosec serve", () => {
  let server: ServerProcess;
  let remote: RemoteEngine;
  before(async () => {
    const f = await ensureFixtures();
    // top-k off: the server's fallback draw is then the raw distribution, as the rule wants.
    server = await startServer(["--api-key", KEY, "--top-k", "0", "--parallel", "2", "--context-size", "512"], {}, { targetOnly: true });
    remote = await RemoteEngine.load({ target: { url: server.url, apiKey: KEY }, expert: f.expertLlama, expertLora: f.expertLlamaLora, gpu: "cpu", contextSize: 512 });
  });
  after(async () => {
    await remote?.dispose();
    assert.equal(await server?.stop(), 0, server?.output());
  });

  test("threshold 0 keeps every expert proposal: the local expert's output, few requests per token", async () => {
    const f = await ensureFixtures();
    const local = await Engine.load({ target: f.targetLlama, expert: f.expertLlama, expertLora: f.expertLlamaLora, gpu: "cpu", contextSize: 512 });
    try {
      const [alone] = await local.generate(PROMPT, { decoding: { strategy: "expert" }, maxTokens: 24, seed: 5 });
      const { result, timing } = await remote.generate(PROMPT, { decoding: { strategy: "cosec-plus", threshold: 0, draftMax: 4 }, maxTokens: 24, seed: 5 });
      assert.deepEqual(result.tokens, alone.tokens);
      assert.ok(result.sources.every((s) => s === "expert"));
      assert.ok(timing.requests <= Math.ceil(result.tokens.length / 4) + 1, `${timing.requests} requests for ${result.tokens.length} tokens`);
    } finally {
      await local.dispose();
    }
  });

  test("threshold 1 keeps none: every token drawn by the server from the raw target distribution", async () => {
    const { result, timing } = await remote.generate(PROMPT, { decoding: { strategy: "cosec-plus", threshold: 1 }, maxTokens: 12, seed: 2 });
    assert.ok(result.tokens.length > 0);
    assert.ok(result.sources.every((s) => s === "target"));
    assert.equal(timing.requests, 2 * result.tokens.length, "a scoring and a sampling request per token");
  });

  test("the default rule mixes both, and refuses what a remote target cannot do", async () => {
    const { result } = await remote.generate(PROMPT, { maxTokens: 24, seed: 3 });
    assert.ok(result.tokens.length > 0);
    assert.ok(result.acceptanceRate !== null);
    await assert.rejects(remote.generate(PROMPT, { decoding: { strategy: "cosec-plus", mode: "warped" } }), /reference mode only/);
    await assert.rejects(remote.generate(PROMPT, { decoding: { strategy: "weighted" } }), /cosec-plus in reference mode only/);
  });

  test("draftPMin shortens the drafts, not the output: an unsure proposal is decided, not drafted past", async () => {
    const plain = await remote.generate(PROMPT, { decoding: { draftMax: 4 }, maxTokens: 24, seed: 3 });
    const unsure = await remote.generate(PROMPT, { decoding: { draftMax: 4, draftPMin: 0.99 }, maxTokens: 24, seed: 3 });
    assert.deepEqual(unsure.result.tokens, plain.result.tokens);
    assert.ok(unsure.timing.drafted < plain.timing.drafted, `p_min 0.99 drafted ${unsure.timing.drafted}, none ${plain.timing.drafted}`);
  });
});

describe("cosec serve --target-url: the server in front of a remote target", () => {
  let target: ServerProcess;
  let front: ServerProcess;
  before(async () => {
    const f = await ensureFixtures();
    target = await startServer(["--api-key", KEY, "--top-k", "0", "--parallel", "2", "--context-size", "512"], {}, { targetOnly: true });
    front = await startServer(["--parallel", "2", "--context-size", "512"], { COSEC_TARGET_API_KEY: KEY }, {
      models: ["--target-url", target.url, "--expert", f.expertLlama, "--expert-lora", f.expertLlamaLora],
    });
  });
  after(async () => {
    for (const s of [front, target]) assert.equal(await s?.stop(), 0, s?.output());
  });
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${front.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };

  test("completions co-decode with the remote target: threshold 0 is the local expert's output; n samples", async () => {
    const f = await ensureFixtures();
    const local = await Engine.load({ target: f.targetLlama, expert: f.expertLlama, expertLora: f.expertLlamaLora, gpu: "cpu", contextSize: 512, maxSequences: 2 });
    try {
      const alone = await local.generate(PROMPT, { decoding: { strategy: "expert" }, maxTokens: 16, seed: 5, n: 2 });
      const r = await post("/v1/completions", { prompt: PROMPT, max_tokens: 16, seed: 5, n: 2, cosec: { threshold: 0, draft_max: 4 } });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.deepEqual(r.json.choices.map((c: { text: string }) => c.text), alone.map((a) => a.text));
      const mixed = await post("/v1/completions", { prompt: PROMPT, max_tokens: 16, seed: 3 });
      assert.equal(mixed.status, 200, JSON.stringify(mixed.json));
      assert.equal(mixed.json.cosec.strategy, "cosec-plus");
      assert.equal(typeof mixed.json.cosec.acceptance_rate, "number");
    } finally {
      await local.dispose();
    }
    const models = await (await fetch(`${front.url}/v1/models`)).json() as { data: { id: string; cosec: { target: string } }[] };
    assert.equal(models.data[0].id, "target-llama", "the remote target's model id");
    assert.ok(models.data[0].cosec.target.startsWith(target.url));
  });

  test("what a remote target cannot do is a named 400", async () => {
    const strategy = await post("/v1/completions", { prompt: PROMPT, max_tokens: 4, cosec: { strategy: "target" } });
    assert.equal(strategy.status, 400);
    assert.equal(strategy.json.error.param, "cosec.strategy");
    assert.match(strategy.json.error.message, /reference mode only/);
    const logprobs = await post("/v1/completions", { prompt: PROMPT, max_tokens: 1, prompt_logprobs: 1 });
    assert.equal(logprobs.status, 400);
    assert.equal(logprobs.json.error.param, "prompt_logprobs");
  });
});

describe("remote target: named errors at connect time", () => {
  test("unreachable, and a server without prompt log-probabilities", async () => {
    const f = await ensureFixtures();
    const opts = { expert: f.expertLlama, gpu: "cpu" as const, contextSize: 256 };
    await assert.rejects(RemoteEngine.load({ ...opts, target: { url: "http://127.0.0.1:9", timeoutMs: 2000 } }), (e: Error) => e instanceof RemoteTargetError && /unreachable/.test(e.message));
    // An OpenAI-compatible server that answers completions without prompt_logprobs (as llama.cpp's does).
    const plain = createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      if (req.url === "/v1/models") res.end(JSON.stringify({ data: [{ id: "m" }] }));
      else res.end(JSON.stringify({ choices: [{ text: "x", index: 0 }] }));
    });
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", () => r()));
    try {
      const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
      await assert.rejects(RemoteEngine.load({ ...opts, target: { url } }), (e: Error) => e instanceof RemoteTargetError && /no prompt log-probabilities/.test(e.message) && /raw_logprobs/.test(e.message));
    } finally {
      plain.close();
    }
  });
});
