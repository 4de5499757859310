import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { run } from "../../src/cli/eval-humaneval.ts";
import { engineOptionsFrom } from "../../src/cli/options.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import { missingBatches } from "../../src/eval/humaneval/pipeline.ts";
import { checkRunSettings, type GenerationSettings } from "../../src/eval/humaneval/run-config.ts";
import { SandboxUnavailableError } from "../../src/eval/humaneval/sandbox.ts";
import { modelRunSettings } from "../../src/eval/run-settings.ts";

test("missing samples are generated in contiguous batches of at most the batch size", () => {
  const done = new Set([0, 1, 4, 9]);
  assert.deepEqual(missingBatches((i) => done.has(i), 10, 3), [
    { start: 2, count: 2 },
    { start: 5, count: 3 },
    { start: 8, count: 1 },
  ]);
  assert.deepEqual(missingBatches(() => true, 5, 2), []);
  assert.deepEqual(missingBatches(() => false, 5, 8), [{ start: 0, count: 5 }]);
});

const BASE: GenerationSettings = {
  target: "/m/t.gguf", expert: "/m/e.gguf", expertLora: null, expertLoraScale: null, expertBase: null, kvCache: "f16",
  seed: 1, maxTokens: 64, threshold: 0.3, mode: "reference", alpha: 0.5, temperature: 0.2, topP: 0.95, topK: 50, minP: 0,
  expertTemperature: 0.2, expertTopP: 0.95, expertTopK: 50, expertMinP: 0, unsafeNoSandbox: false,
};

test("a results folder refuses to continue with other generation settings", () => {
  const dir = mkdtempSync(join(tmpdir(), "he-run-"));
  try {
    const s = BASE;
    checkRunSettings(dir, s, false);
    checkRunSettings(dir, { ...s, seed: 2 }, false); // no records yet: settings may still change
    assert.throws(() => checkRunSettings(dir, s, true), /seed=2, not 1/);
    checkRunSettings(dir, { ...s, seed: 2 }, true); // same settings: continue
    assert.throws(() => checkRunSettings(dir, { ...s, seed: 2, temperature: 0.8 }, true), (e: unknown) => e instanceof InvalidArgumentError && /temperature=0.2, not 0.8/.test(e.message));
    assert.throws(() => checkRunSettings(dir, { ...s, seed: 2, target: "/m/other.gguf" }, true), /target/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("KV cache precision, the proxy's base expert and every strategy parameter are part of a run's settings", () => {
  const dir = mkdtempSync(join(tmpdir(), "he-run-"));
  try {
    checkRunSettings(dir, BASE, false);
    const refused = (change: Partial<GenerationSettings>, flag: string, shown: RegExp) =>
      assert.throws(
        () => checkRunSettings(dir, { ...BASE, ...change } as GenerationSettings, true),
        (e: unknown) => e instanceof InvalidArgumentError && e.field === flag && shown.test(e.message),
      );
    refused({ kvCache: "f32" }, "--kv-cache", /kvCache="f16", not "f32"/);
    refused({ expertBase: "/m/base.gguf" }, "--expert-base", /expertBase=null, not "\/m\/base.gguf"/);
    refused({ threshold: 0.5 }, "--threshold", /threshold=0.3, not 0.5/);
    refused({ mode: "warped" }, "--cosec-plus-mode", /mode="reference", not "warped"/);
    refused({ alpha: 0.1 }, "--alpha", /alpha=0.5, not 0.1/);
    refused({ expertTopK: 5 }, "--expert-top-k", /expertTopK=50, not 5/);
    checkRunSettings(dir, BASE, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a run.json written before kvCache, expertBase and most decoding values were recorded resumes with their old defaults", () => {
  const dir = mkdtempSync(join(tmpdir(), "he-run-"));
  try {
    // The fields such a file held; an unset threshold was null (the engine's default).
    const { target, expert, expertLora, expertLoraScale, seed, temperature, topP, maxTokens, unsafeNoSandbox } = BASE;
    const old = { target, expert, expertLora, expertLoraScale, seed, temperature, topP, maxTokens, threshold: null, unsafeNoSandbox };
    writeFileSync(join(dir, "run.json"), JSON.stringify(old));
    assert.throws(() => checkRunSettings(dir, { ...BASE, kvCache: "f32" }, true), /--kv-cache: .*kvCache="f16", not "f32"/);
    assert.throws(() => checkRunSettings(dir, { ...BASE, expertBase: "/m/base.gguf" }, true), /--expert-base/);
    assert.throws(() => checkRunSettings(dir, { ...BASE, threshold: 0.4 }, true), /--threshold: .*threshold=0.3, not 0.4/);
    assert.throws(() => checkRunSettings(dir, { ...BASE, expertTemperature: 0.9 }, true), /--expert-temperature: .*expertTemperature=0.2, not 0.9/);
    checkRunSettings(dir, BASE, true);
    // The accepted resume fills the new fields in.
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "run.json"), "utf8")), BASE);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("once programs ran without the sandbox, run.json keeps saying so; that flag never refuses a resume", () => {
  const dir = mkdtempSync(join(tmpdir(), "he-run-"));
  try {
    checkRunSettings(dir, BASE, false);
    checkRunSettings(dir, { ...BASE, unsafeNoSandbox: true }, true);
    checkRunSettings(dir, BASE, true);
    assert.equal(JSON.parse(readFileSync(join(dir, "run.json"), "utf8")).unsafeNoSandbox, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("model settings: paths made absolute, kvCache defaults to f16, threads/gpu/context size left out", () => {
  const a = modelRunSettings(engineOptionsFrom({ target: "t.gguf", expert: "e.gguf", "expert-base": "b.gguf" }));
  assert.deepEqual(a, {
    target: resolve("t.gguf"), expert: resolve("e.gguf"), expertLora: null, expertLoraScale: null, expertBase: resolve("b.gguf"), kvCache: "f16",
  });
  const b = modelRunSettings(engineOptionsFrom({ target: "t.gguf", expert: "e.gguf", "expert-base": "b.gguf", gpu: "cpu", threads: "3", "context-size": "512" }, { maxSequences: 4 }));
  assert.deepEqual(b, a);
  assert.equal(modelRunSettings(engineOptionsFrom({ target: "t.gguf", "kv-cache": "f32" })).kvCache, "f32");
});

test("the command refuses to run generated code when no sandbox can be set up, unless --unsafe-no-sandbox", async () => {
  // A PATH with the util-linux helpers but without bwrap, as on a machine lacking bubblewrap.
  const bin = mkdtempSync(join(tmpdir(), "he-nobwrap-"));
  const savedPath = process.env.PATH;
  try {
    for (const tool of ["prlimit", "setpriv"]) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
    process.env.PATH = bin;
    const out = join(bin, "out");
    const base = ["--target", join(bin, "missing.gguf"), "--limit", "1", "--n", "1", "--out", out];
    await assert.rejects(run(base), (e: unknown) => e instanceof SandboxUnavailableError && /bwrap.*--unsafe-no-sandbox/s.test(e.message));
    // With the flag it goes past the sandbox check and fails on the (missing) model instead.
    await assert.rejects(run([...base, "--unsafe-no-sandbox"]), (e: unknown) => !(e instanceof SandboxUnavailableError) && /missing\.gguf/.test(String(e)));
  } finally {
    process.env.PATH = savedPath;
    rmSync(bin, { recursive: true, force: true });
  }
});

test("bad arguments name the option", async () => {
  await assert.rejects(run(["--n", "2"]), /--target/);
  await assert.rejects(run(["--target", "x.gguf", "--n", "2", "--k", "1,5"]), /--k: pass@5 needs --n of at least 5/);
  await assert.rejects(run(["--target", "x.gguf", "--strategies", "target,best"]), /unknown strategy 'best'/);
  await assert.rejects(run(["--target", "x.gguf", "--temperature", "-1"]), /--temperature/);
});
