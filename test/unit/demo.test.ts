// The demo's budgets, manifest (idempotent, resumable stages), trainer argument lists, the real
// corpus + tokenizer stages, and the side-by-side formatting.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { getBudget, securitySteps, BUDGET_NAMES } from "../../src/demo/budgets.ts";
import { buildFamily } from "../../src/demo/build.ts";
import {
  DemoManifestError,
  familyPaths,
  invalidateFrom,
  MANIFEST_VERSION,
  readManifest,
  stageIsDone,
  writeManifest,
  type Manifest,
} from "../../src/demo/manifest.ts";
import { changedLines, demoFigures, formatScenario, formatSummary, tellingSample } from "../../src/demo/show.ts";
import { formatPairedDifference, gainsOver, pairedBootstrap } from "../../src/eval/paired-bootstrap.ts";
import * as cli from "../../src/demo/trainer-cli.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import { RAW_TARGET, securityRuns, type SampleRecord } from "../../src/eval/security.ts";
import type { StrategyName } from "../../src/generate/types.ts";
import type { Scenario } from "../../src/eval/scenarios.ts";
import { dataRoot } from "../../src/paths.ts";
import { TrainerFailedError } from "../../src/train/errors.ts";
import { launchTrainer } from "../../src/train/launch.ts";

const tmp = mkdtempSync(join(tmpdir(), "cosec-demo-unit-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("budgets", () => {
  test("names resolve; unknown names are rejected naming the option", () => {
    for (const n of BUDGET_NAMES) assert.equal(getBudget(n).name, n);
    assert.throws(() => getBudget("huge"), (e: unknown) => e instanceof InvalidArgumentError && /--budget.*huge.*tiny, default, medium, large/.test(e.message));
  });
  test("the expert is smaller than the target in every budget but tiny", () => {
    for (const n of ["default", "medium", "large"]) assert.notEqual(getBudget(n).targetSize, getBudget(n).expertSize);
  });
  test("medium is the default's family trained longer: same sizes, more steps in every phase", () => {
    const d = getBudget("default");
    const m = getBudget("medium");
    for (const k of ["vocabSize", "seqLen", "targetSize", "expertSize", "loraRank"] as const) assert.equal(m[k], d[k], k);
    for (const k of ["targetPretrainSteps", "targetDomainSteps", "distillSteps", "securityMaxSteps", "syntheticPython", "syntheticC"] as const) assert.ok(m[k] > d[k], k);
  });
  test("security steps: epochs over pairs, capped", () => {
    const b = getBudget("default");
    assert.equal(securitySteps(b, 80), Math.ceil((b.securityEpochs * 80) / b.batch));
    assert.equal(securitySteps(b, 1_000_000), b.securityMaxSteps);
    assert.equal(securitySteps(getBudget("tiny"), 0), 1);
  });
});

describe("manifest", () => {
  const dir = join(tmp, "manifest");
  const base = (): Manifest => ({ version: MANIFEST_VERSION, seed: 3, budget: "tiny", data: "/d", stages: {} });

  test("round trip, and a stage is done only with its key and all outputs", () => {
    const m = base();
    mkdirSync(join(dir, "data"), { recursive: true });
    m.stages.corpus = { key: "k1", outputs: ["data"], seconds: 1, finishedAt: "t", info: {} };
    m.stages.tokenizer = { key: "k2", outputs: ["tokenizer"], seconds: 1, finishedAt: "t", info: {} };
    writeManifest(dir, m);
    const back = readManifest(dir);
    assert.deepEqual(back, m);
    assert.equal(stageIsDone(dir, back!, "corpus", "k1"), true);
    assert.equal(stageIsDone(dir, back!, "corpus", "other"), false);
    assert.equal(stageIsDone(dir, back!, "tokenizer", "k2"), false, "output folder missing");
    assert.equal(familyPaths(dir), null);
  });
  test("invalidating a stage drops it and everything after it", () => {
    const m = base();
    for (const s of ["corpus", "tokenizer", "target"] as const) m.stages[s] = { key: s, outputs: [], seconds: 0, finishedAt: "", info: {} };
    m.gguf = { target: "a", expert: "b", expertLora: "c" };
    invalidateFrom(m, "tokenizer");
    assert.deepEqual(Object.keys(m.stages), ["corpus"]);
    assert.equal(m.gguf, undefined);
  });
  test("a broken manifest is reported with its path", () => {
    const d = join(tmp, "broken");
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "manifest.json"), "{nope");
    assert.throws(() => readManifest(d), (e: unknown) => e instanceof DemoManifestError && e.message.includes(join(d, "manifest.json")));
    writeFileSync(join(d, "manifest.json"), JSON.stringify({ version: 99, stages: {} }));
    assert.throws(() => readManifest(d), /not a version 1 demo manifest/);
    assert.equal(readManifest(join(tmp, "absent")), null);
  });
});

describe("trainer argument lists", () => {
  const b = getBudget("default");
  const loop: cli.LoopSettings = { runDir: "/r", steps: 200, batch: 8, lr: 0.002, seed: 5, resume: false };
  test("a fresh pretrain names the size preset, tokenizer and a context that fits the prompts", () => {
    const a = cli.pretrainArgs({ data: ["g.jsonl"], size: b.targetSize, tokenizer: "/tok", loop }, b);
    const at = (flag: string) => a[a.indexOf(flag) + 1];
    assert.equal(a[0], "pretrain");
    assert.equal(at("--size"), "4m");
    assert.equal(at("--tokenizer"), "/tok");
    assert.equal(at("--block"), String(b.seqLen));
    assert.ok(Number(at("--context")) >= 1024);
    assert.equal(at("--steps"), "200");
    assert.equal(at("--save-every"), "20");
    assert.ok(!a.includes("--resume") && !a.includes("--init"));
  });
  test("continuing from a model and resuming an interrupted run", () => {
    const a = cli.pretrainArgs({ data: ["m.jsonl"], init: "/prev/model", loop: { ...loop, resume: true, threads: 1 } }, b);
    assert.ok(a.includes("--resume"));
    assert.equal(a[a.indexOf("--init") + 1], "/prev/model");
    assert.equal(a[a.indexOf("--threads") + 1], "1");
    assert.ok(!a.includes("--size"));
    assert.throws(() => cli.pretrainArgs({ data: ["m.jsonl"], loop }, b), /needs size and tokenizer/);
  });
  test("the corpus call passes the mix and the synthetic program counts of the budget", () => {
    const a = cli.corpusArgs("/shared", "/out/data", 3, b);
    const at = (flag: string) => a[a.indexOf(flag) + 1];
    assert.equal(a[0], "corpus");
    assert.equal(at("--seed"), "3");
    assert.equal(at("--domain-share"), String(b.domainMix));
    assert.equal(at("--synthetic-python"), String(b.syntheticPython));
    assert.equal(at("--synthetic-c"), String(b.syntheticC));
    assert.ok(b.syntheticPython > 0 && b.syntheticC > 0);
  });
  test("distill and security use the expert preset and the corpus's SVEN folder", () => {
    const d = cli.distillArgs("/t", ["mix.jsonl"], b, loop);
    assert.equal(d[d.indexOf("--student-size") + 1], b.expertSize);
    const s = cli.securityArgs("/e", "/out/data/sven", b, loop);
    assert.equal(s[s.indexOf("--sven") + 1], "/out/data/sven");
    assert.equal(s[s.indexOf("--lora-r") + 1], String(b.loraRank));
  });
  test("latest checkpoint lookup", () => {
    const run = join(tmp, "run");
    assert.equal(cli.latestModelDir(run), null);
    mkdirSync(join(run, "checkpoints", "step-00000004", "model"), { recursive: true });
    writeFileSync(join(run, "checkpoints", "latest"), "step-00000004\n");
    assert.equal(cli.latestModelDir(run), join(run, "checkpoints", "step-00000004", "model"));
    assert.equal(cli.canResume(run), true);
  });
});

describe("trainer process", () => {
  test("a failing module rejects with its stderr", async () => {
    await assert.rejects(
      launchTrainer("cosec_trainer.demo_data", ["corpus", "--data", join(tmp, "no-such-data"), "--out", join(tmp, "x")]),
      (e: unknown) => e instanceof TrainerFailedError && e.exitCode === 2 && /trainer demo_data corpus failed \(exit 2\):.*scenario folder not found/s.test(e.message),
    );
  });
});

let haveData = true;
try {
  dataRoot();
} catch {
  haveData = false;
}

describe("build: corpus and tokenizer stages (real)", { skip: !haveData && "shared data not found" }, () => {
  test("builds, records counts and provenance, then skips on rerun", async () => {
    const out = join(tmp, "family");
    const lines: string[] = [];
    const budget = getBudget("tiny");
    const r1 = await buildFamily({ outDir: out, budget, seed: 7, until: "tokenizer", log: (l) => lines.push(l) });
    assert.deepEqual(r1.built, ["corpus", "tokenizer"]);
    const m = readManifest(out)!;
    assert.equal(m.seed, 7);
    const info = m.stages.corpus!.info as Record<string, unknown>;
    // Of the real code none is near a scenario; some short synthetic C mains are, and are dropped.
    const counts = info.counts as Record<string, Record<string, number>>;
    assert.equal(info.nearDuplicatesExcluded, (counts.synthetic?.near_duplicate_of_scenario ?? 0) + (counts.synthetic_pair?.near_duplicate_of_scenario ?? 0));
    // the synthetic security pairs join SVEN's training pairs
    const records = info.records as Record<string, number>;
    assert.equal(records.synthetic_pairs, counts.synthetic_pair!.kept);
    assert.ok(records.synthetic_pairs > 0 && records.security_train > records.synthetic_pairs);
    assert.ok((counts.synthetic?.kept ?? 0) > 0 && (info.records as Record<string, number>).synthetic === counts.synthetic!.kept);
    assert.ok((info.records as Record<string, number>).domain > 500);
    assert.match(String((info.provenance as Record<string, string>).general_py), /standard library/);
    assert.equal((m.stages.tokenizer!.info as { vocab_size: number }).vocab_size, budget.vocabSize);
    assert.ok(existsSync(join(out, "data", "sven", "train", "cwe-089.jsonl")));
    assert.ok(existsSync(join(out, "tokenizer", "tokenizer.json")));
    assert.equal(m.gguf, undefined, "an unfinished family has no GGUF entry");
    const before = readFileSync(join(out, "data", "domain.jsonl"), "utf8");
    const r2 = await buildFamily({ outDir: out, budget, seed: 7, until: "tokenizer", log: () => {} });
    assert.deepEqual(r2.built, []);
    assert.deepEqual(r2.skipped, ["corpus", "tokenizer"]);
    assert.equal(readFileSync(join(out, "data", "domain.jsonl"), "utf8"), before);
    // Another seed is another family: everything is rebuilt.
    const r3 = await buildFamily({ outDir: out, budget, seed: 8, until: "corpus", log: () => {} });
    assert.deepEqual(r3.built, ["corpus"]);
  });
});

describe("side-by-side output", () => {
  const scenario: Scenario = {
    id: "cwe-089/0-py",
    dir: "/x",
    cwe: "CWE-089",
    language: "py",
    fileContext: "import os\n",
    funcContext: "def f(email):\n    db = connect()\n",
    prompt: "import os\ndef f(email):\n    db = connect()\n",
    description: "unsubscribe",
    checkQl: null,
    customQueries: [],
  };
  const rec = (strategy: string, sample: number, text: string, valid: boolean, secure: boolean, acc: number | null): SampleRecord => ({
    scenario: scenario.id,
    cwe: "CWE-089",
    language: "py",
    strategy,
    seed: 1,
    sample,
    completion: text,
    text,
    ended: true,
    valid,
    validityError: valid ? null : "SyntaxError",
    analyzer: "builtin",
    findings: secure ? [] : [{ cwe: "CWE-089", line: 3, rule: "sql-format", message: "m" }],
    secure,
    analyzerComplete: true,
    tokens: 5,
    finishReason: "stop",
    acceptanceRate: acc,
    addsCode: valid,
  });
  const records = [
    rec("target", 0, "    db.execute('x' % email)", true, false, null),
    rec("cosec-plus", 0, "    db.execute('x', (email,))", true, true, 0.6),
    rec("target", 1, "    )(", false, true, null),
    rec("cosec-plus", 1, "    return", true, true, 0.8),
  ];
  test("the telling sample is shown: both completions with verdicts, acceptance and changed lines marked", () => {
    assert.equal(tellingSample(records, scenario.id)?.target.sample, 0, "target vulnerable, cosec-plus secure wins");
    const s = formatScenario(scenario, records);
    assert.match(s, /target, sample 0: VULNERABLE \(sql-format\)\s+\| cosec-plus, sample 0: secure/);
    assert.match(s, /acceptance of expert tokens: 0\.60/);
    assert.match(s, /▌ +db\.execute\('x' % email\)\s+\| ▌ +db\.execute\('x', \(email,\)\)/);
    assert.match(s, /target 0\/1 valid secure; cosec-plus 2\/2 valid secure/);
    // colour: red on the left, green on the right, only on changed lines
    assert.match(formatScenario(scenario, records, { colour: true }), /\x1b\[31m▌.*\x1b\[0m \| \x1b\[32m▌/);
  });
  test("changed lines: an LCS line diff, indentation ignored", () => {
    assert.deepEqual(changedLines(["a", " b", "c"], ["a", "b", "x", "c"]), { a: [false, false, false], b: [false, false, true, false] });
    assert.deepEqual(changedLines([], ["y"]), { a: [], b: [true] });
  });
  test("summary: validity, security with intervals, the paired gain and CWEs with a gain", () => {
    const f = demoFigures(records);
    const text = formatSummary(f);
    assert.match(text, /^target\s+2\s+50\.0%\s+50\.0%\s+0\.0% \[0\.0, 79\.3\]/m);
    assert.match(text, /^cosec-plus\s+2\s+100\.0%\s+100\.0%\s+100\.0% \[34\.2, 100\.0\]\s+0\.70/m);
    assert.match(text, /\+100\.0 points \(paired bootstrap over 1 scenarios/);
    assert.deepEqual(f.cwesWithGain, ["CWE-089"]);
    assert.equal(f.rawGain, null, "no raw-target run, no line for it");
    assert.doesNotMatch(text, /target-raw/);
    assert.deepEqual(f.cCompiling, [], "no C scenario, no compile line");
    assert.doesNotMatch(text, /C completions/);
  });
  test("C completions that compile, per strategy", () => {
    const inC = (r: SampleRecord, valid: boolean): SampleRecord => ({ ...r, scenario: "cwe-787/0-c", cwe: "CWE-787", language: "c", valid });
    const withC = [...records, inC(rec("target", 0, "x", true, true, null), true), inC(rec("target", 1, "y", false, true, null), false), inC(rec("cosec-plus", 0, "z", false, true, 0.5), false)];
    const f = demoFigures(withC);
    assert.deepEqual(f.cCompiling, [
      { strategy: "target", valid: 1, total: 2 },
      { strategy: "cosec-plus", valid: 0, total: 1 },
    ]);
    assert.match(formatSummary(f), /^C completions that compile \(gcc -fsyntax-only\): target 1\/2 \(50\.0%\), cosec-plus 0\/1 \(0\.0%\)$/m);
  });
  test("with the raw target run: its row, what it is, and cosec-plus's gain over it", () => {
    const withRaw = [...records, rec(RAW_TARGET, 0, "    db.execute('x', (email,))", true, true, null), rec(RAW_TARGET, 1, "    db.execute('x' % email)", true, false, null)];
    const f = demoFigures(withRaw);
    const text = formatSummary(f);
    assert.match(text, /^target-raw\s+2\s+100\.0%/m);
    assert.match(text, /target-raw: the target alone at temperature 1/);
    assert.match(text, /^cosec-plus − target-raw, security ratio: \+50\.0 points \(paired bootstrap over 1 scenarios/m);
    assert.equal(f.rawGain?.difference, 0.5);
  });
  test("gains already computed (eval security's summary.json) are taken as they are, and their lines can be left out", () => {
    const withRaw = [...records, rec(RAW_TARGET, 0, "    db.execute('x', (email,))", true, true, null)];
    const computed = demoFigures(withRaw);
    const known = [{ ...computed.gain, low: 0.123 }, { ...computed.rawGain!, high: 0.456 }];
    const f = demoFigures(withRaw, known);
    assert.equal(f.gain.low, 0.123, "the known target pair, not a new bootstrap");
    assert.equal(f.rawGain?.high, 0.456, "the known raw-target pair");
    assert.deepEqual(demoFigures(withRaw, [known[1]]).gain, computed.gain, "a pair not given is bootstrapped");
    const text = formatSummary(f, { gainLines: false });
    assert.doesNotMatch(text, /paired bootstrap/);
    assert.match(text, /^cosec-plus\s+2\s+100\.0%/m, "the table stays");
  });
});

describe("security runs", () => {
  test("target-raw is the target at temperature 1 with no truncation, whatever the run's sampling; other names are checked", () => {
    const check = (n: string) => {
      if (n !== "target" && n !== "cosec-plus") throw new InvalidArgumentError("--strategies", `unknown strategy '${n}'`);
      return n as StrategyName;
    };
    const runs = securityRuns(["target", RAW_TARGET, "cosec-plus"], check, { temperature: 0.2, topK: 10 });
    assert.deepEqual(runs.map((r) => r.key), ["target", "target-raw", "cosec-plus"]);
    assert.equal(runs[0].decoding.sampling.target.temperature, 0.2);
    const raw = runs[1].decoding;
    assert.equal(raw.strategy.name, "target");
    assert.deepEqual([raw.sampling.target.temperature, raw.sampling.target.topP, raw.sampling.target.topK, raw.sampling.target.minP], [1, 1, 0, 0]);
    assert.throws(() => securityRuns(["target", "nope"], check), /--strategies.*nope/);
  });
});

describe("paired bootstrap over scenarios", () => {
  const r = (scenario: string, strategy: string, secure: boolean, valid = true) =>
    ({ scenario, strategy, secure, valid, cwe: "CWE-089", judged: true }) as SampleRecord;
  test("the difference of pooled ratios, with an interval that covers it and excludes 0 for a consistent gain", () => {
    const rs: SampleRecord[] = [];
    for (let s = 0; s < 10; s++) for (let k = 0; k < 4; k++) rs.push(r(`s${s}`, "target", k === 0), r(`s${s}`, "cosec-plus", k < 3));
    const d = pairedBootstrap(rs, "target", "cosec-plus");
    assert.equal(d.scenarios, 10);
    assert.ok(Math.abs(d.difference! - 0.5) < 1e-9);
    assert.ok(d.low! > 0 && d.low! <= 0.5 && d.high! >= 0.5);
    assert.deepEqual(pairedBootstrap(rs, "target", "cosec-plus"), d, "seeded: the same interval every run");
  });
  test("a gain in one scenario only gives an interval that reaches 0", () => {
    const rs: SampleRecord[] = [];
    for (let s = 0; s < 10; s++) for (let k = 0; k < 4; k++) rs.push(r(`s${s}`, "target", false), r(`s${s}`, "cosec-plus", s === 0));
    const d = pairedBootstrap(rs, "target", "cosec-plus");
    assert.ok(d.difference! > 0 && d.low === 0);
  });
  test("each strategy against the target, in the run's order, one line each; none without the target", () => {
    const rs: SampleRecord[] = [];
    for (let s = 0; s < 4; s++) rs.push(r(`s${s}`, "target", false), r(`s${s}`, "expert", true), r(`s${s}`, "cosec-plus", s < 2));
    const gains = gainsOver(rs, ["target", "expert", "cosec-plus"]);
    assert.deepEqual(gains.map((g) => [g.b, g.difference]), [["expert", 1], ["cosec-plus", 0.5]]);
    assert.match(formatPairedDifference(gains[1]), /^cosec-plus − target, security ratio: \+50\.0 points \(paired bootstrap over 4 scenarios, 95% interval \+0\.0 to \+100\.0\)$/);
    assert.deepEqual(gainsOver(rs, ["expert", "cosec-plus"]), []);
    // with the raw target too: each against the target, then the others against the raw target
    const raw = rs.filter((x) => x.strategy === "target").map((x) => ({ ...x, strategy: RAW_TARGET, secure: true }));
    assert.deepEqual(gainsOver([...rs, ...raw], ["target", RAW_TARGET, "cosec-plus"]).map((g) => [g.a, g.b, g.difference]), [
      ["target", RAW_TARGET, 1],
      ["target", "cosec-plus", 0.5],
      [RAW_TARGET, "cosec-plus", -0.5],
    ]);
  });
  test("invalid and unjudged samples are left out", () => {
    const rs = [r("a", "target", false), r("a", "cosec-plus", true), r("a", "cosec-plus", false, false), { ...r("a", "target", true), judged: false }];
    assert.equal(pairedBootstrap(rs, "target", "cosec-plus").difference, 1);
  });
});
