// The TypeScript side drives the real Python trainer: create → pretrain (progress events) →
// export through the `cosec train` CLI → the GGUF loads in llama.cpp.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { dataRoot, repoRoot } from "../../src/paths.ts";
import type { ProgressEvent, TrainerEvent } from "../../src/train/events.ts";
import { TrainerFailedError } from "../../src/train/errors.ts";
import { runTrainer } from "../../src/train/run-trainer.ts";

const dir = mkdtempSync(join(tmpdir(), "cosec-train-e2e-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("create, pretrain with progress, export via the CLI, load in llama.cpp", { timeout: 600_000 }, async () => {
  const sven = join(dataRoot(), "datasets", "sven", "data_train_val", "train", "cwe-079.jsonl");
  const docs = readFileSync(sven, "utf8").trim().split("\n").slice(0, 12);
  const corpus = join(dir, "corpus.jsonl");
  writeFileSync(corpus, docs.map((l) => JSON.stringify({ text: (JSON.parse(l) as { func_src_after: string }).func_src_after.slice(0, 800) })).join("\n") + "\n");

  await runTrainer("create", ["--arch", "qwen2", "--size", "tiny", "--out", join(dir, "base")]);
  const seen: TrainerEvent[] = [];
  const events = await runTrainer(
    "pretrain",
    ["--init", join(dir, "base"), "--data", corpus, "--block", "32", "--max-val", "2", "--steps", "3", "--batch-size", "2", "--run-dir", join(dir, "run")],
    { onEvent: (e) => seen.push(e) },
  );
  assert.deepEqual(seen, events);
  const progress = events.filter((e): e is ProgressEvent => e.event === "progress");
  assert.deepEqual(progress.map((e) => e.step), [1, 2, 3]);
  assert.ok(progress.every((e) => typeof e.loss === "number" && e.tokens_per_s > 0));
  assert.equal(events.at(-1)?.event, "done");

  const out = join(dir, "model-q8.gguf");
  const cli = spawnSync(process.execPath, ["bin/cosec.mjs", "train", "export", "--run", join(dir, "run"), "--outtype", "q8_0", "--out", out, "--json"], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /"event": ?"done"/);

  const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: out });
  assert.deepEqual(Array.from(model.tokenize("def f():")), [4299, 277, 33529]);
  await model.dispose();
  await llama.dispose();
});

test("trainer errors surface as TrainerFailedError with the trainer's message", { timeout: 120_000 }, async () => {
  await assert.rejects(
    runTrainer("pretrain", ["--data", join(dir, "missing"), "--run-dir", join(dir, "bad")]),
    (e: unknown) => e instanceof TrainerFailedError && /training data not found/.test(e.message) && e.exitCode === 2,
  );
});
