// kill -9 in the middle of a security evaluation, then run again: the results equal those of an
// uninterrupted run (no sample lost, none duplicated).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { after, test } from "node:test";
import { repoRoot } from "../../src/paths.ts";
import { closeSharedPythonWorker } from "../../src/eval/python-worker.ts";
import { recordKey, type SampleRecord } from "../../src/eval/security.ts";
import { ensureFixtures } from "../helpers/fixtures.ts";

after(() => closeSharedPythonWorker());

const url = (p: string) => pathToFileURL(join(repoRoot, p)).href;

function script(out: string, fx: { targetLlama: string; expertLlama: string; expertLlamaLora: string }): string {
  return `
import { Engine } from ${JSON.stringify(url("src/generate/engine.ts"))};
import { BuiltinAnalyzer } from ${JSON.stringify(url("src/eval/analyzers/builtin.ts"))};
import { closeSharedPythonWorker } from ${JSON.stringify(url("src/eval/python-worker.ts"))};
import { defaultScenarioRoot, loadScenarios } from ${JSON.stringify(url("src/eval/scenarios.ts"))};
import { runSecurityEval, strategyRuns } from ${JSON.stringify(url("src/eval/security.ts"))};
const engine = await Engine.load({ target: ${JSON.stringify(fx.targetLlama)}, expert: ${JSON.stringify(fx.expertLlama)}, expertLora: ${JSON.stringify(fx.expertLlamaLora)}, maxSequences: 1 });
const scenarios = loadScenarios(defaultScenarioRoot(), { only: ["cwe-476/0-c"] }).scenarios;
await runSecurityEval({ scenarios, strategies: strategyRuns(["target", "cosec-plus"]), analyzer: new BuiltinAnalyzer(), samples: 4, batch: 1, maxTokens: 6, seed: 3,
  generate: (p, o) => engine.generate(p, o), out: ${JSON.stringify(out)} });
closeSharedPythonWorker();
await engine.dispose();
`;
}

function runChild(file: string): ReturnType<typeof spawn> {
  return spawn(process.execPath, ["--import", "tsx", file], { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] });
}

const lines = (p: string) => (existsSync(p) ? readFileSync(p, "utf8").split("\n").filter((l) => l.trim()) : []);

test("kill -9 mid-run, run again: same records as an uninterrupted run", async () => {
  const fx = await ensureFixtures();
  const dir = mkdtempSync(join(tmpdir(), "cosec-kill-"));
  const full = join(dir, "full.jsonl");
  const killed = join(dir, "killed.jsonl");
  writeFileSync(join(dir, "full.mts"), script(full, fx));
  writeFileSync(join(dir, "killed.mts"), script(killed, fx));

  const exit = (c: ReturnType<typeof spawn>) => new Promise<number | null>((r) => c.on("exit", (code) => r(code)));
  const a = runChild(join(dir, "full.mts"));
  assert.equal(await exit(a), 0);

  const b = runChild(join(dir, "killed.mts"));
  const bExit = exit(b);
  while (lines(killed).length < 2) await sleep(50);
  b.kill("SIGKILL");
  await bExit;
  const partial = lines(killed).length;
  assert.ok(partial < 8, `killed after ${partial} of 8 records`);

  const c = runChild(join(dir, "killed.mts"));
  assert.equal(await exit(c), 0);
  const parse = (p: string) =>
    lines(p)
      .map((l) => JSON.parse(l) as SampleRecord)
      .sort((x, y) => recordKey(x).localeCompare(recordKey(y)));
  const resumed = parse(killed);
  assert.equal(resumed.length, 8);
  assert.equal(new Set(resumed.map(recordKey)).size, 8);
  assert.deepEqual(resumed, parse(full));
});
