// `cosec serve` refuses broken models before it listens: a truncated GGUF, a LoRA made for another
// base, an expert with another vocabulary. Each is a named error and a non-zero exit, and the file
// the test corrupted is left as it was.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { closeSync, copyFileSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ensureFixtures } from "../helpers/fixtures.ts";
import { startServer } from "./server-harness.ts";

const scratch = mkdtempSync(join(tmpdir(), "cosec-bad-models-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

/** Starts the server with `args` over the defaults; returns what it printed once it exited. */
async function refused(args: string[]): Promise<string> {
  const err = await startServer(args).then(
    async (s) => {
      await s.stop();
      return null;
    },
    (e: Error) => e,
  );
  assert.ok(err, "the server started listening");
  assert.match(err.message, /server exited \((\d+)\) before listening/);
  assert.doesNotMatch(err.message, /server exited \(0\)/);
  return err.message;
}

describe("cosec serve refuses broken models before listening", () => {
  test("a truncated target GGUF: named, and the file is not touched", async () => {
    const f = await ensureFixtures();
    const path = join(scratch, "truncated.gguf");
    copyFileSync(f.targetLlama, path);
    const fd = openSync(path, "r+");
    ftruncateSync(fd, Math.floor(statSync(path).size * 0.6));
    closeSync(fd);
    const before = sha(path);
    const out = await refused(["--target", path]);
    assert.match(out, /truncated/);
    assert.ok(out.includes(path), "names the file");
    assert.equal(sha(path), before);
  });

  test("a LoRA adapter made for another base model", async () => {
    const f = await ensureFixtures();
    // The expert's adapter on the target (another size): its tensors do not fit.
    const out = await refused(["--expert", f.targetLlama, "--expert-lora", f.expertLlamaLora]);
    assert.match(out, /could not load the LoRA adapter .*expert-llama-lora\.gguf/);
  });

  test("an expert whose vocabulary differs from the target's", async () => {
    const f = await ensureFixtures();
    const out = await refused(["--expert", f.otherVocab, "--expert-lora", ""]);
    assert.match(out, /vocabular/i);
    assert.match(out, /cosec-renamed-1000/);
  });
});
