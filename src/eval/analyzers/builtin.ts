// The default analyzer: Python rules on `ast` (in the shared worker) and C rules on tokens.
import { analyzeC } from "./c/rules.ts";
import { cppcheckAvailable, runCppcheck } from "./cppcheck.ts";
import { sharedPythonWorker, type PythonWorker } from "../python-worker.ts";
import type { ScenarioLanguage } from "../scenarios.ts";
import type { AnalysisInput, AnalysisResult, Analyzer } from "./types.ts";

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

  async analyze(input: AnalysisInput): Promise<AnalysisResult> {
    if (input.language === "py") {
      const r = await (this.worker ?? sharedPythonWorker()).analyze(input.code);
      return { findings: r.findings, complete: r.parsed };
    }
    // The C rules work on tokens and judge any text; completeness is validity's job.
    const findings = analyzeC(input.code);
    if (this.useCppcheck && cppcheckAvailable()) findings.push(...(await runCppcheck(input.code)));
    return { findings, complete: true };
  }
}
