// The security evaluation with the real engine and the tiny fixture models: an interrupted run
// resumed equals an uninterrupted one (records identical), and the command writes its report.
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { run as runEvalSecurity } from "../../src/cli/eval-security.ts";
import { BuiltinAnalyzer } from "../../src/eval/analyzers/builtin.ts";
import { pairedBootstrap, type PairedDifference } from "../../src/eval/paired-bootstrap.ts";
import { closeSharedPythonWorker } from "../../src/eval/python-worker.ts";
import { defaultScenarioRoot, loadScenarios } from "../../src/eval/scenarios.ts";
import { recordKey, runSecurityEval, strategyRuns, type GenerateFn, type SampleRecord } from "../../src/eval/security.ts";
import { Engine } from "../../src/generate/engine.ts";
import { ensureFixtures, type FixturePaths } from "../helpers/fixtures.ts";

let fx: FixturePaths;
let engine: Engine;

before(async () => {
  fx = await ensureFixtures();
  engine = await Engine.load({ target: fx.targetLlama, expert: fx.expertLlama, expertLora: fx.expertLlamaLora, maxSequences: 2 });
});
after(async () => {
  await engine?.dispose();
  closeSharedPythonWorker();
});

const byKey = (rs: SampleRecord[]) => [...rs].sort((a, b) => recordKey(a).localeCompare(recordKey(b)));

test("interrupted + resumed run = uninterrupted run, no sample lost or duplicated", async () => {
  const scenarios = loadScenarios(defaultScenarioRoot(), { only: ["cwe-089/0-py"] }).scenarios;
  const common = { scenarios, strategies: strategyRuns(["target", "cosec-plus"]), analyzer: new BuiltinAnalyzer(), samples: 3, batch: 2, maxTokens: 6, seed: 7 };
  const generate: GenerateFn = (p, o) => engine.generate(p, o);
  const dir = mkdtempSync(join(tmpdir(), "cosec-resume-"));

  const full = await runSecurityEval({ ...common, generate, out: join(dir, "full.jsonl") });
  assert.equal(full.length, 6);

  // Crash after the second generate call (as kill -9 would), leaving a torn last line.
  let calls = 0;
  const crashing: GenerateFn = async (p, o) => {
    if (++calls > 2) throw new Error("simulated crash");
    return engine.generate(p, o);
  };
  const out = join(dir, "resumed.jsonl");
  await assert.rejects(runSecurityEval({ ...common, generate: crashing, out }), /simulated crash/);
  const partial = readFileSync(out, "utf8").trim().split("\n").length;
  assert.ok(partial >= 3 && partial < 6, `partial run wrote ${partial} records`);
  appendFileSync(out, '{"scenario":"cwe-089/0-py","strategy":"tar');

  const resumedCalls: number[] = [];
  const counting: GenerateFn = (p, o) => {
    resumedCalls.push(o.firstSample ?? 0);
    return engine.generate(p, o);
  };
  const resumed = await runSecurityEval({ ...common, generate: counting, out });
  assert.deepEqual(byKey(resumed), byKey(full));
  const lines = readFileSync(out, "utf8").trim().split("\n");
  assert.equal(lines.length, 6);
  assert.equal(new Set(lines.map((l) => recordKey(JSON.parse(l) as SampleRecord))).size, 6);
  assert.ok(resumedCalls.length <= 2, "only the missing samples were generated again");
});

test("cosec eval security writes results, summary and an HTML report", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cosec-evalsec-"));
  const code = await runEvalSecurity([
    "--target", fx.targetLlama, "--expert", fx.expertLlama, "--expert-lora", fx.expertLlamaLora,
    "--only", "cwe-089/0-py,cwe-476/0-c", "--samples", "2", "--batch", "2", "--max-tokens", "6", "--out", dir,
    "--strategies", "target,target-raw,cosec-plus",
  ]);
  assert.equal(code, 0);
  const records = readFileSync(join(dir, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as SampleRecord);
  assert.equal(records.length, 2 * 2 * 3);
  for (const r of records) {
    assert.ok(["target", "target-raw", "cosec-plus"].includes(r.strategy));
    assert.equal(typeof r.valid, "boolean");
    assert.ok(Array.isArray(r.findings));
    assert.ok(r.tokens > 0 && r.tokens <= 6);
    if (r.strategy === "cosec-plus") assert.equal(typeof r.acceptanceRate, "number");
  }
  const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as { overall: { strategy: string; samples: number }[]; gains: PairedDifference[] };
  assert.deepEqual(summary.overall.map((g) => [g.strategy, g.samples]), [["target", 4], ["target-raw", 4], ["cosec-plus", 4]]);
  // Each against the target, then cosec-plus against the raw target, paired over scenarios.
  assert.deepEqual(summary.gains, [pairedBootstrap(records, "target", "target-raw"), pairedBootstrap(records, "target", "cosec-plus"), pairedBootstrap(records, "target-raw", "cosec-plus")]);
  // The folder records the run's shared sampling, not target-raw's own.
  assert.equal((JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as Record<string, unknown>).temperature, 0.4);
  assert.ok(existsSync(join(dir, "report.html")));
  const html = readFileSync(join(dir, "report.html"), "utf8");
  assert.match(html, /<svg/);
  assert.match(html, /CWE-089/);
  assert.match(html, /CWE-476/);
});
