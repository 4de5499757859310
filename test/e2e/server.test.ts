// `cosec serve` against the official `openai` client, unchanged: a real server process on loopback
// with the fixture models (random weights: the text is gibberish, but deterministic per seed).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { sseData, startServer, type ServerProcess } from "./server-harness.ts";

const KEY = "sk-cosec-test-1";
const KEY2 = "sk-cosec-test-2";
let server: ServerProcess;
let client: OpenAI;
let model: string;

async function expectApiError(p: Promise<unknown>, status: number): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof OpenAI.APIError, `expected an APIError, got ${String(err)}`);
    assert.equal(err.status, status, `status of ${err.message}`);
    return err;
  }
  assert.fail(`expected HTTP ${status}, the request succeeded`);
}

describe("cosec serve with the openai client", () => {
  before(async () => {
    server = await startServer(["--api-key", KEY, "--parallel", "2", "--max-tokens", "64", "--body-limit", "65536", "--context-size", "512"], {
      COSEC_API_KEYS: KEY2,
    });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY, maxRetries: 0 });
    model = (await client.models.list()).data[0].id;
  });

  after(async () => {
    const code = await server?.stop();
    assert.equal(code, 0, server?.output());
    // Every failure above was the client's: the server logged no error of its own.
    assert.doesNotMatch(server.output(), /"level":(50|60)/);
  });

  test("GET /v1/models names the served model; unknown models are 404", async () => {
    assert.equal(model, "target-llama");
    const m = await client.models.retrieve(model);
    assert.equal(m.id, model);
    const err = await expectApiError(client.completions.create({ model: "gpt-4", prompt: "x", max_tokens: 1 }), 404);
    assert.equal(err.code, "model_not_found");
  });

  test("completion: text, usage and acceptance rate", async () => {
    const r = await client.completions.create({ model, prompt: "def add(a, b):", max_tokens: 8, seed: 11 });
    assert.equal(r.object, "text_completion");
    assert.equal(r.choices.length, 1);
    assert.equal(typeof r.choices[0].text, "string");
    assert.ok(r.choices[0].text.length > 0);
    assert.ok(["length", "stop"].includes(r.choices[0].finish_reason));
    assert.ok(r.usage!.prompt_tokens > 0);
    assert.ok(r.usage!.completion_tokens >= 1 && r.usage!.completion_tokens <= 8);
    assert.equal(r.usage!.total_tokens, r.usage!.prompt_tokens + r.usage!.completion_tokens);
    const ext = (r as unknown as { cosec: { strategy: string; acceptance_rate: number | null; seed: number } }).cosec;
    assert.equal(ext.strategy, "cosec-plus");
    assert.equal(ext.seed, 11);
    assert.ok(typeof ext.acceptance_rate === "number" && ext.acceptance_rate >= 0 && ext.acceptance_rate <= 1);
  });

  test("seed reproducibility: same seed same text, other seed other text", async () => {
    const ask = (seed: number) => client.completions.create({ model, prompt: "import os\n", max_tokens: 12, seed, temperature: 0.8 });
    const [a, b, c] = await Promise.all([ask(5), ask(5), ask(6)]);
    assert.equal(a.choices[0].text, b.choices[0].text);
    assert.notEqual(a.choices[0].text, c.choices[0].text);
  });

  test("n > 1 returns n distinct indexed choices; n above the cap is refused", async () => {
    const r = await client.completions.create({ model, prompt: "x = ", max_tokens: 6, n: 2, seed: 3 });
    assert.deepEqual(
      r.choices.map((c) => c.index),
      [0, 1],
    );
    assert.notEqual(r.choices[0].text, r.choices[1].text);
    const err = await expectApiError(client.completions.create({ model, prompt: "x", max_tokens: 1, n: 3 }), 400);
    assert.equal(err.param, "n");
    assert.match(err.message, /n: must be at most 2/);
  });

  test("prompt arrays: several prompts get n choices each; token-id prompts are checked against the vocabulary", async () => {
    const r = await client.completions.create({ model, prompt: ["a = 1", "b = 2"], max_tokens: 3, n: 2, seed: 1 });
    assert.deepEqual(
      r.choices.map((c) => c.index),
      [0, 1, 2, 3],
    );
    const byIds = await client.completions.create({ model, prompt: [1, 2, 3], max_tokens: 3, seed: 1 });
    assert.equal(byIds.usage!.prompt_tokens, 3);
    const err = await expectApiError(client.completions.create({ model, prompt: [1, 99_999_999], max_tokens: 1 }), 400);
    assert.equal(err.param, "prompt[1]");
  });

  test("stop: output ends before the first stop string", async () => {
    const base = { model, prompt: "while True:", max_tokens: 24, seed: 21 };
    const full = (await client.completions.create(base)).choices[0].text;
    assert.ok(full.length >= 8, `need a longer sample: ${JSON.stringify(full)}`);
    const stop = full.slice(4, 7);
    const cut = await client.completions.create({ ...base, stop: [stop, "\u0000never"] });
    assert.equal(cut.choices[0].text, full.slice(0, full.indexOf(stop)));
    assert.equal(cut.choices[0].finish_reason, "stop");
  });

  test("streaming completion: chunks add up to the non-streamed text, then [DONE]", async () => {
    const base = { model, prompt: "class A:", max_tokens: 10, seed: 8 };
    const whole = (await client.completions.create(base)).choices[0].text;
    const stream = await client.completions.create({ ...base, stream: true });
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        text += c.text;
        finish = c.finish_reason ?? finish;
      }
    }
    assert.equal(text, whole);
    assert.equal(finish, "length");
    // The raw wire format ends with OpenAI's terminator.
    const res = await fetch(`${server.url}/v1/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ ...base, stream: true }),
    });
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const events: string[] = [];
    for await (const d of sseData(res)) events.push(d);
    assert.equal(events.at(-1), "[DONE]");
    assert.equal(JSON.parse(events[0]).object, "text_completion");
  });

  test("chat completion through the chat template, streamed and not", async () => {
    const messages = [
      { role: "system" as const, content: "You write secure code." },
      { role: "user" as const, content: "Write a function that reads a file." },
    ];
    const r = await client.chat.completions.create({ model, messages, max_tokens: 8, seed: 4, logprobs: true });
    assert.equal(r.object, "chat.completion");
    assert.equal(r.choices[0].message.role, "assistant");
    const content = r.choices[0].message.content ?? "";
    assert.ok(r.usage!.prompt_tokens > 10, "the rendered history is longer than the messages' words");
    assert.equal(r.choices[0].logprobs!.content!.length, r.usage!.completion_tokens);
    assert.ok(r.choices[0].logprobs!.content!.every((t) => t.logprob <= 0));

    const stream = await client.chat.completions.create({ model, messages, max_tokens: 8, seed: 4, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let role: string | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        role ??= c.delta.role;
        text += c.delta.content ?? "";
      }
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(role, "assistant");
    assert.equal(text, content);
    assert.deepEqual(usage, r.usage);
  });

  test("cosec extension: speculative decoding gives the sequential output; target strategy has no acceptance", async () => {
    const base = { model, prompt: "SELECT * FROM", max_tokens: 16, seed: 9 };
    const seq = await client.completions.create({ ...base, cosec: { speculative: false } } as OpenAI.CompletionCreateParamsNonStreaming);
    const spec = await client.completions.create({ ...base, cosec: { speculative: true, draft_max: 3 } } as OpenAI.CompletionCreateParamsNonStreaming);
    assert.equal(spec.choices[0].text, seq.choices[0].text);
    assert.ok((spec as unknown as { cosec: { speculative?: { rounds: number } } }).cosec.speculative!.rounds > 0);
    const target = await client.completions.create({ ...base, cosec: { strategy: "target" } } as OpenAI.CompletionCreateParamsNonStreaming);
    assert.equal((target as unknown as { cosec: { acceptance_rate: null } }).cosec.acceptance_rate, null);
    const expert = await client.completions.create({ ...base, cosec: { strategy: "expert" } } as OpenAI.CompletionCreateParamsNonStreaming);
    assert.equal((expert as unknown as { cosec: { acceptance_rate: number } }).cosec.acceptance_rate, 1);
    // threshold 0 keeps every expert proposal (min(1, p_t/p_e) > 0 whenever the target allows it).
    const keepAll = await client.completions.create({ ...base, cosec: { threshold: 0 } } as OpenAI.CompletionCreateParamsNonStreaming);
    assert.ok((keepAll as unknown as { cosec: { acceptance_rate: number } }).cosec.acceptance_rate > 0.5);
    const err = await expectApiError(
      client.completions.create({ ...base, cosec: { strategy: "nope" } } as OpenAI.CompletionCreateParamsNonStreaming),
      400,
    );
    assert.equal(err.param, "cosec.strategy");
  });

  test("invalid fields get a 400 in OpenAI's error shape naming the field", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ prompt: "x", max_tokens: -1 }, "max_tokens"],
      [{ prompt: "x", max_tokens: 65 }, "max_tokens"],
      [{ prompt: "x", temperature: 5 }, "temperature"],
      [{ prompt: "x", top_p: 0 }, "top_p"],
      [{ prompt: "x", max_tokens: "8" }, "max_tokens"],
      [{ prompt: 42 }, "prompt"],
      [{ prompt: "x", stop: ["a", "b", "c", "d", "e"] }, "stop"],
      [{ prompt: "x", frobnicate: true }, "frobnicate"],
      [{ prompt: "x", presence_penalty: 1 }, "presence_penalty"],
      [{ max_tokens: 3 }, "prompt"],
      [{ prompt: "word ".repeat(600), max_tokens: 1 }, "prompt"],
    ];
    for (const [body, param] of cases) {
      const err = await expectApiError(client.completions.create({ model, ...body } as unknown as OpenAI.CompletionCreateParamsNonStreaming), 400);
      assert.equal(err.param, param, `${JSON.stringify(body)} → ${err.message}`);
      assert.equal(err.type, "invalid_request_error");
      assert.ok(err.message.includes(param), err.message);
    }
    const chatErr = await expectApiError(
      client.chat.completions.create({ model, messages: [{ role: "tool", content: "x" }] } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming),
      400,
    );
    assert.equal(chatErr.param, "messages[0].role");
  });

  test("malformed JSON and oversized bodies are 4xx with the error shape", async () => {
    const post = (body: string) =>
      fetch(`${server.url}/v1/completions`, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body });
    const bad = await post("{not json");
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { type: string } }).error.type, "invalid_request_error");
    const big = await post(JSON.stringify({ prompt: "x".repeat(70_000) }));
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { error: { code: string } }).error.code, "body_too_large");
  });

  test("401 without a key or with a wrong one; every configured key works", async () => {
    const noKey = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "", maxRetries: 0 });
    const err = await expectApiError(noKey.models.list(), 401);
    assert.equal(err.code, "invalid_api_key");
    const wrong = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "sk-cosec-test-3", maxRetries: 0 });
    await expectApiError(wrong.completions.create({ model, prompt: "x", max_tokens: 1 }), 401);
    const second = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY2, maxRetries: 0 });
    assert.equal((await second.models.list()).data[0].id, model);
    const metrics = await fetch(`${server.url}/metrics`);
    assert.equal(metrics.status, 401);
  });

  test("GET /health is open; GET /metrics reports requests, tokens, queue and latency", async () => {
    const health = (await (await fetch(`${server.url}/health`)).json()) as { status: string; sequences: { total: number } };
    assert.equal(health.status, "ok");
    assert.equal(health.sequences.total, 2);
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /cosec_requests_total\{endpoint="\/v1\/completions",status="200"\} \d+/);
    assert.match(text, /cosec_requests_total\{endpoint="\/v1\/completions",status="400"\} \d+/);
    assert.match(text, /cosec_tokens_total\{kind="completion"\} [1-9]\d*/);
    assert.match(text, /cosec_queue_depth 0/);
    assert.match(text, /cosec_acceptance_rate_count [1-9]/);
    assert.match(text, /cosec_time_to_first_token_seconds_bucket\{le="[^"]+",endpoint="chat"\}/);
    assert.match(text, /cosec_time_per_output_token_seconds_count\{endpoint="completions"\} [1-9]/);
  });
});
