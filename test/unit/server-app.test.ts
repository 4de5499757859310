// The server in-process (Fastify inject) over a real target-only engine on the fixture model:
// chat templates, CORS on/off, a target-only server refusing co-decoding strategies.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Engine } from "../../src/generate/engine.ts";
import { createServer } from "../../src/server/app.ts";
import { ChatRenderer } from "../../src/server/chat-template.ts";
import type { ServerConfig } from "../../src/server/config.ts";
import { sseData } from "../e2e/server-harness.ts";
import { repoRoot, venvPython } from "../../src/paths.ts";
import { ensureFixtures } from "../helpers/fixtures.ts";

const CHATML = `{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}`;

let engine: Engine;
let target: string;
let fixtures: Awaited<ReturnType<typeof ensureFixtures>>;

function config(over: Partial<ServerConfig> = {}): ServerConfig {
  return {
    host: "127.0.0.1",
    port: 0,
    modelName: "tiny",
    parallel: 1,
    queue: 2,
    maxTokensCap: 16,
    defaultMaxTokens: 4,
    maxN: 1,
    bodyLimit: 1 << 16,
    apiKeys: [],
    corsOrigins: [],
    shutdownTimeoutMs: 1000,
    defaults: { strategy: "target", threshold: 0.3, mode: "reference", alpha: 0.5, temperature: 0.4, topP: 0.95, topK: 50, speculative: false },
    ...over,
  };
}

describe("server app in-process", () => {
  before(async () => {
    fixtures = await ensureFixtures();
    target = fixtures.targetLlama;
    engine = await Engine.load({ target, maxSequences: 1, contextSize: 256, gpu: "cpu" });
  });
  after(async () => {
    await engine?.dispose();
  });

  test("a model without a chat template gets the general template; its stop triggers become stop strings", async () => {
    const chat = await ChatRenderer.forModel(target, engine.tokenizer, engine.target.vocab);
    assert.equal(chat.name, "General");
    const r = chat.render([
      { role: "system", content: "Be careful." },
      { role: "user", content: [{ type: "text", text: "Hello" }] },
    ]);
    const text = engine.tokenizer.detokenize(r.tokens);
    assert.ok(text.includes("Be careful.") && text.includes("Hello"), text);
    assert.ok(text.indexOf("Be careful.") < text.indexOf("Hello"));
    assert.ok(r.stop.some((s) => s.includes("### Human")), JSON.stringify(r.stop));
  });

  test("a Jinja template renders the history; its special-token terminator becomes a stop string", async () => {
    const chat = await ChatRenderer.forModel(target, engine.tokenizer, engine.target.vocab, CHATML);
    const r = chat.render([
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "Sort a list" },
    ]);
    const text = engine.tokenizer.detokenize(r.tokens);
    assert.equal(text, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nSort a list<|im_end|>\n<|im_start|>assistant\n");
    assert.ok(r.stop.includes("<|im_end|>"), JSON.stringify(r.stop));
    await assert.rejects(ChatRenderer.forModel(target, engine.tokenizer, engine.target.vocab, "{% for %}"), /chat-template/);
  });

  test("a GGUF's own tokenizer.chat_template is used", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cosec-chat-"));
    try {
      // Only the file's metadata is read for the template, so the small adapter GGUF carries it
      // (re-writing the 50k-token vocabulary of a model file takes the Python tool ~10 s).
      const withTemplate = join(dir, "with-chat-template.gguf");
      const template = `{% for m in messages %}[[{{ m.role }}]] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[[assistant]] {% endif %}`;
      // The gguf package's own tool copies the model with the template added to its metadata.
      const r = spawnSync(venvPython(), ["-m", "gguf.scripts.gguf_new_metadata", "--chat-template", template, "--force", fixtures.expertLlamaLora, withTemplate], {
        cwd: repoRoot,
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
      const chat = await ChatRenderer.forModel(withTemplate, engine.tokenizer, engine.target.vocab);
      assert.notEqual(chat.name, "General");
      const text = engine.tokenizer.detokenize(chat.render([{ role: "system", content: "S" }, { role: "user", content: "U" }]).tokens);
      assert.equal(text, "[[system]] S\n[[user]] U\n[[assistant]] ");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("CORS is off unless configured; configured origins get the headers", async () => {
    const chat = await ChatRenderer.forModel(target, engine.tokenizer, engine.target.vocab);
    const preflight = { method: "OPTIONS" as const, url: "/v1/completions", headers: { origin: "https://ide.example", "access-control-request-method": "POST" } };
    const closed = await createServer({ engine, config: config(), chat });
    const r1 = await closed.app.inject(preflight);
    assert.equal(r1.headers["access-control-allow-origin"], undefined);
    await closed.app.close();

    const open = await createServer({ engine, config: config({ corsOrigins: ["https://ide.example"], apiKeys: ["k"] }), chat });
    const r2 = await open.app.inject(preflight);
    assert.equal(r2.headers["access-control-allow-origin"], "https://ide.example");
    const other = await open.app.inject({ ...preflight, headers: { ...preflight.headers, origin: "https://evil.example" } });
    assert.notEqual(other.headers["access-control-allow-origin"], "https://evil.example");
    // A preflight needs no key, the request itself does.
    const unauth = await open.app.inject({ method: "POST", url: "/v1/completions", headers: { origin: "https://ide.example" }, payload: { prompt: "x" } });
    assert.equal(unauth.statusCode, 401);
    await open.app.close();
  });

  test("drain past its deadline aborts a running stream with an error event, then closes", async () => {
    const chat = await ChatRenderer.forModel(target, engine.tokenizer, engine.target.vocab);
    const s = await createServer({ engine, config: config({ maxTokensCap: 240 }), chat });
    const url = await s.app.listen({ host: "127.0.0.1", port: 0 });
    const res = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "x", max_tokens: 240, stream: true }),
    });
    const events = sseData(res);
    assert.equal((await events.next()).done, false);
    const drained = s.drain(50);
    const rest: string[] = [];
    for await (const d of events) rest.push(d);
    await drained;
    assert.equal(rest.at(-1), "[DONE]");
    const err = JSON.parse(rest.at(-2)!) as { error: { code: string } };
    assert.equal(err.error.code, "shutting_down");
    assert.ok(rest.length < 200, `the stream was cut short (${rest.length} events)`);
    assert.equal(s.scheduler.active, 0);
  });

  test("a target-only server generates with the target and refuses co-decoding strategies", async () => {
    const chat = await ChatRenderer.forModel(target, engine.tokenizer, engine.target.vocab);
    const s = await createServer({ engine, config: config(), chat });
    const ok = await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: [{ role: "user", content: "hi" }], seed: 1 } });
    assert.equal(ok.statusCode, 200, ok.body);
    const body = ok.json() as { choices: { message: { content: string } }[]; usage: { completion_tokens: number }; cosec: { acceptance_rate: null; chat_template: string } };
    assert.ok(body.usage.completion_tokens >= 1 && body.usage.completion_tokens <= 4);
    assert.equal(body.cosec.acceptance_rate, null);
    assert.equal(body.cosec.chat_template, "General");
    const no = await s.app.inject({ method: "POST", url: "/v1/completions", payload: { prompt: "x", cosec: { strategy: "cosec-plus" } } });
    assert.equal(no.statusCode, 400);
    assert.equal((no.json() as { error: { param: string } }).error.param, "cosec.strategy");
    const missing = await s.app.inject({ method: "GET", url: "/v1/nothing" });
    assert.equal(missing.statusCode, 404);
    assert.equal((missing.json() as { error: { code: string } }).error.code, "unknown_url");
    await s.app.close();
  });
});
