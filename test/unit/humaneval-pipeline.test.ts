// The pipeline with the real sandbox and a scripted generator standing in for a model (the tiny
// fixture models cannot write correct code; the real engine is exercised in test/e2e): known
// completions must be cut, executed, paired and resumed exactly.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { resolveDecodingSettings, type DecodingSettings } from "../../src/decoding/settings.ts";
import type { GenerateOptions, GenerationResult } from "../../src/generate/types.ts";
import { recordKey, runHumanEval, type GenerateFn, type HumanEvalRecord } from "../../src/eval/humaneval/pipeline.ts";
import { loadProblems } from "../../src/eval/humaneval/problems.ts";
import { probeSandbox } from "../../src/eval/humaneval/sandbox.ts";
import { summarize } from "../../src/eval/humaneval/summary.ts";
import { ResultsStore } from "../../src/eval/results-store.ts";
import { dataRoot } from "../../src/paths.ts";

let unavailable: string | false = false;
try {
  await probeSandbox();
} catch (err) {
  unavailable = (err as Error).message;
}

const all = loadProblems(join(dataRoot(), "datasets", "sven", "data_eval", "human_eval")).problems;
const problems = ["HumanEval_13_greatest_common_divisor", "HumanEval_23_strlen"].map((n) => all.find((p) => p.name === n)!);
const SOLUTIONS: Record<string, [string, string]> = {
  // [correct, wrong]; each followed by text after a stop token that must be cut away
  greatest_common_divisor: ["    while b:\n        a, b = b, a % b\n    return a\n", "    return 1\n"],
  strlen: ["    return len(string)\n", "    return 0\n"],
};

/** Sample i of `target` is correct when i is even; of `cosec-plus` when i < 3. */
function scripted(calls: { strategy: string; firstSample: number; n: number }[]): GenerateFn {
  return async (prompt: string, o: GenerateOptions): Promise<GenerationResult[]> => {
    const d = o.decoding as DecodingSettings;
    const strategy = d.strategy.name;
    assert.deepEqual([d.temperature, d.expertTemperature], [0.8, 0.8], "the run's sampling reaches the engine");
    calls.push({ strategy, firstSample: o.firstSample ?? 0, n: o.n ?? 1 });
    const fn = Object.keys(SOLUTIONS).find((f) => prompt.includes(`def ${f}(`))!;
    return Array.from({ length: o.n ?? 1 }, (_, j) => {
      const sample = (o.firstSample ?? 0) + j;
      const good = strategy === "target" ? sample % 2 === 0 : sample < 3;
      const text = SOLUTIONS[fn][good ? 0 : 1] + "\ndef extra():\n    raise SystemExit(3)\n";
      return {
        sample, seed: o.seed ?? 0, text, tokens: [1, 2, 3], sources: [], logprobs: [], finishReason: "stop",
        acceptanceRate: strategy === "cosec-plus" ? 0.75 : null,
        timing: { promptTokens: 1, cachedPromptTokens: 0, promptMs: 0, generatedTokens: 3, generateMs: 0, promptTokensPerSecond: 0, tokensPerSecond: 0 },
      };
    });
  };
}

test("records every (problem, strategy, sample) once, paired by seed and index, and resumes", { skip: unavailable }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "he-pipeline-"));
  try {
    const file = join(dir, "samples.jsonl");
    const options = {
      problems,
      strategies: (["target", "cosec-plus"] as const).map((strategy) => resolveDecodingSettings({ strategy, temperature: 0.8 }, { hasExpert: true })),
      n: 4,
      seed: 11,
      maxTokens: 32,
      sandbox: { mode: "bwrap" as const, limits: { timeoutSeconds: 5 } },
      jobs: 2,
      batchSize: 3,
    };
    // First run: only the first problem, as if the run had been stopped there.
    const calls1: { strategy: string; firstSample: number; n: number }[] = [];
    await runHumanEval({ ...options, problems: problems.slice(0, 1), generate: scripted(calls1), store: new ResultsStore<HumanEvalRecord>(file, recordKey) });
    assert.deepEqual(calls1.map((c) => [c.strategy, c.firstSample, c.n]), [["target", 0, 3], ["target", 3, 1], ["cosec-plus", 0, 3], ["cosec-plus", 3, 1]]);

    // Continue with both problems: only the second problem's samples are generated.
    const calls2: { strategy: string; firstSample: number; n: number }[] = [];
    const store = new ResultsStore<HumanEvalRecord>(file, recordKey);
    const progress: number[] = [];
    await runHumanEval({ ...options, generate: scripted(calls2), store, onProgress: (p) => progress.push(p.done) });
    assert.equal(calls2.length, 4);
    assert.equal(progress[0], 8, "resumed with the first problem's 8 records");
    assert.equal(progress.at(-1), 16);

    const records = new ResultsStore<HumanEvalRecord>(file, recordKey).records();
    assert.equal(records.length, 2 * 2 * 4);
    for (const r of records) {
      const good = r.strategy === "target" ? r.sample % 2 === 0 : r.sample < 3;
      assert.equal(r.status, good ? "passed" : "failed", `${r.problem} ${r.strategy}#${r.sample}: ${r.details}`);
      assert.equal(r.seed, 11);
      assert.ok(!r.completion.includes("def extra"), "cut at the stop token");
      assert.equal(r.acceptanceRate, r.strategy === "cosec-plus" ? 0.75 : null);
    }
    const s = summarize(records, ["target", "cosec-plus"], [1, 2]);
    assert.equal(s.strategies[0].passAtK[1], 0.5);
    assert.equal(s.strategies[1].passAtK[1], 0.75);
    const d = s.paired.find((p) => p.k === 1)!;
    assert.equal(d.mean, 0.25);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
