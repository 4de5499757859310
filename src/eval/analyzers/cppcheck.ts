// cppcheck as an extra source of C findings: it proves some things the token rules cannot
// (constant out-of-bounds indexes, some null and freed-pointer uses). Optional: skipped when absent.
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CPPCHECK_CWE, CPPCHECK_OOB_IDS, outOfBoundsCwe } from "./checker-cwe.ts";
import type { Finding } from "./types.ts";


let available: boolean | null = null;

export function cppcheckAvailable(): boolean {
  available ??= spawnSync("cppcheck", ["--version"], { stdio: "pipe" }).status === 0;
  return available;
}

/** Map one `id|line|message` line of cppcheck output to a finding (null when not a security id). */
export function cppcheckFinding(id: string, line: number, message: string, sourceLines: readonly string[]): Finding | null {
  let cwe = CPPCHECK_CWE[id];
  if (!cwe && CPPCHECK_OOB_IDS.has(id)) {
    cwe = outOfBoundsCwe(sourceLines[line - 1] ?? "");
  }
  return cwe ? { cwe, line, rule: `cppcheck:${id}`, message } : null;
}

export function runCppcheck(code: string, timeoutMs = 20_000): Promise<Finding[]> {
  const dir = mkdtempSync(join(tmpdir(), "cosec-cppcheck-"));
  const file = join(dir, "sample.c");
  writeFileSync(file, code);
  const lines = code.split("\n");
  return new Promise((resolve) => {
    execFile(
      "cppcheck",
      ["--enable=warning", "--inconclusive", "--max-configs=1", "--quiet", "--template={id}|{line}|{message}", file],
      { timeout: timeoutMs, maxBuffer: 8 << 20 },
      (_err, _stdout, stderr) => {
        rmSync(dir, { recursive: true, force: true });
        const out: Finding[] = [];
        for (const l of stderr.split("\n")) {
          const m = /^(\w+)\|(\d+)\|(.*)$/.exec(l.trim());
          if (!m) continue;
          const f = cppcheckFinding(m[1], Number(m[2]), m[3], lines);
          if (f) out.push(f);
        }
        // a timeout or crash yields what was printed: cppcheck only adds to the built-in rules
        resolve(out);
      },
    );
  });
}
