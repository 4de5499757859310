// Importing the library loads no native code: the kernels addon is loaded on the first decision,
// so `--help`, analysis and the server's option checks work before set-up has built it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { repoRoot } from "../../src/paths.ts";

const probe = `
  const { createRequire } = await import("node:module");
  await import("./src/index.ts");
  await import("./src/decoding/strategies/index.ts");
  const cache = createRequire(import.meta.url).cache;
  const before = Object.keys(cache).filter((k) => k.endsWith(".node") && k.includes("cosec_addon"));
  const { argmax } = await import("./src/decoding/warpers.ts");
  const top = argmax(new Float32Array([0, 3, 1]));
  const after = Object.keys(cache).filter((k) => k.endsWith(".node") && k.includes("cosec_addon"));
  console.log(JSON.stringify({ before: before.length, after: after.length, top }));
`;

test("importing the public API loads no addon; the first kernel call loads it", () => {
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", probe], { cwd: repoRoot, encoding: "utf8" });
  assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1)!), { before: 0, after: 1, top: 1 });
});
