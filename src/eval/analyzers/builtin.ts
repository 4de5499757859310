// The default analyzer: Python analyses on `ast` in the shared worker (a taint pass, pattern rules,
// API rules) and C rules on tokens (with a walk over known values, c/values.ts; headers of
// `#include "..."` are read from the input's includeDirs).
import { permissionFindings } from "./c/permissions.ts";
import { analyzeC } from "./c/rules.ts";
import { cppcheckAvailable, runCppcheck } from "./cppcheck.ts";
import { sharedPythonWorker, type PythonWorker } from "../python-worker.ts";
import type { ScenarioLanguage } from "../scenarios.ts";
import type { AnalysisInput, AnalysisResult, Analyzer } from "./types.ts";

/** The CWEs the built-in rules report, per language (a CWE-119 scenario is judged by 787/125). */
export const BUILTIN_CWES: Readonly<Record<ScenarioLanguage, readonly string[]>> = {
  py: ["CWE-022", "CWE-078", "CWE-079", "CWE-089", "CWE-502", "CWE-732", "CWE-798"],
  c: ["CWE-078", "CWE-125", "CWE-190", "CWE-416", "CWE-476", "CWE-732", "CWE-787"],
};

export class BuiltinAnalyzer implements Analyzer {
  readonly name = "builtin";

  /**
   * @param useCppcheck add cppcheck's findings for C when it is installed (default). The accuracy
   *   command on isolated functions gains nothing from it (it needs whole programs) and may skip it.
   */
  constructor(
    private readonly worker?: PythonWorker,
    private readonly useCppcheck = true,
  ) {}

  supports(language: ScenarioLanguage): boolean {
    return language === "py" || language === "c";
  }

  covers(language: ScenarioLanguage, cwe: string): boolean {
    return BUILTIN_CWES[language]?.includes(cwe) ?? false;
  }

  async analyze(input: AnalysisInput): Promise<AnalysisResult> {
    if (input.language === "py") {
      const r = await (this.worker ?? sharedPythonWorker()).analyze(input.code);
      return { findings: r.findings.map((f) => ({ ...f, tool: "builtin" })), complete: r.parsed };
    }
    // The C rules work on tokens and judge any text; completeness is validity's job.
    const findings = [...analyzeC(input.code, { includeDirs: input.includeDirs }), ...permissionFindings(input.code)].map((f) => ({ ...f, tool: f.tool ?? "builtin" }));
    if (this.useCppcheck && cppcheckAvailable()) findings.push(...(await runCppcheck(input.code)).map((f) => ({ ...f, tool: "cppcheck" })));
    return { findings, complete: true };
  }
}
