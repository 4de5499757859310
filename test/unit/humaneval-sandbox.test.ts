// Executes real programs in the real bubblewrap sandbox: correct and wrong solutions of shared
// HumanEval problems, and escape attempts that must fail and leave no trace on this machine.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { buildProgram, loadProblems, type HumanEvalProblem } from "../../src/eval/humaneval/problems.ts";
import { classify, probeSandbox, runProgram, type SandboxOptions } from "../../src/eval/humaneval/sandbox.ts";
import { dataRoot, repoRoot } from "../../src/paths.ts";

const SANDBOX: SandboxOptions = {
  mode: "bwrap",
  // Small on purpose: a fork bomb gets 16 processes, a loop 1 CPU second, anything 3 s of wall time.
  limits: { timeoutSeconds: 3, cpuSeconds: 1, maxProcesses: 16, memoryBytes: 512 * 1024 ** 2 },
};

let unavailable: string | false = false;
try {
  await probeSandbox();
} catch (err) {
  unavailable = `sandbox unavailable here: ${(err as Error).message}`;
}

const dir = join(dataRoot(), "datasets", "sven", "data_eval", "human_eval");
const byName = new Map(loadProblems(dir).problems.map((p) => [p.name, p]));
const problem = (name: string): HumanEvalProblem => {
  const p = byName.get(name);
  assert.ok(p, `problem ${name} in ${dir}`);
  return p;
};

const run = (program: string) => runProgram(program, SANDBOX);

/** Sandboxed Python processes still alive (all run as uid 65534). */
const sandboxedLeft = (): string =>
  spawnSync("ps", ["-u", "65534", "-o", "pid=,args="], { encoding: "utf8" }).stdout /* ps exits 1 when there is none */
    .split("\n")
    .filter((l) => l.includes("python3 -"))
    .join("\n");

test("real problems: a correct solution passes, a wrong one fails", { skip: unavailable }, async () => {
  const cases: [string, string, string][] = [
    [
      "HumanEval_0_has_close_elements",
      "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n",
      "    return False\n",
    ],
    ["HumanEval_13_greatest_common_divisor", "    while b:\n        a, b = b, a % b\n    return a\n", "    return min(a, b)\n"],
    ["HumanEval_23_strlen", "    return len(string)\n", "    return len(string) - 1 if string else 0\n"],
  ];
  for (const [name, good, bad] of cases) {
    const ok = await run(buildProgram(problem(name), good));
    assert.equal(ok.status, "passed", `${name} correct: ${ok.details} ${ok.stderrTail}`);
    const ko = await run(buildProgram(problem(name), bad));
    assert.equal(ko.status, "failed", `${name} wrong: ${ko.details}`);
    assert.match(ko.details, /^AssertionError/);
  }
  const strlen = problem("HumanEval_23_strlen");
  const syntax = await run(buildProgram(strlen, "    return len(string\n"));
  assert.equal(syntax.status, "error");
  assert.match(syntax.details, /SyntaxError/);
});

// An escape attempt as a "completion": attempt() returns True only if the escape worked, and the
// test asserts it did, so a contained attempt ends as `failed` (or `killed` by a limit).
const escape = (body: string) => `import os, socket\n\ndef attempt():\n${body}\n\nassert attempt() is True, "escape blocked"\n`;
const marker = `cosec-he-escape-${process.pid}`;
const repoFile = join(repoRoot, `${marker}.txt`);
const hostTmpFile = join("/tmp", `${marker}.txt`);
const cleanup = () => [repoFile, hostTmpFile].forEach((f) => rmSync(f, { force: true }));
before(cleanup);
after(cleanup);

test("escape: no network, not even to a server on this host's loopback", { skip: unavailable }, async () => {
  let connections = 0;
  const server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  try {
    const r = await run(
      escape(`    for host, p in (("127.0.0.1", ${port}), ("1.1.1.1", 53)):
        try:
            socket.create_connection((host, p), timeout=1).close()
            return True
        except OSError:
            pass
    return False`),
    );
    assert.equal(r.status, "failed", r.details);
    assert.equal(connections, 0);
  } finally {
    server.close();
  }
});

test("escape: writing into the repository or the host's /tmp leaves no file", { skip: unavailable }, async () => {
  const r = await run(
    escape(`    wrote = False
    for path in (${JSON.stringify(repoFile)}, ${JSON.stringify(hostTmpFile)}):
        try:
            with open(path, "w") as f:
                f.write("pwned")
            wrote = wrote or path.startswith(${JSON.stringify(repoRoot)})
        except OSError:
            pass
    return wrote`),
  );
  assert.equal(r.status, "failed", r.details);
  assert.equal(existsSync(repoFile), false);
  assert.equal(existsSync(hostTmpFile), false, "the sandbox's /tmp is private");
});

test("escape: os.system writing outside leaves no file", { skip: unavailable }, async () => {
  const r = await run(
    escape(`    rc = os.system("echo pwned > ${repoFile}; echo pwned > ${hostTmpFile}; cat /etc/passwd > /tmp/x")
    return rc == 0 and os.path.exists(${JSON.stringify(repoFile)})`),
  );
  assert.equal(r.status, "failed", r.details);
  assert.equal(existsSync(repoFile), false);
  assert.equal(existsSync(hostTmpFile), false);
});

test("escape: the project, home, host files and our environment are not readable", { skip: unavailable }, async () => {
  process.env.COSEC_HE_SECRET = "s3cret";
  const r = await run(
    escape(`    if os.environ.get("COSEC_HE_SECRET"):
        return True
    for path in (${JSON.stringify(join(repoRoot, "package.json"))}, "/root", "/home", "/work", "/etc/passwd", "/etc/shadow"):
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                open(path).read()
            return True
        except OSError:
            pass
    return False`),
  );
  delete process.env.COSEC_HE_SECRET;
  assert.equal(r.status, "failed", r.details);
});

test("escape: a fork bomb is bounded by the process limit and leaves no process", { skip: unavailable }, async () => {
  const r = await run("import os\nwhile True:\n    os.fork()\n");
  assert.ok(r.status === "killed" || r.status === "timeout", `${r.status}: ${r.details}`);
  assert.ok(r.durationMs < 5000);
  // Every sandboxed process runs as uid 65534 in its own PID namespace; none may outlive the run.
  await new Promise((res) => setTimeout(res, 200));
  assert.equal(sandboxedLeft(), "", "no forked process outlives the sandbox");
});

test("escape: allocating 8 GB is refused by the memory limit", { skip: unavailable }, async () => {
  const r = await run("x = bytearray(8 * 1024 ** 3)\nprint(len(x))\n");
  assert.equal(r.status, "killed", r.details);
  assert.match(r.details, /memory/);
});

test("an infinite loop is stopped by the CPU limit; a sleeper by the wall-clock timeout", { skip: unavailable }, async () => {
  const sleeperLimits = { ...SANDBOX.limits, timeoutSeconds: 1.5 };
  const [loop, sleeper] = await Promise.all([
    run("while True:\n    pass\n"),
    runProgram("import time\ntime.sleep(600)\n", { ...SANDBOX, limits: sleeperLimits }),
  ]);
  // Normally the CPU limit (1 s) ends it; on a heavily shared CPU the 3 s wall clock may come first.
  assert.ok(loop.status === "killed" || loop.status === "timeout", `${loop.status}: ${loop.details}`);
  if (loop.status === "killed") assert.match(loop.details, /SIGXCPU|SIGKILL/);
  assert.equal(sleeper.status, "timeout");
  assert.ok(sleeper.durationMs >= 1500 && sleeper.durationMs < 3500, `${sleeper.durationMs} ms`);
  await new Promise((res) => setTimeout(res, 200));
  assert.equal(sandboxedLeft(), "", "the timed-out program died with its sandbox");
});

test("unsafe mode (no sandbox) still runs programs with limits and a timeout", async () => {
  const opts: SandboxOptions = { mode: "unsafe", limits: { timeoutSeconds: 1, cpuSeconds: 1 } };
  const gcd = problem("HumanEval_13_greatest_common_divisor");
  assert.equal((await runProgram(buildProgram(gcd, "    while b:\n        a, b = b, a % b\n    return a\n"), opts)).status, "passed");
  assert.equal((await runProgram(buildProgram(gcd, "    return 1\n"), opts)).status, "failed");
  assert.equal((await runProgram("import time\ntime.sleep(60)\n", opts)).status, "timeout");
});

test("status rules", () => {
  const base = { exitCode: 1, signal: null, timedOut: false, mode: "bwrap" as const };
  assert.equal(classify({ ...base, exitCode: 0, stderr: "" }).status, "passed");
  assert.equal(classify({ ...base, stderr: "Traceback...\nAssertionError\n" }).status, "failed");
  assert.equal(classify({ ...base, stderr: "  File x\nNameError: name 'y' is not defined\n" }).status, "error");
  assert.equal(classify({ ...base, exitCode: 152, stderr: "" }).details, "SIGXCPU (CPU limit)");
  assert.equal(classify({ ...base, exitCode: 152, stderr: "", mode: "unsafe" }).status, "error", "only bwrap encodes signals as 128+n");
  assert.equal(classify({ ...base, signal: "SIGKILL", stderr: "" }).status, "killed");
  assert.equal(classify({ ...base, timedOut: true, signal: "SIGKILL", stderr: "" }).status, "timeout");
  assert.equal(classify({ ...base, stderr: "OSError: [Errno 27] File too large\n" }).status, "killed");
});
