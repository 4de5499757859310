// `cosec demo` end to end with the tiny budget (what CI runs): build the family with the real
// trainer, load its GGUF files (the engine checks that the vocabularies match), print target and
// cosec-plus completions side by side, check llama.cpp tokenizes like the trained tokenizer and finds
// the FIM tokens of its fill-in-the-middle examples, and skip every stage on a rerun.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { familyPaths, readManifest } from "../../src/demo/manifest.ts";
import { LlamaBackend } from "../../src/backend/llama-backend.ts";
import { Engine } from "../../src/generate/engine.ts";
import { dataRoot, repoRoot, venvPython } from "../../src/paths.ts";

const out = mkdtempSync(join(tmpdir(), "cosec-demo-e2e-"));
after(() => rmSync(out, { recursive: true, force: true }));

function cosec(args: string[]) {
  const r = spawnSync(process.execPath, [join(repoRoot, "bin", "cosec.mjs"), ...args], { cwd: repoRoot, encoding: "utf8", timeout: 15 * 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("demo --build-if-missing with the tiny budget builds, shows both strategies, and is idempotent", { timeout: 20 * 60_000 }, async () => {
  const first = cosec(["demo", "--build-if-missing", "--budget", "tiny", "--out", out, "--samples", "1", "--max-tokens", "24", "--scenarios", "cwe-089/0-py,cwe-022/0-py"]);
  assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
  const family = familyPaths(out);
  assert.ok(family, "the family's GGUF files exist");
  for (const f of Object.values(family)) assert.ok(existsSync(f), f);
  const m = readManifest(out)!;
  assert.equal(m.budget, "tiny");
  assert.deepEqual(Object.keys(m.stages), ["corpus", "tokenizer", "target", "expert", "security", "export"]);
  assert.equal(typeof m.stages.corpus!.info.nearDuplicatesExcluded, "number");
  assert.match(first.stdout, /cwe-089\/0-py \(CWE-089\)/);
  assert.match(first.stdout, /target, sample 0: (secure|INVALID|VULNERABLE)/);
  assert.match(first.stdout, /cosec-plus, sample 0: (secure|INVALID|VULNERABLE)/);
  assert.match(first.stdout, /acceptance of expert tokens: \d\.\d\d/);
  assert.match(first.stdout, /^cosec-plus\s+2\s+\d+/m);
  assert.match(first.stdout, /cosec eval security --target big\.gguf/);
  // the tiny family is a short budget: the demo points to the one that shows the effect
  assert.match(first.stdout, /cosec demo build --budget medium/);

  // llama.cpp tokenizes exactly as the Hugging Face tokenizer the models were trained with.
  const texts = ["cwe-089/0-py", "cwe-125/0-c"].map((id) => {
    const dir = join(dataRoot(), "datasets", "sven", "data_eval", "trained", id);
    const ext = id.endsWith("-c") ? "c" : "py";
    return readFileSync(join(dir, `file_context.${ext}`), "utf8") + readFileSync(join(dir, `func_context.${ext}`), "utf8");
  });
  texts.push("x  =  1\n\n\t\tif a:\n    return 'ünï 🙂'\r\n   ");
  const hf = JSON.parse(
    execFileSync(venvPython(), ["-c", `import json,sys\nfrom tokenizers import Tokenizer\nt=Tokenizer.from_file(sys.argv[1])\nprint(json.dumps([t.encode(x).ids for x in json.load(sys.stdin)]))`, join(out, "tokenizer", "tokenizer.json")], {
      input: JSON.stringify(texts),
    }).toString(),
  ) as number[][];
  const backend = await LlamaBackend.load({ path: family.target });
  const engine = Engine.fromBackends({ target: backend });
  try {
    texts.forEach((t, i) => {
      const ids = backend.tokenizer.tokenize(t, { addBos: false });
      assert.deepEqual(ids, hf[i]);
      assert.equal(backend.tokenizer.detokenize(ids), t);
    });
    // The tiny budget trains fill-in-the-middle examples: llama.cpp finds the FIM tokens the trainer
    // added, and the target fills in llama.cpp's /infill layout.
    const s = backend.vocab.special;
    assert.ok(s.fimPrefix !== null && s.fimSuffix !== null && s.fimMiddle !== null, `FIM tokens found: ${JSON.stringify(s)}`);
    const prompt = engine.fimPrompt({ prefix: "def area(r):\n    ", suffix: "\n    return a\n" });
    assert.deepEqual([prompt.includes(s.fimPrefix!), prompt.at(-1)], [true, s.fimMiddle]);
    const [fill] = await engine.generate(prompt, { decoding: { strategy: "target" }, maxTokens: 8, seed: 1 });
    assert.ok(fill.tokens.length > 0);
  } finally {
    await engine.dispose();
  }

  const again = cosec(["demo", "build", "--budget", "tiny", "--out", out]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /0 stages built, 6 skipped/);
});

test("demo without a family and without --build-if-missing says how to build one", () => {
  const r = cosec(["demo", "--out", join(out, "empty")]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cosec demo build/);
});

test("demo on the shipped family: no training, side by side, summary with intervals, HTML report", { timeout: 10 * 60_000 }, () => {
  const r = cosec(["demo", "--scenarios", "cwe-089/0-py,cwe-787/0-c", "--samples", "2", "--max-tokens", "64"]);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /demo: shipped medium family in models\/demo; 2 scenarios × 2 samples/);
  assert.doesNotMatch(r.stdout, /building/);
  assert.match(r.stdout, /cosec-plus, sample \d: (secure|INVALID|VULNERABLE)/);
  assert.match(r.stdout, /^target\s+4\s+\d+\.\d%/m);
  assert.match(r.stdout, /^expert\s+4\s+/m);
  assert.match(r.stdout, /cosec-plus − target, security ratio: .* \(paired bootstrap over \d scenarios/);
  const report = r.stdout.match(/report \(every sample side by side\): (\S+)/)?.[1];
  assert.ok(report && existsSync(report), "the report is written");
  assert.match(readFileSync(report, "utf8"), /<div class="cols">/);
});

test("demo on a damaged copy of the shipped family: a named error, and the files are left untouched", () => {
  const copy = join(out, "shipped-copy");
  execFileSync("cp", ["-r", join(repoRoot, "models", "demo"), copy]);
  const path = join(copy, "target.gguf");
  const bytes = readFileSync(path);
  bytes[bytes.length - 5] ^= 0x55;
  writeFileSync(path, bytes);
  const r = spawnSync(process.execPath, [join(repoRoot, "bin", "cosec.mjs"), "demo"], { cwd: repoRoot, encoding: "utf8", env: { ...process.env, COSEC_DEMO_MODELS: copy } });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /shipped demo target .*target\.gguf: SHA-256 .* does not match .*demo build --budget medium/);
  assert.deepEqual(readFileSync(path), bytes);
});
