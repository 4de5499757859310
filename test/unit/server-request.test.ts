// Pure request handling of the server: API keys, error mapping, request → engine options, flags.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseServeArgs } from "../../src/cli/serve.ts";
import { ApiRequestError, ContextOverflowError, InvalidArgumentError, StrategyError } from "../../src/errors.ts";
import { ApiKeyChecker, collectApiKeys } from "../../src/server/auth.ts";
import { SERVER_DEFAULTS, type ServerConfig } from "../../src/server/config.ts";
import { fieldPath, toHttpFailure, validationError } from "../../src/server/errors.ts";
import { resolveRequest } from "../../src/server/request-options.ts";
import type { DecodingSettings } from "../../src/decoding/settings.ts";

test("API keys: flags plus COSEC_API_KEYS, bearer parsing, constant-time acceptance", () => {
  assert.deepEqual(collectApiKeys(["a", "b"], "c, d\ne,,a"), ["a", "b", "c", "d", "e"]);
  const k = new ApiKeyChecker(["sk-one", "sk-two"]);
  assert.ok(k.enabled);
  assert.ok(k.accepts("sk-two"));
  assert.ok(!k.accepts("sk-tw"));
  assert.ok(!k.accepts(""));
  assert.ok(!k.accepts(null));
  assert.equal(ApiKeyChecker.bearer("Bearer sk-one"), "sk-one");
  assert.equal(ApiKeyChecker.bearer("bearer   sk-one "), "sk-one");
  assert.equal(ApiKeyChecker.bearer("Basic abc"), null);
  assert.equal(ApiKeyChecker.bearer(undefined), null);
  assert.ok(new ApiKeyChecker([]).accepts(null), "no keys configured: open");
});

test("validation errors name the field in OpenAI's shape", () => {
  assert.equal(fieldPath("/messages/0/role"), "messages[0].role");
  assert.equal(fieldPath("", "prompt"), "prompt");
  const cases: [Parameters<typeof validationError>[0], string, RegExp][] = [
    [[{ instancePath: "", keyword: "required", params: { missingProperty: "prompt" } }], "prompt", /prompt: is required/],
    [[{ instancePath: "/cosec", keyword: "additionalProperties", params: { additionalProperty: "x" } }], "cosec.x", /not a recognized field/],
    [[{ instancePath: "/n", keyword: "type", params: { type: "integer,null" } }], "n", /n: must be integer or null/],
    [[{ instancePath: "/prompt/0", keyword: "type", params: {} }, { instancePath: "/prompt", keyword: "anyOf", params: {} }], "prompt", /array of token ids/],
    [[{ instancePath: "/temperature", keyword: "maximum", params: {}, message: "must be <= 2" }], "temperature", /temperature: must be <= 2/],
  ];
  for (const [errors, param, message] of cases) {
    const e = validationError(errors);
    assert.equal(e.param, param);
    assert.match(e.message, message);
    const f = toHttpFailure({ validation: errors });
    assert.equal(f.status, 400);
    assert.deepEqual(Object.keys(f.body.error), ["message", "type", "param", "code"]);
  }
});

test("engine errors map to 4xx, unknown errors to a bare 500", () => {
  assert.equal(toHttpFailure(new InvalidArgumentError("seed", "bad")).body.error.param, "seed");
  assert.equal(toHttpFailure(new ContextOverflowError("too long")).body.error.code, "context_length_exceeded");
  assert.equal(toHttpFailure(new StrategyError("no")).body.error.param, "cosec.strategy");
  const tooBig = toHttpFailure(Object.assign(new Error("Request body is too large"), { statusCode: 413, code: "FST_ERR_CTP_BODY_TOO_LARGE" }));
  assert.equal(tooBig.status, 413);
  assert.equal(tooBig.body.error.code, "body_too_large");
  const internal = toHttpFailure(new Error("secret path /x/y"));
  assert.equal(internal.status, 500);
  assert.ok(!internal.body.error.message.includes("secret"), "internal details stay in the log");
});

function config(over: Partial<ServerConfig> = {}): ServerConfig {
  return {
    host: "127.0.0.1",
    port: 0,
    modelName: "m",
    parallel: 4,
    queue: 8,
    maxTokensCap: 100,
    defaultMaxTokens: 20,
    maxN: 3,
    bodyLimit: 1 << 20,
    apiKeys: [],
    corsOrigins: [],
    shutdownTimeoutMs: 1000,
    defaults: { strategy: "cosec-plus", threshold: 0.3, mode: "reference", alpha: 0.5, temperature: 0.4, topP: 0.95, topK: 50, speculative: false },
    ...over,
  };
}

test("request → engine options: defaults, extension, caps and refusals", () => {
  const ctx = { config: config(), hasExpert: true };
  const r = resolveRequest({ seed: 7, temperature: 0, stop: "\n", cosec: { threshold: 0.5, expert_top_p: 0.8, speculative: true, draft_max: 4 } }, { value: undefined, field: "max_tokens" }, ctx);
  assert.equal(r.maxTokens, 20);
  assert.equal(r.n, 1);
  assert.deepEqual(r.generate.stop, ["\n"]);
  const d = r.generate.decoding as DecodingSettings;
  assert.deepEqual([d.strategy.name, d.threshold, d.mode, d.alpha], ["cosec-plus", 0.5, "reference", 0.5]);
  assert.deepEqual(d.sampling.target, { temperature: 0, topP: 0.95, topK: 50, minP: 0 });
  assert.deepEqual(d.sampling.expert, { temperature: 0, topP: 0.8, topK: 50, minP: 0 }, "the expert's unset sampling is the target's");
  assert.deepEqual([d.speculative, d.draftMax], [true, 4]);
  assert.equal(r.seed, 7);
  const noSeed = resolveRequest({}, { value: 5, field: "max_tokens" }, ctx);
  assert.ok(Number.isInteger(noSeed.seed) && noSeed.seed >= 0);
  // Speculative: the server's flag (here off), the default (on: cosec-plus uses the expert), or what the request says.
  const spec = (r: ReturnType<typeof resolveRequest>) => [(r.generate.decoding as DecodingSettings).speculative, (r.generate.decoding as DecodingSettings).draftMax];
  assert.deepEqual(spec(noSeed), [false, undefined]);
  const auto = { config: config({ defaults: { ...config().defaults, speculative: undefined } }), hasExpert: true };
  assert.deepEqual(spec(resolveRequest({}, { value: 5, field: "max_tokens" }, auto)), [true, undefined]);
  assert.deepEqual(spec(resolveRequest({ cosec: { speculative: false } }, { value: 5, field: "max_tokens" }, auto)), [false, undefined]);
  assert.deepEqual(spec(resolveRequest({ cosec: { draft_max: 2 } }, { value: 5, field: "max_tokens" }, ctx)), [true, 2], "a request's draft_max implies speculative");
  const serverK = { config: config({ defaults: { ...config().defaults, speculative: true, draftMax: 6 } }), hasExpert: true };
  assert.deepEqual(spec(resolveRequest({ cosec: { speculative: false } }, { value: 5, field: "max_tokens" }, serverK)), [false, undefined], "the server's --draft-max under a request's speculative: false");

  const refuse = (body: object, param: string, over: Partial<typeof ctx> = {}, status = 400) =>
    assert.throws(
      () => resolveRequest(body, { value: (body as { max_tokens?: number }).max_tokens, field: "max_tokens" }, { ...ctx, ...over }),
      (e: unknown) =>
        (e instanceof ApiRequestError ? e.param === param && e.status === status : e instanceof InvalidArgumentError && e.field === param && status === 400) &&
        (e as Error).message.startsWith(param),
    );
  refuse({ n: 4 }, "n");
  refuse({ max_tokens: 101 }, "max_tokens");
  refuse({ presence_penalty: 0.5 }, "presence_penalty");
  refuse({ logit_bias: { "1": 2 } }, "logit_bias");
  refuse({ seed: -1 }, "seed");
  refuse({ model: "other" }, "model", {}, 404);
  refuse({ cosec: { speculative: false, draft_max: 3 } }, "cosec.draft_max");
  refuse({}, "cosec.strategy", { hasExpert: false });
  refuse({ cosec: { strategy: "target", speculative: true } }, "cosec.speculative", { hasExpert: false });
  // Neutral values of unsupported fields are accepted.
  resolveRequest({ presence_penalty: 0, frequency_penalty: null, logit_bias: {} }, { value: 1, field: "max_tokens" }, ctx);
});

test("cosec serve flags: defaults, env keys, caps and errors naming the flag", () => {
  const s = parseServeArgs(["--target", "/m/t.gguf", "--expert", "/m/e.gguf", "--parallel", "2", "--max-n", "8", "--api-key", "k1"], { COSEC_API_KEYS: "k2" });
  assert.notEqual(s, "help");
  if (s === "help") return;
  assert.equal(s.config.host, "127.0.0.1");
  assert.equal(s.config.modelName, "t");
  assert.equal(s.config.maxN, 2, "n never exceeds --parallel");
  assert.equal(s.engine.maxSequences, 2);
  assert.deepEqual(s.config.apiKeys, ["k1", "k2"]);
  assert.deepEqual(s.config.corsOrigins, []);
  assert.equal(s.config.defaults.strategy, "cosec-plus");
  assert.equal(s.config.queue, SERVER_DEFAULTS.queue);
  assert.equal(parseServeArgs(["--help"]), "help");
  const bad = (argv: string[], flag: string) =>
    assert.throws(() => parseServeArgs(argv, {}), (e: unknown) => e instanceof InvalidArgumentError && e.field === flag);
  bad([], "--target");
  bad(["--target", "t.gguf", "--bogus"], "arguments");
  bad(["--target", "t.gguf", "--strategy", "cosec-plus"], "--strategy");
  bad(["--target", "t.gguf", "--strategy", "bogus"], "--strategy");
  bad(["--target", "t.gguf", "--port", "70000"], "--port");
  bad(["--target", "t.gguf", "--parallel", "0"], "--parallel");
  bad(["--target", "t.gguf", "--host", "example.com"], "--host");
  bad(["--target", "t.gguf", "--speculative"], "--speculative");
  bad(["--target", "t.gguf", "--max-tokens", "10", "--default-max-tokens", "20"], "--default-max-tokens");
  bad(["--target", "t.gguf", "--chat-template", "/nonexistent/x.jinja"], "--chat-template");
});

test("cosec serve --target-url: the expert beside a remote target; errors name the flag", () => {
  const s = parseServeArgs(["--target-url", "http://127.0.0.1:8000", "--target-model", "qwen", "--expert", "/m/e.gguf", "--parallel", "3"], {});
  assert.notEqual(s, "help");
  if (s === "help") return;
  assert.ok(typeof s.engine.target !== "string");
  if (typeof s.engine.target === "string") return;
  assert.deepEqual([s.engine.target.url, s.engine.target.model, s.engine.maxSequences], ["http://127.0.0.1:8000", "qwen", 3]);
  assert.equal(s.config.modelName, "", "the served model's id, once connected");
  assert.equal(s.config.defaults.strategy, "cosec-plus");
  const bad = (argv: string[], flag: string) =>
    assert.throws(() => parseServeArgs(argv, {}), (e: unknown) => e instanceof InvalidArgumentError && e.field === flag);
  bad(["--target-url", "http://x", "--target", "t.gguf", "--expert", "e.gguf"], "--target-url");
  bad(["--target-url", "http://x"], "--expert");
  bad(["--target-url", "http://x", "--expert", "e.gguf", "--strategy", "expert"], "--strategy");
  bad(["--target-url", "http://x", "--expert", "e.gguf", "--cosec-plus-mode", "warped"], "--strategy");
});
