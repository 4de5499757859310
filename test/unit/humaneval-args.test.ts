// `cosec eval humaneval` flags → run settings, without loading anything: the model flags are the
// shared group (same names, meanings and errors as generate / eval security / serve).
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import { parseHumanEvalArgs, type HumanEvalSettings } from "../../src/cli/eval-humaneval.ts";
import { engineOptionsFrom } from "../../src/cli/options.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import { DEFAULT_LIMITS } from "../../src/eval/humaneval/sandbox.ts";

function parse(argv: string[]): HumanEvalSettings {
  const s = parseHumanEvalArgs(argv);
  assert.notEqual(s, "help");
  return s as HumanEvalSettings;
}

test("model flags are parsed by the shared group, with one sequence slot per batch sample", () => {
  const models = [
    "--target", "t.gguf", "--expert", "e.gguf", "--expert-lora", "a.gguf", "--expert-lora-scale", "0.5", "--expert-base", "b.gguf",
    "--gpu", "cpu", "--threads", "3", "--expert-threads", "2", "--context-size", "512", "--kv-cache", "f32",
  ];
  const s = parse([...models, "--n", "4", "--batch", "2"]);
  assert.deepEqual(s.engine, engineOptionsFrom({
    target: "t.gguf", expert: "e.gguf", "expert-lora": "a.gguf", "expert-lora-scale": "0.5", "expert-base": "b.gguf",
    gpu: "cpu", threads: "3", "expert-threads": "2", "context-size": "512", "kv-cache": "f32",
  }, { maxSequences: 2 }));
  assert.equal(s.engine.targetThreads, 3);
  assert.equal(s.engine.expertThreads, 2);
  assert.equal(s.engine.kvCache, "f32");
});

test("defaults: strategies follow --expert, temperature follows the largest k, batch is min(n, 8)", () => {
  const plain = parse(["--target", "t.gguf"]);
  assert.deepEqual(plain.strategies.map((s) => s.strategy.name), ["target"]);
  const [d] = plain.strategies;
  assert.deepEqual([plain.n, plain.ks, d.temperature, d.topP, plain.maxTokens, plain.seed, plain.batch], [20, [1], 0.2, 0.95, 256, 0, 8]);
  assert.equal(plain.engine.maxSequences, 8);
  assert.equal(plain.engine.gpu, "auto");
  assert.equal(plain.limit, undefined);
  assert.equal(plain.sandbox.mode, "bwrap");
  const { timeoutSeconds, memoryBytes, maxProcesses } = DEFAULT_LIMITS;
  assert.deepEqual(plain.sandbox.limits, { timeoutSeconds, cpuSeconds: timeoutSeconds, memoryBytes, maxProcesses });
  assert.equal(plain.outDir, resolve("humaneval-results"));

  const co = parse(["--target", "t.gguf", "--expert", "e.gguf", "--n", "5", "--k", "1, 5", "--threshold", "0.4", "--timeout", "2.5"]);
  assert.deepEqual(co.strategies.map((s) => [s.strategy.name, s.threshold]), [["target", 0.4], ["cosec-plus", 0.4]]);
  assert.deepEqual(co.ks, [1, 5]);
  assert.equal(co.strategies[1].temperature, 0.8);
  // The decoding flags of every command, --cosec-plus-mode and --alpha included; --temperature overrides this default.
  const all = parse(["--target", "t.gguf", "--expert", "e.gguf", "--strategies", "cosec-plus,weighted", "--cosec-plus-mode", "warped", "--alpha", "0.2", "--temperature", "0.5"]);
  assert.deepEqual(all.strategies.map((s) => [s.mode, s.alpha, s.temperature]), [["warped", 0.2, 0.5], ["warped", 0.2, 0.5]]);
  assert.equal(co.batch, 5);
  assert.deepEqual([co.sandbox.limits.timeoutSeconds, co.sandbox.limits.cpuSeconds], [2.5, 2.5]);
  assert.equal(parse(["--target", "t.gguf", "--unsafe-no-sandbox", "--memory-mb", "64"]).sandbox.limits.memoryBytes, 64 * 1024 ** 2);
  assert.equal(parseHumanEvalArgs(["-h"]), "help");
});

test("bad flags are refused naming the flag and what it expects", () => {
  const refuses = (argv: string[], flag: string, why: RegExp) =>
    assert.throws(() => parseHumanEvalArgs(["--target", "t.gguf", ...argv]), (e: unknown) => e instanceof InvalidArgumentError && e.field === flag && why.test(e.message));
  refuses(["--kv-cache", "q4"], "--kv-cache", /expected f16 or f32, got 'q4'/);
  refuses(["--gpu", "tpu"], "--gpu", /expected auto, cpu, cuda or vulkan/);
  refuses(["--expert-threads", "0"], "--expert-threads", /positive integer/);
  refuses(["--context-size", "8"], "--context-size", /integer >= 16/);
  refuses(["--n", "0"], "--n", /positive integer, got '0'/);
  refuses(["--k", "1,x"], "--k", /positive integers, got 'x'/);
  refuses(["--k", "1,"], "--k", /got ''/);
  refuses(["--n", "2", "--k", "3"], "--k", /pass@3 needs --n of at least 3 \(got 2\)/);
  refuses(["--strategies", "target,best"], "--strategies", /unknown strategy 'best'/);
  refuses(["--threshold", "2"], "--threshold", /\[0, 1\]/);
  refuses(["--top-p", "0"], "--top-p", /\(0, 1\]/);
  refuses(["--max-tokens", "0"], "--max-tokens", /positive integer/);
  refuses(["--timeout=-1"], "--timeout", /positive number of seconds/);
  assert.throws(() => parseHumanEvalArgs([]), (e: unknown) => e instanceof InvalidArgumentError && e.field === "--target");
});
