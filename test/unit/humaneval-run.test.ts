import assert from "node:assert/strict";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { run } from "../../src/cli/eval-humaneval.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import { missingBatches } from "../../src/eval/humaneval/pipeline.ts";
import { checkRunSettings, type GenerationSettings } from "../../src/eval/humaneval/run-config.ts";
import { SandboxUnavailableError } from "../../src/eval/humaneval/sandbox.ts";

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

test("a results folder refuses to continue with other generation settings", () => {
  const dir = mkdtempSync(join(tmpdir(), "he-run-"));
  try {
    const s: GenerationSettings = {
      target: "/m/t.gguf", expert: null, expertLora: null, expertLoraScale: null,
      seed: 1, temperature: 0.2, topP: 0.95, maxTokens: 64, threshold: null, unsafeNoSandbox: false,
    };
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
