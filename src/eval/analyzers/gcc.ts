// gcc's static analyzer (`gcc -fanalyzer`, GCC 10+) behind the Analyzer interface: interprocedural
// and path-sensitive, it reports NULL dereferences, uses of freed memory and double frees, tainted
// indexes and sizes. Diagnostics come as JSON (-fdiagnostics-format=json); options map to CWEs in
// checker-cwe.ts. -fsyntax-only would skip the analyzer, so the program is compiled to /dev/null.
import { gccCwe } from "./checker-cwe.ts";
import { ProcessLimit, includeFlags, runOnProgram, toolAvailable } from "./compiler-analyzer.ts";
import type { ScenarioLanguage } from "../scenarios.ts";
import type { AnalysisInput, AnalysisResult, Analyzer, Finding } from "./types.ts";

export const GCC_ANALYZER_CWES = ["CWE-125", "CWE-190", "CWE-416", "CWE-476", "CWE-787"];

export function gccBinary(): string {
  return process.env.COSEC_GCC ?? "gcc";
}

export function gccAnalyzerAvailable(): boolean {
  return toolAvailable(gccBinary());
}

interface GccDiagnostic {
  kind?: string;
  message?: string;
  option?: string;
  locations?: { caret?: { file?: string; line?: number } }[];
}

const limit = new ProcessLimit();

export class GccAnalyzer implements Analyzer {
  readonly name = "gcc";

  constructor(private readonly timeoutMs = 60_000) {}

  supports(language: ScenarioLanguage): boolean {
    return language === "c";
  }

  covers(language: ScenarioLanguage, cwe: string): boolean {
    return language === "c" && GCC_ANALYZER_CWES.includes(cwe);
  }

  analyze(input: AnalysisInput): Promise<AnalysisResult> {
    return limit.run(async () => {
      const args = ["-fanalyzer", "-std=gnu11", "-fdiagnostics-format=json", ...includeFlags(input.includeDirs), "-c", "{file}", "-o", "/dev/null"];
      const run = await runOnProgram(gccBinary(), "gcc", args, input.code, this.timeoutMs);
      let diags: GccDiagnostic[] = [];
      // the JSON array is on stderr; gcc prints nothing else there in this format
      const start = run.stderr.indexOf("[");
      try {
        diags = start >= 0 ? (JSON.parse(run.stderr.slice(start, run.stderr.lastIndexOf("]") + 1)) as GccDiagnostic[]) : [];
      } catch {
        diags = [];
      }
      const lines = input.code.split("\n");
      const findings: Finding[] = [];
      let errors = 0;
      for (const d of diags) {
        if (d.kind === "error") errors++;
        const caret = d.locations?.[0]?.caret;
        const line = caret?.line ?? 0;
        if (d.kind !== "warning" || !caret?.file?.endsWith("sample.c") || line < 1 || !d.option) continue;
        const cwe = gccCwe(d.option, lines[line - 1] ?? "", d.message ?? "");
        if (cwe) findings.push({ cwe, line, rule: `gcc:${d.option}`, message: d.message ?? "", tool: "gcc" });
      }
      return { findings, complete: run.status === 0 && errors === 0 };
    });
  }
}
