// The shipped demo family: checksums checked before use (a damaged, truncated or missing file is a
// named error that says how to restore it, and nothing is written), shipping through temporary
// names, and the shipped manifest's stage keys equal to what the current code would build.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { getBudget } from "../../src/demo/budgets.ts";
import { corpusPairs, dataFingerprint, stageKeys, stageSettings } from "../../src/demo/build.ts";
import { MANIFEST_VERSION, STAGES, writeManifest, type Manifest } from "../../src/demo/manifest.ts";
import { readShipped, resultsForShipped, SHIPPED_DIR, SHIPPED_FILES, shipFamily, ShippedFamilyError, shippedResultsDir, verifiedShipped } from "../../src/demo/shipped.ts";
import { dataRoot, repoRoot } from "../../src/paths.ts";

const tmp = mkdtempSync(join(tmpdir(), "cosec-shipped-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A finished family folder as `cosec demo build` leaves it (files with distinct bytes). */
function builtFamily(dir: string): void {
  const gguf = { target: "gguf/target.gguf", expert: "gguf/expert.gguf", expertLora: "gguf/expert-security-lora.gguf" };
  mkdirSync(join(dir, "gguf"), { recursive: true });
  for (const [k, f] of Object.entries(gguf)) writeFileSync(join(dir, f), Buffer.from(`GGUF ${k} `.repeat(50)));
  const m: Manifest = { version: MANIFEST_VERSION, seed: 0, budget: "medium", data: "/somewhere/shared", stages: {}, gguf };
  writeManifest(dir, m);
}

describe("shipping and verifying a family", () => {
  const from = join(tmp, "built");
  const to = join(tmp, "shipped");
  builtFamily(from);

  test("ship copies the files with their SHA-256 and sizes and the rebuild commands; verify passes", () => {
    const s = shipFamily(from, to);
    for (const role of ["target", "expert", "expertLora"] as const) {
      assert.equal(s.files[role].file, SHIPPED_FILES[role]);
      assert.equal(s.files[role].bytes, statSync(join(to, SHIPPED_FILES[role])).size);
      assert.match(s.files[role].sha256, /^[0-9a-f]{64}$/);
    }
    assert.ok(s.rebuild.some((c) => c.includes("demo build --budget medium")));
    assert.equal(s.figures, null, "no evaluation in --from: no figures, none invented");
    assert.deepEqual(readShipped(to), s);
    const v = verifiedShipped(to);
    assert.equal(v.paths.target, join(to, "target.gguf"));
    assert.doesNotMatch(readFileSync(join(to, "manifest.json"), "utf8"), /somewhere/, "no machine paths shipped");
    assert.ok(!existsSync(join(to, "shipped.json.tmp")));
  });

  test("a damaged file is named, with how to restore it, and left as it is", () => {
    const path = join(to, "expert.gguf");
    const bytes = readFileSync(path);
    bytes[10] ^= 0xff;
    writeFileSync(path, bytes);
    const before = readFileSync(path);
    assert.throws(
      () => verifiedShipped(to),
      (e: unknown) => e instanceof ShippedFamilyError && /expert .*expert\.gguf: SHA-256 [0-9a-f]+ does not match/.test(e.message) && /git checkout/.test(e.message) && /demo build --budget medium/.test(e.message),
    );
    assert.deepEqual(readFileSync(path), before, "the damaged file is not rewritten");
    shipFamily(from, to);
  });

  test("a truncated or missing file, or a broken record, is a named error", () => {
    truncateSync(join(to, "target.gguf"), 10);
    assert.throws(() => verifiedShipped(to), (e: unknown) => e instanceof ShippedFamilyError && /target .* has 10 bytes, expected \d+ \(truncated/.test(e.message));
    rmSync(join(to, "target.gguf"));
    assert.throws(() => verifiedShipped(to), (e: unknown) => e instanceof ShippedFamilyError && /target .*target\.gguf is missing/.test(e.message));
    writeFileSync(join(to, "shipped.json"), "{");
    assert.throws(() => verifiedShipped(to), (e: unknown) => e instanceof ShippedFamilyError && /shipped\.json: not valid JSON/.test(e.message));
    assert.throws(() => verifiedShipped(join(tmp, "none")), (e: unknown) => e instanceof ShippedFamilyError && /no shipped demo family/.test(e.message));
  });

  test("results of an earlier shipped family are not continued: removed once, kept while the family stays", () => {
    const s = shipFamily(from, to);
    const results = join(tmp, "results");
    mkdirSync(join(results, "show"), { recursive: true });
    writeFileSync(join(results, "show", "show.jsonl"), "{}\n");
    assert.equal(resultsForShipped(results, s), true, "results without a stamp are an unknown family's");
    assert.ok(!existsSync(join(results, "show")));
    mkdirSync(join(results, "eval"), { recursive: true });
    assert.equal(resultsForShipped(results, s), false, "the same family keeps its results");
    assert.ok(existsSync(join(results, "eval")));
    const other = { ...s, files: { ...s.files, target: { ...s.files.target, sha256: "0".repeat(64) } } };
    assert.equal(resultsForShipped(results, other), true, "another target: removed");
    assert.ok(!existsSync(join(results, "eval")));
  });

  test("each copy of the shipped family keeps its results apart: the repository's in demo-shipped", () => {
    assert.equal(shippedResultsDir("/c", join(repoRoot, "models", "demo")), join("/c", "demo-shipped"));
    const a = shippedResultsDir("/c", join(tmp, "copy-a"));
    assert.match(a, /\/c\/demo-shipped-[0-9a-f]{12}$/);
    assert.notEqual(a, shippedResultsDir("/c", join(tmp, "copy-b")));
    assert.equal(a, shippedResultsDir("/c", join(tmp, "copy-a", ".")), "the same folder, however written");
  });

  test("shipping refuses a folder without a finished family", () => {
    assert.throws(() => shipFamily(join(tmp, "none"), join(tmp, "x")), (e: unknown) => e instanceof ShippedFamilyError && /no finished demo family/.test(e.message));
  });
});

describe("stage keys", () => {
  test("they chain: changing one stage's settings changes its key and every later one", () => {
    const b = getBudget("medium");
    const k1 = stageKeys(b, 0, "abc", 100);
    const k2 = stageKeys({ ...b, distillSteps: b.distillSteps + 1 }, 0, "abc", 100);
    for (const s of STAGES) assert.equal(k1[s] === k2[s], STAGES.indexOf(s) < STAGES.indexOf("expert"), s);
    assert.notEqual(stageKeys(b, 0, "abd", 100).corpus, k1.corpus, "the data digest is in the corpus key");
    assert.match(String(stageSettings(b, "abc", 100).corpus.code), /^[0-9a-f]{16}$/, "so is the corpus code's digest");
  });
});

let haveData = true;
try {
  dataRoot();
} catch {
  haveData = false;
}

describe("the family shipped in models/demo", { skip: !haveData && "shared data not found" }, () => {
  test("its files match their checksums", () => {
    const v = verifiedShipped(SHIPPED_DIR);
    assert.equal(v.shipped.budget, v.manifest.budget);
    for (const f of Object.values(v.shipped.files)) assert.ok(f.bytes < 40 * 1024 * 1024, `${f.file} stays small`);
  });

  test("its stage keys are what the current code and data would build (code and weights cannot drift apart)", () => {
    const { manifest: m } = verifiedShipped(SHIPPED_DIR);
    const keys = stageKeys(getBudget(m.budget), m.seed, dataFingerprint(dataRoot()), corpusPairs(m));
    for (const s of STAGES) {
      assert.equal(
        m.stages[s]?.key,
        keys[s],
        `stage ${s} of models/demo was built with other settings than the current code's; rebuild and ship: ${readShipped(SHIPPED_DIR).rebuild.join(" && ")}`,
      );
    }
  });
});
