// Co-decoding with a remote target over HTTP: the project's own `cosec serve` (target only) is the
// OpenAI-compatible server, the fixture expert with its LoRA decodes locally. The rule's two ends
// are checked against the local engine: a threshold of 0 keeps every expert proposal (the output is
// the local expert's, token for token), a threshold of 1 keeps none (every token drawn by the
// server). A server that is unreachable or returns no prompt log-probabilities is a named error
// at connect time.
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
