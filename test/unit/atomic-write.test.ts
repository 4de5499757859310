// writeFileAtomic under SIGKILL: a child rewrites a 16 MB file over and over (two versions, built
// once, so the time goes into writing) and is killed at seeded moments; the file under its final
// name is always one whole version. A plain writeFileSync fails this: the file is short mid-write.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { after, test } from "node:test";
import { repoRoot } from "../../src/paths.ts";

const dir = mkdtempSync(join(tmpdir(), "atomic-write-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const SIZE = 16 * 1024 * 1024;
const writer = join(dir, "writer.mts");
writeFileSync(
  writer,
  `import { writeFileAtomic } from ${JSON.stringify(pathToFileURL(join(repoRoot, "src/atomic-write.ts")).href)};
const out = process.argv[2];
const versions = [Buffer.alloc(${SIZE}, "0"), Buffer.alloc(${SIZE}, "1")];
for (let v = 0; ; v++) {
  writeFileAtomic(out, versions[v % 2]);
  if (v === 0) process.stdout.write("first\\n");
}
`,
);

test("a kill during a rewrite leaves the previous or the next version, never a mix or a short file", { timeout: 120_000 }, async () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
  for (let round = 0; round < 5; round++) {
    const out = join(dir, `file-${round}`);
    const child = spawn(process.execPath, ["--import", "tsx", writer, out], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise((r) => child.on("exit", r));
    await new Promise<void>((r) => child.stdout.once("data", () => r()));
    await sleep(5 + rand() * 200);
    child.kill("SIGKILL");
    await exited;
    assert.ok(existsSync(out));
    const text = readFileSync(out, "latin1");
    assert.equal(text.length, SIZE, `round ${round}: ${text.length} bytes`);
    assert.equal(text, text[0].repeat(SIZE), `round ${round}: versions mixed`);
    // only the final name and at most the temporary of the write that was cut
    const others = readdirSync(dir).filter((f) => f.startsWith(`file-${round}`) && f !== `file-${round}`);
    assert.ok(others.every((f) => f.startsWith(`file-${round}.tmp-`)), others.join(","));
    for (const f of [`file-${round}`, ...others]) rmSync(join(dir, f));
  }
});
