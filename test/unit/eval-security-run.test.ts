// `cosec eval security` results folders: the settings that change samples are recorded in run.json
// and a resume with other ones is refused before any model loads.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { run } from "../../src/cli/eval-security.ts";
import { decodingFrom, engineOptionsFrom, runOptionsFrom } from "../../src/cli/options.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import { checkSecurityRunSettings, securityRunSettings, type SecurityRunSettings } from "../../src/eval/security-run-config.ts";

type Flags = Record<string, string | boolean>;
const BUILTIN = { analyzer: "builtin", cppcheck: true };

function settings(flags: Flags, judge = BUILTIN): SecurityRunSettings {
  const all = { target: "t.gguf", expert: "e.gguf", ...flags };
  return securityRunSettings(engineOptionsFrom(all), decodingFrom(all, { strategy: "target" }), runOptionsFrom(all), judge);
}

function withDir(body: (dir: string) => Promise<void> | void) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "sec-run-"));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test("the run's defaults are recorded, expert sampling resolved to the target's when unset", () => {
  assert.deepEqual(settings({}), {
    target: resolve("t.gguf"), expert: resolve("e.gguf"), expertLora: null, expertLoraScale: null, expertBase: null, kvCache: "f16",
    seed: 1, maxTokens: 256, temperature: 0.4, topP: 0.95, topK: 50, minP: 0, expertTemperature: 0.4, expertTopP: 0.95, expertTopK: 50, expertMinP: 0,
    analyzer: "builtin", cppcheck: true, queries: null,
  });
  // Spelling out a default changes nothing.
  assert.deepEqual(settings({ temperature: "0.4", "expert-temperature": "0.4", seed: "1", "kv-cache": "f16" }), settings({}));
  assert.equal(settings({ "top-k": "20" }).expertTopK, 20);
  assert.equal(settings({}, { analyzer: "codeql", cppcheck: true }).cppcheck, null);
});

test("threads, GPU, context size, speculative decoding and strategy parameters do not count as run settings", () => {
  assert.deepEqual(
    settings({ threads: "3", "expert-threads": "2", gpu: "cpu", "context-size": "512", speculative: true, "draft-max": "4", threshold: "0.5", alpha: "0.2" }),
    settings({}),
  );
});

test("a resume with another kvCache, expertBase, seed, expert sampling or analyzer is refused naming the flag", withDir((dir) => {
  checkSecurityRunSettings(dir, settings({}), false);
  const refused = (flags: Flags, flag: string, shown: RegExp, judge = BUILTIN) =>
    assert.throws(
      () => checkSecurityRunSettings(dir, settings(flags, judge), true),
      (e: unknown) => e instanceof InvalidArgumentError && e.field === flag && shown.test(e.message),
    );
  refused({ "kv-cache": "f32" }, "--kv-cache", /kvCache="f16", not "f32"/);
  refused({ "expert-base": "b.gguf" }, "--expert-base", /expertBase=null/);
  refused({ seed: "2" }, "--seed", /seed=1, not 2/);
  refused({ "expert-top-k": "10" }, "--expert-top-k", /expertTopK=50, not 10/);
  refused({ "min-p": "0.1" }, "--min-p", /minP=0, not 0.1/);
  refused({ "max-tokens": "64" }, "--max-tokens", /maxTokens=256, not 64/);
  refused({}, "--no-cppcheck", /cppcheck=true, not false/, { analyzer: "builtin", cppcheck: false });
  refused({}, "--analyzer", /analyzer="builtin", not "codeql"/, { analyzer: "codeql", cppcheck: true });
  checkSecurityRunSettings(dir, settings({ threads: "1" }), true);
}));

test("a run.json written before min-p, with an unset top-k as null, still resumes with the same settings", withDir((dir) => {
  const legacy = { ...settings({}), topK: null, expertTopK: null } as Record<string, unknown>;
  delete legacy.minP;
  delete legacy.expertMinP;
  writeFileSync(join(dir, "run.json"), JSON.stringify(legacy));
  checkSecurityRunSettings(dir, settings({}), true);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, "run.json"), "utf8")), settings({}), "rewritten complete");
  writeFileSync(join(dir, "run.json"), JSON.stringify(legacy));
  assert.throws(() => checkSecurityRunSettings(dir, settings({ "top-k": "20" }), true), /--top-k: .*topK=50, not 20/);
  assert.throws(() => checkSecurityRunSettings(dir, settings({ "expert-min-p": "0.2" }), true), /--expert-min-p: .*expertMinP=0, not 0.2/);
}));

/** A one-scenario tree and a results folder holding one record made with the default settings. */
function folderWithRecord(dir: string): { scenarios: string; out: string } {
  const scenarios = join(dir, "scenarios");
  mkdirSync(join(scenarios, "cwe-089", "0-py"), { recursive: true });
  writeFileSync(join(scenarios, "cwe-089", "0-py", "info.json"), JSON.stringify({ language: "py", cwe: "CWE-089" }));
  writeFileSync(join(scenarios, "cwe-089", "0-py", "file_context.py"), "import os\n");
  writeFileSync(join(scenarios, "cwe-089", "0-py", "func_context.py"), "def f(x):\n");
  const out = join(dir, "out");
  const target = join(dir, "missing.gguf");
  checkSecurityRunSettings(out, securityRunSettings(engineOptionsFrom({ target }), decodingFrom({}), runOptionsFrom({}), BUILTIN), false);
  writeFileSync(join(out, "results.jsonl"), JSON.stringify({ scenario: "cwe-089/0-py", strategy: "target", sample: 0 }) + "\n");
  return { scenarios, out };
}

test("the command refuses a changed setting before loading models, and continues with the same ones", withDir(async (dir) => {
  const { scenarios, out } = folderWithRecord(dir);
  const base = ["--target", join(dir, "missing.gguf"), "--scenarios", scenarios, "--out", out, "--samples", "1", "--analyzer", "builtin"];
  await assert.rejects(run([...base, "--kv-cache", "f32"]), /--kv-cache: .*kvCache="f16", not "f32"/);
  await assert.rejects(run([...base, "--seed", "7"]), /--seed: .*seed=1, not 7/);
  // Same settings (threads differ): past the check, failing on the missing model instead.
  await assert.rejects(run([...base, "--threads", "1"]), (e: unknown) => !(e instanceof InvalidArgumentError) && /missing\.gguf/.test(String(e)));
  assert.equal(JSON.parse(readFileSync(join(out, "run.json"), "utf8")).kvCache, "f16");
}));

test("--strategies is parsed by the shared list parser: an unknown name names the flag", async () => {
  await assert.rejects(run(["--target", "x.gguf", "--out", "unused", "--strategies", "target,best"]), /--strategies: .*unknown strategy 'best'/);
});
