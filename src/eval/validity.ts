// Is a completed function syntactically valid in its file? Python: `ast` in the long-lived worker;
// C: `gcc -fsyntax-only` on the file context + function.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sharedPythonWorker, type PythonWorker } from "./python-worker.ts";
import type { ScenarioLanguage } from "./scenarios.ts";

export interface Validity {
  valid: boolean;
  /** The first error, when invalid. */
  error: string | null;
}

export async function checkValidity(
  language: ScenarioLanguage,
  program: string,
  worker: PythonWorker = sharedPythonWorker(),
): Promise<Validity> {
  if (language === "py") {
    const error = await worker.syntaxError(program);
    return { valid: error === null, error };
  }
  return checkC(program);
}

/** gcc's syntax check; warnings do not make code invalid, errors do. */
export function checkC(program: string): Promise<Validity> {
  const dir = mkdtempSync(join(tmpdir(), "cosec-cc-"));
  const file = join(dir, "sample.c");
  writeFileSync(file, program);
  return new Promise((resolve, reject) => {
    execFile("gcc", ["-fsyntax-only", "-w", "-std=gnu11", file], { timeout: 30_000 }, (err, _stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      if (err && (err as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new Error("gcc is not installed (needed to check C validity); run npm run setup"));
        return;
      }
      if (!err) resolve({ valid: true, error: null });
      else {
        const first = stderr.split("\n").find((l) => l.includes("error")) ?? stderr.trim().split("\n")[0] ?? "gcc failed";
        resolve({ valid: false, error: first.replace(file, "sample.c") });
      }
    });
  });
}
