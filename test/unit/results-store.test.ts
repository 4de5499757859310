// The append-only results file under a kill that lands mid-append: the file is cut at every byte
// of the last record's write, then loaded and appended to again, as a resumed run does.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ResultsFileError } from "../../src/errors.ts";
import { ResultsStore } from "../../src/eval/results-store.ts";

type Rec = { key: string; text: string };
const dir = mkdtempSync(join(tmpdir(), "results-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const open = (path: string) => new ResultsStore<Rec>(path, (r) => r.key);
const line = (r: Rec) => JSON.stringify(r) + "\n";
// non-ASCII text: a cut can fall inside a multi-byte character
const recs: Rec[] = [
  { key: "a", text: "x = 1" },
  { key: "b", text: "naïve → ok" },
  { key: "c", text: "12" },
];

test("a kill at any byte of the last append: complete records kept, the torn one dropped, the file appendable", () => {
  const before = Buffer.from(line(recs[0]) + line(recs[1]));
  const last = Buffer.from(line(recs[2]));
  for (let cut = 0; cut <= last.length; cut++) {
    const path = join(dir, `cut-${cut}.jsonl`);
    writeFileSync(path, Buffer.concat([before, last.subarray(0, cut)]));
    const store = open(path);
    // The last record survives once all of its JSON is there, with or without its newline.
    const complete = cut >= last.length - 1;
    assert.deepEqual(store.records().map((r) => r.key), complete ? ["a", "b", "c"] : ["a", "b"], `cut at ${cut}`);
    store.add({ key: "d", text: "after resume" });
    const reread = open(path);
    assert.deepEqual(reread.records().map((r) => r.key), complete ? ["a", "b", "c", "d"] : ["a", "b", "d"], `cut at ${cut}`);
    // every line is one whole record: nothing glued, nothing duplicated
    const lines = readFileSync(path, "utf8").split("\n");
    assert.equal(lines.pop(), "");
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as Rec).key), reread.records().map((r) => r.key));
  }
});

test("a damaged line before the end is a named error naming the file and the byte, and the file is left alone", () => {
  const path = join(dir, "damaged.jsonl");
  const text = line(recs[0]) + '{"key": "b", "te\n' + line(recs[2]);
  writeFileSync(path, text);
  assert.throws(
    () => open(path),
    (e: unknown) => e instanceof ResultsFileError && e.file === path && e.byteOffset === Buffer.byteLength(line(recs[0])) && e.message.includes(path),
  );
  assert.equal(readFileSync(path, "utf8"), text);
});

test("a record already stored is not appended twice", () => {
  const path = join(dir, "dup.jsonl");
  const store = open(path);
  store.add(recs[0]);
  store.add({ ...recs[0], text: "again" });
  open(path).add(recs[0]);
  assert.equal(readFileSync(path, "utf8"), line(recs[0]));
});
