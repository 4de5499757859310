// The shared CLI flag parsers: one reading of each decoding and model flag for every command.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodingFrom, engineOptionsFrom } from "../../src/cli/options.ts";
import { parseServeArgs } from "../../src/cli/serve.ts";
import { InvalidArgumentError } from "../../src/errors.ts";

test("strategy parameters count without --strategy (the default strategy takes them)", () => {
  const d = decodingFrom({ expert: "e.gguf", threshold: "0.5" });
  assert.equal(d.strategy.name, "cosec-plus");
  assert.equal(d.threshold, 0.5);
  assert.equal(decodingFrom({}).strategy.name, "target", "without --expert");
  assert.equal(decodingFrom({ strategy: "weighted", alpha: "0.2", expert: "e.gguf" }).alpha, 0.2);
  assert.throws(() => decodingFrom({ "cosec-plus-mode": "bogus" }), (e: unknown) => e instanceof InvalidArgumentError && e.field === "--cosec-plus-mode");
});

test("core-sharing flags are validated and reach the engine options", () => {
  const o = engineOptionsFrom({ target: "t.gguf", "solo-threads": "4", schedule: "serial" });
  assert.equal(o.soloThreads, 4);
  assert.equal(o.schedule, "serial");
  assert.throws(() => engineOptionsFrom({ target: "t.gguf", schedule: "parallel" }), (e: unknown) => e instanceof InvalidArgumentError && e.field === "--schedule");
  assert.throws(() => engineOptionsFrom({ target: "t.gguf", "solo-threads": "0" }), (e: unknown) => e instanceof InvalidArgumentError);
});

test("cosec serve reads the decoding flags as every other command does", () => {
  const s = parseServeArgs(["--target", "t.gguf", "--expert", "e.gguf", "--cosec-plus-mode", "warped", "--threshold", "0.2", "--speculative", "--draft-max", "4"], {});
  assert.notEqual(s, "help");
  if (s === "help") return;
  assert.equal(s.config.defaults.mode, "warped");
  assert.equal(s.config.defaults.threshold, 0.2);
  assert.equal(s.config.defaults.speculative, true);
  assert.equal(s.config.defaults.draftMax, 4);
  const plain = parseServeArgs(["--target", "t.gguf"], {});
  assert.ok(plain !== "help" && plain.config.defaults.speculative === undefined, "the engine's default");
  const sequential = parseServeArgs(["--target", "t.gguf", "--expert", "e.gguf", "--sequential"], {});
  assert.ok(sequential !== "help" && sequential.config.defaults.speculative === false);
  assert.throws(() => parseServeArgs(["--target", "t.gguf", "--draft-max", "3"], {}), (e: unknown) => e instanceof InvalidArgumentError && e.field === "--draft-max");
  // Run-wide seeds are not a server setting.
  assert.throws(() => parseServeArgs(["--target", "t.gguf", "--seed", "1"], {}), (e: unknown) => e instanceof InvalidArgumentError && e.field === "arguments");
  assert.throws(() => parseServeArgs(["--target", "t.gguf", "--cosec-plus-mode", "x"], {}), (e: unknown) => e instanceof InvalidArgumentError && e.field === "--cosec-plus-mode");
});

test("cosec serve's FIM layout: unset (the target's GGUF decides), --fim-order, or llama.cpp's --spm-infill", () => {
  const order = (...argv: string[]) => {
    const s = parseServeArgs(["--target", "t.gguf", ...argv], {});
    assert.ok(s !== "help");
    return s.config.fimOrder;
  };
  assert.equal(order(), undefined);
  assert.equal(order("--spm-infill"), "spm");
  assert.equal(order("--fim-order", "psm"), "psm");
  assert.equal(order("--fim-order", "spm", "--spm-infill"), "spm");
  assert.throws(() => order("--fim-order", "mps"), (e: unknown) => e instanceof InvalidArgumentError && e.field === "--fim-order");
  assert.throws(() => order("--fim-order", "psm", "--spm-infill"), (e: unknown) => e instanceof InvalidArgumentError && e.field === "--spm-infill");
});

test("speculative flags: on for strategies that use the expert unless --speculative, --sequential or --draft-max says otherwise", () => {
  const spec = (v: Record<string, string | boolean>) => {
    const d = decodingFrom({ expert: "e.gguf", ...v });
    return [d.speculative, d.draftMax];
  };
  assert.deepEqual(spec({}), [true, undefined]);
  assert.deepEqual(spec({ strategy: "target" }), [false, undefined]);
  assert.deepEqual(spec({ strategy: "target", speculative: true }), [true, undefined]);
  assert.deepEqual(spec({ sequential: true }), [false, undefined]);
  assert.deepEqual(spec({ strategy: "target", "draft-max": "5" }), [true, 5]);
  assert.throws(() => decodingFrom({ expert: "e.gguf", sequential: true, speculative: true }), (e: unknown) => e instanceof InvalidArgumentError && e.field === "--sequential");
  assert.throws(
    () => decodingFrom({ expert: "e.gguf", sequential: true, "draft-max": "2" }),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === "--draft-max" && /does not apply with --sequential/.test(e.message),
  );
});

test("a malformed command line is a usage error (exit 2) naming the option, not a crash", async () => {
  const { main } = await import("../../src/cli/main.ts");
  const errors: string[] = [];
  const original = console.error;
  console.error = (...a: unknown[]) => void errors.push(a.join(" "));
  try {
    assert.equal(await main(["generate", "--bogus"]), 2);
    assert.equal(await main(["eval", "security", "--only", "-py"]), 2);
  } finally {
    console.error = original;
  }
  assert.match(errors[0], /^cosec generate: Unknown option '--bogus'/);
  assert.match(errors[1], /^cosec eval: Option '--only' argument is ambiguous[\s\S]*--only=-XYZ/);
});
