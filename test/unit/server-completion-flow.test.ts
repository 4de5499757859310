// Both generation endpoints over a scripted generation service (no model): the exact JSON bodies,
// the SSE framing and chunk order (chat's role chunk, completion logprob offsets, usage), what the
// service is asked to generate, and errors before and inside a stream.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import type { Vocabulary } from "../../src/backend/types.ts";
import { ApiRequestError } from "../../src/errors.ts";
import type { Engine } from "../../src/generate/engine.ts";
import type { GenerationResult } from "../../src/generate/types.ts";
import { registerChatCompletions } from "../../src/server/chat-completions.ts";
import type { ChatRenderer } from "../../src/server/chat-template.ts";
import { registerCompletions } from "../../src/server/completions.ts";
import type { ServerConfig } from "../../src/server/config.ts";
import type { RouteDeps } from "../../src/server/deps.ts";
import { toHttpFailure } from "../../src/server/errors.ts";
import type { GenerationJob, GenerationOutcome, GenerationService } from "../../src/server/generation.ts";

const config: ServerConfig = {
  host: "127.0.0.1",
  port: 0,
  modelName: "tiny",
  parallel: 4,
  queue: 2,
  maxTokensCap: 16,
  defaultMaxTokens: 4,
  maxN: 4,
  bodyLimit: 1 << 16,
  apiKeys: [],
  corsOrigins: [],
  shutdownTimeoutMs: 1000,
  defaults: { strategy: "target", threshold: 0.3, mode: "reference", alpha: 0.5, temperature: 0.4, topP: 0.95, topK: 50, speculative: false },
};

// Token i decodes to "t<i>" (token 9 to an incomplete UTF-8 piece).
const vocab = {
  size: 100,
  tokenBytes: (id: number) => (id === 9 ? new Uint8Array([0xe2, 0x82]) : new TextEncoder().encode(`t${id}`)),
} as unknown as Vocabulary;

/** Per sample: the token events it streams (text may be empty) and how it ends. */
interface Script {
  tokens: { token: number; text: string; logprob: number }[];
  finish: GenerationResult["finishReason"];
}

function result(sample: number, s: Script): GenerationResult {
  return {
    sample,
    seed: 5,
    text: s.tokens.map((t) => t.text).join(""),
    tokens: s.tokens.map((t) => t.token),
    sources: s.tokens.map(() => "target"),
    logprobs: s.tokens.map((t) => t.logprob),
    finishReason: s.finish,
    acceptanceRate: null,
    timing: { promptTokens: 3, cachedPromptTokens: 0, promptMs: 1, generatedTokens: s.tokens.length, generateMs: 1, promptTokensPerSecond: 1, tokensPerSecond: 1 },
  };
}

/** A generation service that plays `scripts` (one per sample), or fails after `failAfter` events. */
function scripted(scripts: Script[], opts: { failAfter?: number } = {}) {
  const jobs: GenerationJob[] = [];
  const service = {
    async run(job: GenerationJob): Promise<GenerationOutcome> {
      jobs.push(job);
      let events = 0;
      const choices = [];
      for (let p = 0; p < job.prompts.length; p++) {
        for (let s = 0; s < job.request.n; s++) {
          const script = scripts[s];
          for (const t of script.tokens) {
            if (events++ === opts.failAfter) throw new ApiRequestError(503, "the server shut down before this generation finished", null, "shutting_down", "server_error");
            job.onToken?.(p * job.request.n + s, { sample: s, token: t.token, text: t.text, source: "target", logprob: t.logprob });
          }
          choices.push({ index: p * job.request.n + s, result: result(s, script) });
        }
      }
      choices.reverse(); // the endpoints must answer in index order whatever order choices finish in
      const completionTokens = choices.reduce((a, c) => a + c.result.tokens.length, 0);
      return { choices, promptTokens: 3 * job.prompts.length, completionTokens, acceptanceRate: null };
    },
  };
  return { jobs, service: service as unknown as GenerationService };
}

function app(generation: GenerationService): FastifyInstance {
  // Validation as the real app configures it (no type coercion).
  const server = Fastify({ ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } } });
  server.setErrorHandler((err, _request, reply) => {
    const failure = toHttpFailure(err);
    reply.code(failure.status).send(failure.body);
  });
  const deps: RouteDeps = {
    engine: { target: { vocab } } as unknown as Engine,
    context: { config, hasExpert: false },
    generation,
    chat: { name: "Fake", render: () => ({ tokens: [1, 2, 3], stop: ["</s>"] }) } as unknown as ChatRenderer,
    requestSignal: () => new AbortController().signal,
    arrivedAt: () => 0,
    abortedError: () => new Error("aborted"),
    streamError(sse, err) {
      sse.send({ error: toHttpFailure(err).body.error });
      sse.done();
    },
  };
  registerCompletions(server, deps);
  registerChatCompletions(server, deps);
  return server;
}

const TWO: Script[] = [
  { tokens: [{ token: 4, text: "t4", logprob: -0.5 }, { token: 9, text: "", logprob: -1 }, { token: 7, text: "€", logprob: -2 }], finish: "eos" },
  { tokens: [{ token: 5, text: "t5", logprob: -0.25 }], finish: "length" },
];

/** The body with the random id and the clock replaced, as text (field order is part of the API). */
function normalized(text: string): string {
  return text.replace(/"id":"(cmpl|chatcmpl)-[0-9a-f]{24}"/g, '"id":"$1-X"').replace(/"created":\d+/g, '"created":0');
}

function events(payload: string): string[] {
  assert.ok(payload.endsWith("data: [DONE]\n\n"), payload);
  const parts = payload.split("\n\n");
  assert.deepEqual(parts.splice(-2), ["data: [DONE]", ""]);
  for (const p of parts) assert.ok(p.startsWith("data: "), p);
  return parts.map((p) => normalized(p.slice("data: ".length)));
}

describe("completion endpoints over a scripted generation", () => {
  test("completions: the JSON body, with the chosen tokens' logprobs and text offsets", async () => {
    const { jobs, service } = scripted(TWO);
    const res = await app(service).inject({ method: "POST", url: "/v1/completions", payload: { prompt: "hi", n: 2, logprobs: 0, seed: 5 } });
    assert.equal(res.statusCode, 200);
    const choice0 =
      '{"index":0,"text":"t4€","logprobs":{"tokens":["t4","\uFFFD","t7"],"token_logprobs":[-0.5,-1,-2],"top_logprobs":null,"text_offset":[0,2,3]},' +
      '"finish_reason":"stop","cosec":{"acceptance_rate":null,"finish_reason":"eos","tokens_by_source":{"expert":0,"target":3,"mixed":0}}}';
    const choice1 =
      '{"index":1,"text":"t5","logprobs":{"tokens":["t5"],"token_logprobs":[-0.25],"top_logprobs":null,"text_offset":[0]},' +
      '"finish_reason":"length","cosec":{"acceptance_rate":null,"finish_reason":"length","tokens_by_source":{"expert":0,"target":1,"mixed":0}}}';
    assert.equal(
      normalized(res.body),
      `{"id":"cmpl-X","object":"text_completion","created":0,"model":"tiny","choices":[${choice0},${choice1}],` +
        '"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7},"cosec":{"strategy":"target","acceptance_rate":null,"seed":5}}',
    );
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].endpoint, "completions");
    assert.equal(jobs[0].promptField, "prompt");
    assert.deepEqual(jobs[0].prompts, ["hi"]);
  });

  test("completions: a stream of text chunks, finish chunks with the report, usage, [DONE]", async () => {
    const { service } = scripted(TWO);
    const res = await app(service).inject({
      method: "POST",
      url: "/v1/completions",
      payload: { prompt: ["a", "b"], logprobs: 0, stream: true, stream_options: { include_usage: true }, seed: 5 },
    });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^text\/event-stream/);
    const head = '{"id":"cmpl-X","object":"text_completion","created":0,"model":"tiny","choices":';
    const tok = (index: number, text: string, token: string, logprob: number, at: number) =>
      `${head}[{"index":${index},"text":"${text}","logprobs":{"tokens":["${token}"],"token_logprobs":[${logprob}],"top_logprobs":null,"text_offset":[${at}]},"finish_reason":null}]}`;
    const fin = (index: number) =>
      `${head}[{"index":${index},"text":"","logprobs":null,"finish_reason":"stop","cosec":{"acceptance_rate":null,"finish_reason":"eos","tokens_by_source":{"expert":0,"target":3,"mixed":0}}}]}`;
    // Two prompts, one sample each: choice i is prompt i; offsets restart per choice.
    const perPrompt = (i: number) => [tok(i, "t4", "t4", -0.5, 0), tok(i, "", "\uFFFD", -1, 2), tok(i, "€", "t7", -2, 3)];
    assert.deepEqual(events(res.payload), [
      ...perPrompt(0),
      ...perPrompt(1),
      fin(0),
      fin(1),
      `${head}[],"usage":{"prompt_tokens":6,"completion_tokens":6,"total_tokens":12},"cosec":{"strategy":"target","acceptance_rate":null,"seed":5}}`,
    ]);
  });

  test("completions: without logprobs, events without text are not sent", async () => {
    const { service } = scripted([TWO[0]]);
    const res = await app(service).inject({ method: "POST", url: "/v1/completions", payload: { prompt: "hi", stream: true, seed: 5 } });
    const texts = events(res.payload).map((e) => (JSON.parse(e) as { choices: { text: string }[] }).choices[0].text);
    assert.deepEqual(texts, ["t4", "€", ""]);
  });

  test("chat: the JSON body names the assistant message and the chat template; the rendered prompt and its stops go to generation", async () => {
    const { jobs, service } = scripted(TWO);
    const res = await app(service).inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: { messages: [{ role: "user", content: "hi" }], n: 2, stop: "END", seed: 5 },
    });
    assert.equal(res.statusCode, 200);
    const choice = (index: number, text: string, finish: string, reason: string, count: number) =>
      `{"index":${index},"message":{"role":"assistant","content":"${text}","refusal":null},"logprobs":null,"finish_reason":"${finish}",` +
      `"cosec":{"acceptance_rate":null,"finish_reason":"${reason}","tokens_by_source":{"expert":0,"target":${count},"mixed":0}}}`;
    assert.equal(
      normalized(res.body),
      '{"id":"chatcmpl-X","object":"chat.completion","created":0,"model":"tiny","system_fingerprint":null,' +
        `"choices":[${choice(0, "t4€", "stop", "eos", 3)},${choice(1, "t5", "length", "length", 1)}],` +
        '"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7},"cosec":{"strategy":"target","acceptance_rate":null,"seed":5,"chat_template":"Fake"}}',
    );
    assert.equal(jobs[0].endpoint, "chat");
    assert.equal(jobs[0].promptField, "messages");
    assert.deepEqual(jobs[0].prompts, [[1, 2, 3]]);
    assert.deepEqual(jobs[0].request.generate.stop, ["END", "</s>"]);
  });

  test("chat: content logprobs carry each token's bytes", async () => {
    const { service } = scripted([TWO[1]]);
    const res = await app(service).inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: [{ role: "user", content: "hi" }], logprobs: true } });
    const body = JSON.parse(res.body) as { choices: { logprobs: unknown }[] };
    assert.deepEqual(body.choices[0].logprobs, { content: [{ token: "t5", logprob: -0.25, bytes: [0x74, 0x35], top_logprobs: [] }] });
  });

  test("chat: each choice's stream opens with the assistant role, also a choice that streamed no text", async () => {
    const silent: Script = { tokens: [{ token: 9, text: "", logprob: -1 }], finish: "length" };
    const { service } = scripted([TWO[1], silent]);
    const res = await app(service).inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: { messages: [{ role: "user", content: "hi" }], n: 2, stream: true, stream_options: { include_usage: true }, seed: 5 },
    });
    const head = '{"id":"chatcmpl-X","object":"chat.completion.chunk","created":0,"model":"tiny","system_fingerprint":null,"choices":';
    const role = (i: number) => `${head}[{"index":${i},"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`;
    const fin = (i: number, count: number) =>
      `${head}[{"index":${i},"delta":{},"logprobs":null,"finish_reason":"length","cosec":{"acceptance_rate":null,"finish_reason":"length","tokens_by_source":{"expert":0,"target":${count},"mixed":0}}}]}`;
    assert.deepEqual(events(res.payload), [
      role(0),
      `${head}[{"index":0,"delta":{"content":"t5"},"logprobs":null,"finish_reason":null}]}`,
      fin(0, 1),
      role(1),
      fin(1, 1),
      `${head}[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5},"cosec":{"strategy":"target","acceptance_rate":null,"seed":5}}`,
    ]);
  });

  test("an error inside a started stream becomes an error event and ends the stream", async () => {
    const { service } = scripted(TWO, { failAfter: 1 });
    for (const [url, payload] of [
      ["/v1/completions", { prompt: "hi", stream: true }],
      ["/v1/chat/completions", { messages: [{ role: "user", content: "hi" }], stream: true }],
    ] as const) {
      const res = await app(service).inject({ method: "POST", url, payload });
      assert.equal(res.statusCode, 200);
      const last = events(res.payload).at(-1)!;
      assert.equal(
        last,
        '{"error":{"message":"the server shut down before this generation finished","type":"server_error","param":null,"code":"shutting_down"}}',
      );
    }
  });

  test("an error before the first chunk is an ordinary error response", async () => {
    const { service } = scripted(TWO, { failAfter: 0 });
    for (const [url, payload] of [
      ["/v1/completions", { prompt: "hi", stream: true }],
      ["/v1/chat/completions", { messages: [{ role: "user", content: "hi" }], stream: true }],
    ] as const) {
      const res = await app(service).inject({ method: "POST", url, payload });
      assert.equal(res.statusCode, 503);
      assert.match(String(res.headers["content-type"]), /application\/json/);
      assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, "shutting_down");
    }
  });

  test("requests refused before generation are not sent to it", async () => {
    const { jobs, service } = scripted(TWO);
    const server = app(service);
    const badToken = await server.inject({ method: "POST", url: "/v1/completions", payload: { prompt: [1, 100] } });
    assert.equal(badToken.statusCode, 400);
    assert.equal((JSON.parse(badToken.body) as { error: { param: string } }).error.param, "prompt[1]");
    const echo = await server.inject({ method: "POST", url: "/v1/completions", payload: { prompt: "hi", echo: true } });
    assert.equal((JSON.parse(echo.body) as { error: { code: string } }).error.code, "unsupported_parameter");
    const both = await server.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: { messages: [{ role: "user", content: "hi" }], max_tokens: 2, max_completion_tokens: 3 },
    });
    assert.equal((JSON.parse(both.body) as { error: { param: string } }).error.param, "max_completion_tokens");
    assert.equal(jobs.length, 0);
  });
});
