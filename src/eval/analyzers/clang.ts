// The Clang Static Analyzer (part of the clang binary: `clang --analyze`) behind the Analyzer
// interface: path-sensitive, it proves NULL dereferences, uses of freed memory, out-of-bounds
// accesses (ArrayBoundV2, the C string functions) and tainted sizes and commands along feasible
// paths. Findings come back as SARIF; checker ids map to CWEs in checker-cwe.ts.
import { clangCwe } from "./checker-cwe.ts";
import { ProcessLimit, includeFlags, runOnProgram, toolAvailable } from "./compiler-analyzer.ts";
import type { ScenarioLanguage } from "../scenarios.ts";
import type { AnalysisInput, AnalysisResult, Analyzer, Finding } from "./types.ts";

/** Checkers beyond clang's defaults (core, unix, deadcode, ...). */
export const CLANG_EXTRA_CHECKERS = [
  "alpha.security.ArrayBoundV2",
  "alpha.unix.cstring.OutOfBounds",
  "alpha.unix.cstring.BufferOverlap",
  "alpha.security.MallocOverflow",
  "alpha.security.ReturnPtrRange",
  "alpha.security.taint.TaintPropagation",
];

export const CLANG_CWES = ["CWE-078", "CWE-125", "CWE-190", "CWE-416", "CWE-476", "CWE-787"];

export function clangBinary(): string {
  if (process.env.COSEC_CLANG) return process.env.COSEC_CLANG;
  return toolAvailable("clang-16") || !toolAvailable("clang") ? "clang-16" : "clang";
}

export function clangAvailable(): boolean {
  return toolAvailable(clangBinary());
}

interface SarifLog {
  runs?: { results?: { ruleId?: string; message?: { text?: string }; locations?: { physicalLocation?: { artifactLocation?: { uri?: string }; region?: { startLine?: number } } }[] }[] }[];
}

const limit = new ProcessLimit();

export class ClangAnalyzer implements Analyzer {
  readonly name = "clang";

  constructor(private readonly timeoutMs = 60_000) {}

  supports(language: ScenarioLanguage): boolean {
    return language === "c";
  }

  covers(language: ScenarioLanguage, cwe: string): boolean {
    return language === "c" && CLANG_CWES.includes(cwe);
  }

  analyze(input: AnalysisInput): Promise<AnalysisResult> {
    return limit.run(async () => {
      const args = [
        "--analyze", "-std=gnu11", "-w", ...includeFlags(input.includeDirs),
        "--analyzer-output", "sarif", "-o", "{out}",
        "-Xclang", `-analyzer-checker=${CLANG_EXTRA_CHECKERS.join(",")}`,
        "{file}",
      ];
      const run = await runOnProgram(clangBinary(), "clang-16", args, input.code, this.timeoutMs);
      const lines = input.code.split("\n");
      const findings: Finding[] = [];
      let log: SarifLog = {};
      try {
        log = run.output ? (JSON.parse(run.output) as SarifLog) : {};
      } catch {
        /* a crash mid-write: no findings, and the result is incomplete below */
      }
      for (const r of log.runs?.[0]?.results ?? []) {
        const loc = r.locations?.[0]?.physicalLocation;
        const line = loc?.region?.startLine ?? 0;
        // findings in headers are not the program's
        if (!loc?.artifactLocation?.uri?.endsWith("sample.c") || line < 1) continue;
        const message = r.message?.text ?? "";
        const cwe = clangCwe(r.ruleId ?? "", message, lines[line - 1] ?? "");
        if (cwe) findings.push({ cwe, line, rule: `clang:${r.ruleId}`, message, tool: "clang" });
      }
      // clang exits non-zero when the program has errors: it then analysed nothing or part of it
      return { findings, complete: run.status === 0 && run.output !== "" };
    });
  }
}
