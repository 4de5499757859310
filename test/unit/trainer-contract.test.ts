// The TypeScript–Python contract (trainer/contract.json), checked from both sides in one run: the
// real Python modules report the values they use (fixture version, data root, event checks), and
// they must equal what src/train/ derives from the same file; the same bad events are refused by
// both readers, and the trainer's own emit refuses an event the contract does not allow.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { dataRoot, repoRoot, venvPython } from "../../src/paths.ts";
import { eventProblem, parseContract, trainerContract } from "../../src/train/contract.ts";
import { trainerEnv } from "../../src/train/launch.ts";

const python = venvPython();

// Events both sides must judge alike: null = allowed, else a fragment of the reason.
const CASES: [Record<string, unknown>, string | null][] = [
  [{ event: "progress", step: 3, steps: 10, loss: 1.5, lr: 1e-3, tokens_per_s: 100, eta_s: null }, null],
  [{ event: "progress", step: 3 }, 'missing field "steps"'],
  [{ event: "progress", step: 3.5, steps: 10, loss: 1, lr: 1, tokens_per_s: 1, eta_s: 1 }, "step"],
  [{ event: "progress", step: true, steps: 10, loss: 1, lr: 1, tokens_per_s: 1, eta_s: 1 }, "step"],
  [{ event: "eval", step: 2, val_loss: 1.2, pass_rate: 0.4 }, null],
  [{ event: "checkpoint", step: 2, path: "x", extra: 1 }, "extra"],
  [{ event: "start", phase: "p", steps: 1, start_step: 0, trainable_params: 1, world: 1, precision: "fp8" }, "precision"],
  [{ event: "telemetry" }, "unknown event"],
  [{ event: "done", anything: [1, 2] }, null],
];

const probe = `
import json, sys
from cosec_trainer import contract, fixtures, models, progress
cases = json.loads(sys.stdin.read())
def judge(e):
    try:
        contract.check_event(e)
        return None
    except contract.ProtocolError as err:
        return str(err)
emitted = None
try:
    progress.emit("progress", step=1)
except contract.ProtocolError as err:
    emitted = str(err)
print(json.dumps({
    "fixture_version": fixtures.FIXTURE_VERSION,
    "data_root": str(contract.data_root()),
    "tokenizer_dir": str(models.default_tokenizer_dir()),
    "kinds": list(contract.EVENTS),
    "verdicts": [judge(e) for e in cases],
    "emit_refused": emitted,
}))
`;

function pythonSide(env: NodeJS.ProcessEnv = {}): {
  fixture_version: number;
  data_root: string;
  tokenizer_dir: string;
  kinds: string[];
  verdicts: (string | null)[];
  emit_refused: string | null;
} {
  const out = execFileSync(python, ["-c", probe], {
    cwd: repoRoot,
    env: trainerEnv({ env }),
    input: JSON.stringify(CASES.map(([e]) => e)),
    encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

test("both sides read the same fixture version, data root and event kinds from trainer/contract.json", { skip: !existsSync(python) && "no venv" }, () => {
  const c = trainerContract();
  const py = pythonSide({ [c.dataRoot.env]: "" });
  assert.equal(py.fixture_version, c.fixtureVersion);
  assert.deepEqual(py.kinds, Object.keys(c.events));
  // The default, with the variable unset (empty counts as unset on both sides).
  const saved = process.env[c.dataRoot.env];
  process.env[c.dataRoot.env] = "";
  try {
    assert.equal(py.data_root, resolve(dataRoot()));
  } finally {
    if (saved === undefined) delete process.env[c.dataRoot.env];
    else process.env[c.dataRoot.env] = saved;
  }
  assert.equal(py.tokenizer_dir, `${py.data_root}/tokenizers/codegen`);
  // The variable, honoured by both.
  const other = pythonSide({ [c.dataRoot.env]: "/tmp/elsewhere" });
  assert.equal(other.data_root, "/tmp/elsewhere");
});

test("the same events are allowed and refused by the TypeScript reader and the Python writer", { skip: !existsSync(python) && "no venv" }, () => {
  const py = pythonSide();
  CASES.forEach(([event, expected], i) => {
    const ts = eventProblem(event);
    const label = JSON.stringify(event);
    if (expected === null) {
      assert.equal(ts, null, `TS refused ${label}: ${ts}`);
      assert.equal(py.verdicts[i], null, `Python refused ${label}: ${py.verdicts[i]}`);
    } else {
      assert.ok(ts?.includes(expected), `TS on ${label}: ${ts}`);
      assert.equal(py.verdicts[i], ts, `the two sides word the refusal of ${label} alike`);
    }
  });
  assert.match(py.emit_refused ?? "", /missing field "steps"/, "the trainer's emit checks before writing");
});

test("a malformed contract file is a named error", () => {
  const text = readFileSync(new URL("../../trainer/contract.json", import.meta.url), "utf8");
  assert.doesNotThrow(() => parseContract(text));
  assert.throws(() => parseContract("{"), /not JSON/);
  assert.throws(() => parseContract(JSON.stringify({ ...JSON.parse(text), fixtureVersion: "1" })), /fixtureVersion must be an integer/);
  const bad = JSON.parse(text);
  bad.events.progress.required.step = "int";
  assert.throws(() => parseContract(JSON.stringify(bad)), /events\.progress\.required\.step has an unknown type "int"/);
});
