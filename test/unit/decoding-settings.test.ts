// Decoding parameters have one home (src/decoding/settings.ts): one resolution, the same refusal
// from the CLI, the HTTP API and the library, and every front end reading the same declarations.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decodingFrom } from "../../src/cli/options.ts";
import { DECODING_PARAMS, isDecodingSettings, resolveDecodingSettings, type DecodingInput, type ParamKey } from "../../src/decoding/settings.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import { Engine } from "../../src/generate/engine.ts";
import { createServer, type CosecServer } from "../../src/server/app.ts";
import { ChatRenderer } from "../../src/server/chat-template.ts";
import type { ServerConfig } from "../../src/server/config.ts";
import { fakePair } from "../helpers/fake-backend.ts";

const CHATML = `{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}`;
const withExpert = { hasExpert: true };

describe("resolveDecodingSettings", () => {
  it("completes every parameter from its declaration; the expert's sampling follows the target's", () => {
    const d = resolveDecodingSettings({}, withExpert);
    assert.deepEqual(
      [d.strategy.name, d.threshold, d.mode, d.alpha, d.temperature, d.topP, d.topK, d.minP, d.speculative, d.draftMax],
      ["cosec-plus", 0.3, "reference", 0.5, 0.4, 0.95, 50, 0, true, undefined],
    );
    assert.deepEqual(d.sampling.expert, d.sampling.target);
    assert.ok(Object.isFrozen(d) && Object.isFrozen(d.sampling.target) && isDecodingSettings(d));
    assert.ok(!isDecodingSettings({ ...d }), "a copy is input again, checked once more");
    const alone = resolveDecodingSettings({}, { hasExpert: false });
    assert.deepEqual([alone.strategy.name, alone.speculative], ["target", false]);
    const layered = resolveDecodingSettings({ temperature: 0.2 }, { hasExpert: true, base: { temperature: 0.9, topK: 7, expertTopP: 0.5 } });
    assert.deepEqual(layered.sampling.expert, { temperature: 0.2, topP: 0.5, topK: 7, minP: 0 }, "inherited after the layers merge");
    assert.equal(resolveDecodingSettings({ temperature: null }, { hasExpert: true, base: { temperature: 0.9 } }).temperature, 0.9, "null is not given");
  });

  it("speculation: on where the strategy uses the expert; draft_max implies it; an expert is needed", () => {
    const spec = (input: DecodingInput, base?: DecodingInput) => {
      const d = resolveDecodingSettings(input, { hasExpert: true, base });
      return [d.speculative, d.draftMax];
    };
    assert.deepEqual(spec({ strategy: "target" }), [false, undefined]);
    assert.deepEqual(spec({ strategy: "target", draftMax: 3 }), [true, 3]);
    assert.deepEqual(spec({ speculative: false }, { draftMax: 3 }), [false, undefined], "a lower layer's draft length under speculative: false");
    assert.deepEqual(spec({ draftMax: 2 }, { speculative: false }), [true, 2]);
    const refused = (input: DecodingInput, source: "cli" | "http" | "library", hasExpert: boolean, name: string, why: RegExp) =>
      assert.throws(
        () => resolveDecodingSettings(input, { hasExpert, source }),
        (e: unknown) => e instanceof InvalidArgumentError && e.field === name && why.test(e.message),
      );
    refused({ speculative: false, draftMax: 4 }, "cli", true, "--draft-max", /does not apply with --sequential/);
    refused({ speculative: false, draftMax: 4 }, "http", true, "cosec.draft_max", /does not apply with cosec.speculative: false/);
    refused({ strategy: "weighted" }, "http", false, "cosec.strategy", /'weighted' needs an expert model/);
    refused({ strategy: "target", speculative: true }, "cli", false, "--speculative", /needs an expert model to draft with/);
    refused({ strategy: "target", draftMax: 2 }, "library", false, "draftMax", /needs an expert model to draft with/);
    // draft_p_min is a drafting setting too: it implies speculation and is refused where none runs.
    const pMin = (input: DecodingInput) => resolveDecodingSettings(input, { hasExpert: true });
    assert.deepEqual([pMin({ strategy: "target", draftPMin: 0.5 }).speculative, pMin({ strategy: "target", draftPMin: 0.5 }).draftPMin], [true, 0.5]);
    assert.equal(pMin({ strategy: "target" }).draftPMin, 0);
    assert.equal(pMin({ speculative: false, draftPMin: 0 }).speculative, false, "its default is no setting");
    refused({ speculative: false, draftPMin: 0.5 }, "cli", true, "--draft-p-min", /does not apply with --sequential/);
    refused({ speculative: false, draftPMin: 0.5 }, "http", true, "cosec.draft_p_min", /does not apply with cosec.speculative: false/);
    refused({ strategy: "target", draftPMin: 0.5 }, "cli", false, "--draft-p-min", /needs an expert model to draft with/);
  });
});

// One sample value per parameter, valid and not its default, from the declaration alone.
function sample(key: ParamKey): string | number {
  const p = DECODING_PARAMS[key];
  if (key === "strategy") return "weighted";
  if (p.kind === "enum") return p.values[p.values.length - 1];
  if (p.kind === "bool") throw new Error("switches are tried on their own");
  const lo = p.above ?? p.min ?? 0;
  return p.kind === "int" ? lo + 3 : p.max !== undefined ? (lo + p.max) / 2 : lo + 0.5;
}

function config(over: Partial<ServerConfig> = {}): ServerConfig {
  return {
    host: "127.0.0.1", port: 0, modelName: "fake", parallel: 2, queue: 2, maxTokensCap: 16, defaultMaxTokens: 4, maxN: 2,
    bodyLimit: 1 << 16, apiKeys: [], corsOrigins: [], shutdownTimeoutMs: 1000, defaults: { strategy: "cosec-plus" }, ...over,
  };
}

/** Sets a body's field by its declared path ("temperature", "cosec.top_k"). */
function withField(body: Record<string, unknown>, field: string, value: unknown): Record<string, unknown> {
  const [head, tail] = field.split(".");
  if (tail === undefined) return { ...body, [head]: value };
  return { ...body, cosec: { ...(body.cosec as object), [tail]: value } };
}

describe("every front end", () => {
  let engine: Engine;
  let server: CosecServer;
  before(async () => {
    engine = Engine.fromBackends(fakePair(2));
    server = await createServer({ engine, config: config(), chat: await ChatRenderer.forModel("fake", engine.tokenizer, engine.target.vocab, CHATML) });
  });
  after(async () => {
    await server.app.close();
    await engine.dispose();
  });

  const post = async (body: Record<string, unknown>) => {
    const r = await server.app.inject({ method: "POST", url: "/v1/completions", payload: { prompt: "ab", max_tokens: 2, ...body } });
    return { status: r.statusCode, body: r.json() as { error?: { message: string; param: string }; cosec?: { strategy: string } } };
  };

  /** What `cosec <argv>` prints on standard error, and its exit status. */
  async function cli(argv: string[]): Promise<{ status: number; stderr: string }> {
    const { main } = await import("../../src/cli/main.ts");
    const lines: string[] = [];
    const original = console.error;
    console.error = (...a: unknown[]) => void lines.push(a.join(" "));
    try {
      return { status: await main(argv), stderr: lines.join("\n") };
    } finally {
      console.error = original;
    }
  }

  // One bad value of each kind; `cosec generate --temperature 5` was accepted and `cosec serve` refused it.
  const BAD: [ParamKey, string, unknown][] = [
    ["temperature", "5", 5],
    ["topK", "1.5", 1.5],
    ["minP", "2", 2],
    ["mode", "fast", "fast"],
    ["draftMax", "65", 65],
  ];
  for (const [key, text, value] of BAD) {
    it(`a bad ${key} gets the same named error from the CLI commands, the HTTP API and the library`, async () => {
      const p = DECODING_PARAMS[key];
      const models = ["--target", "absent-target.gguf", "--expert", "absent-expert.gguf"];
      const reasons = new Set<string>();
      for (const command of [["generate", "--prompt", "x"], ["serve"], ["eval", "security", "--out", "unused"], ["eval", "humaneval"]]) {
        const r = await cli([...command, ...models, `--${p.flag}`, text]);
        const name = command[0] === "eval" ? `eval` : command[0];
        assert.equal(r.status, 1, r.stderr);
        const prefix = `cosec ${name}: --${p.flag}: `;
        assert.ok(r.stderr.startsWith(prefix), `${command.join(" ")}: ${r.stderr}`);
        reasons.add(r.stderr.slice(prefix.length));
      }
      const http = await post(withField({}, p.field, value));
      assert.equal(http.status, 400);
      assert.equal(http.body.error!.param, p.field);
      assert.ok(http.body.error!.message.startsWith(`${p.field}: `), http.body.error!.message);
      reasons.add(http.body.error!.message.slice(p.field.length + 2));
      await assert.rejects(engine.generate("ab", { decoding: { [key]: value } as DecodingInput }), (e: unknown) => {
        assert.ok(e instanceof InvalidArgumentError && e.field === key, String(e));
        reasons.add(e.message.slice(key.length + 2));
        return true;
      });
      assert.equal(reasons.size, 1, [...reasons].join(" | "));
      assert.match([...reasons][0], key === "mode" ? /^unknown cosec-plus mode 'fast' \(expected one of: reference, warped\)$/ : new RegExp(`, got ${text}$`));
    });
  }

  it("read each declared parameter the same: flag, field and key give the same settings", async () => {
    const keys = (Object.keys(DECODING_PARAMS) as ParamKey[]).filter((k) => DECODING_PARAMS[k].kind !== "bool");
    const values = Object.fromEntries(keys.map((k) => [k, sample(k)]));
    const flags: Record<string, string> = Object.fromEntries(keys.map((k) => [DECODING_PARAMS[k].flag, String(values[k])]));
    const fromCli = decodingFrom({ ...flags, expert: "e.gguf" });
    const fromLibrary = resolveDecodingSettings(values as DecodingInput, withExpert);
    const { strategy: _a, ...cliValues } = fromCli;
    const { strategy: _b, ...libraryValues } = fromLibrary;
    assert.deepEqual(cliValues, libraryValues);
    assert.equal(fromCli.strategy.name, "weighted");
    // The HTTP schema admits every declared field (unknown fields are refused), and the request decodes with them.
    let body: Record<string, unknown> = {};
    for (const k of keys) body = withField(body, DECODING_PARAMS[k].field, values[k]);
    const r = await post(body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.cosec!.strategy, "weighted");
  });
});
