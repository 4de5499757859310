// gcc's static analyzer (`gcc -fanalyzer`, GCC 10+) behind the Analyzer interface: interprocedural
// and path-sensitive, it reports NULL dereferences, uses of freed memory and double frees, tainted
// indexes and sizes. Diagnostics come as JSON (-fdiagnostics-format=json); options map to CWEs in
// checker-cwe.ts. -fsyntax-only would skip the analyzer, so the program is compiled to /dev/null.
// A second compile at -O2 (without the analyzer) adds the middle end's flow-sensitive memory-safety
// warnings: uses of freed pointers, NULL dereferences, out-of-bounds indexes and string/memory
// copies past an object's size, which gcc 12's analyzer does not check (its out-of-bounds checker
// came with gcc 13). -w would silence the analyzer too, so instead only mapped options count.
import { gccCwe, type Place } from "./checker-cwe.ts";
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

interface GccPoint {
  file?: string;
  line?: number;
  column?: number;
}
interface GccDiagnostic {
  kind?: string;
  message?: string;
  option?: string;
  locations?: { caret?: GccPoint; start?: GccPoint; finish?: GccPoint }[];
}

/**
 * The -O2 pass's warnings (each in checker-cwe.ts's GCC_CWE): -Wall's levels, and
 * -Wnull-dereference, which -Wall leaves off.
 */
export const GCC_WARNING_FLAGS = [
  "-O2", "-Wuse-after-free=2", "-Wnull-dereference", "-Wnonnull", "-Warray-bounds=1", "-Wstringop-overflow=2",
  "-Wstringop-overread", "-Wformat-overflow=1", "-Wfree-nonheap-object", "-Wmismatched-dealloc", "-Wreturn-local-addr",
];

export interface GccOptions {
  /** Add the -O2 pass of the middle end's warnings (default true). */
  warnings?: boolean;
  /** Flags of that pass (default GCC_WARNING_FLAGS). */
  warningFlags?: readonly string[];
  /** Per compile, before the tool is killed and the result is incomplete (default 60 s). */
  timeoutMs?: number;
}

const limit = new ProcessLimit();

/** The diagnostics' JSON array (gcc writes it to stderr in this format), or [] when unreadable. */
function parseDiagnostics(stderr: string): GccDiagnostic[] {
  const start = stderr.indexOf("[");
  if (start < 0) return [];
  try {
    const parsed = JSON.parse(stderr.slice(start, stderr.lastIndexOf("]") + 1)) as unknown;
    return Array.isArray(parsed) ? (parsed as GccDiagnostic[]) : [];
  } catch {
    return [];
  }
}

/** The caret-to-finish range on the caret's line (gcc's finish column is inclusive). */
function placeOf(loc: { caret?: GccPoint; start?: GccPoint; finish?: GccPoint } | undefined): Place | undefined {
  const first = loc?.start ?? loc?.caret;
  if (!first?.column) return undefined;
  const finish = loc?.finish;
  const end = finish?.column && finish.line === first.line ? finish.column + 1 : undefined;
  return { start: first.column, ...(end ? { end } : {}) };
}

/** Findings of gcc's diagnostics located in the analysed program, and how many errors it had. */
export function gccFindings(diags: readonly GccDiagnostic[], code: string): { findings: Finding[]; errors: number } {
  const lines = code.split("\n");
  const findings: Finding[] = [];
  const seen = new Set<string>();
  let errors = 0;
  for (const d of diags) {
    if (d.kind === "error" || d.kind === "fatal error") errors++;
    const caret = d.locations?.[0]?.caret;
    const line = caret?.line ?? 0;
    // findings in headers are not the program's
    if (d.kind !== "warning" || !caret?.file?.endsWith("sample.c") || line < 1 || !d.option) continue;
    const cwe = gccCwe(d.option, lines[line - 1] ?? "", d.message ?? "", placeOf(d.locations?.[0]));
    const rule = `gcc:${d.option.replace(/=.*$/, "")}`;
    const key = `${rule}|${cwe}|${line}`;
    if (!cwe || seen.has(key)) continue;
    seen.add(key);
    findings.push({ cwe, line, rule, message: d.message ?? "", tool: "gcc" });
  }
  return { findings, errors };
}

export class GccAnalyzer implements Analyzer {
  readonly name = "gcc";

  private readonly warnings: boolean;
  private readonly warningFlags: readonly string[];
  private readonly timeoutMs: number;

  constructor(opts: GccOptions = {}) {
    this.warnings = opts.warnings ?? true;
    this.warningFlags = opts.warningFlags ?? GCC_WARNING_FLAGS;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  supports(language: ScenarioLanguage): boolean {
    return language === "c";
  }

  covers(language: ScenarioLanguage, cwe: string): boolean {
    return language === "c" && GCC_ANALYZER_CWES.includes(cwe);
  }

  analyze(input: AnalysisInput): Promise<AnalysisResult> {
    return limit.run(async () => {
      const common = ["-std=gnu11", "-fdiagnostics-format=json", ...includeFlags(input.includeDirs), "-c", "{file}", "-o", "/dev/null"];
      const analyzer = await runOnProgram(gccBinary(), "gcc", ["-fanalyzer", ...common], input.code, this.timeoutMs);
      const first = gccFindings(parseDiagnostics(analyzer.stderr), input.code);
      const complete = analyzer.status === 0 && first.errors === 0;
      // a program that does not compile gets nothing more from the optimiser
      if (!this.warnings || !complete) return { findings: first.findings, complete };
      const optimised = await runOnProgram(gccBinary(), "gcc", [...this.warningFlags, ...common], input.code, this.timeoutMs);
      const second = gccFindings(parseDiagnostics(optimised.stderr), input.code);
      const seen = new Set(first.findings.map((f) => `${f.rule}|${f.cwe}|${f.line}`));
      const findings = [...first.findings, ...second.findings.filter((f) => !seen.has(`${f.rule}|${f.cwe}|${f.line}`))];
      return { findings: findings.sort((x, y) => x.line - y.line), complete: optimised.status === 0 && second.errors === 0 };
    });
  }
}
