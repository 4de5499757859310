// The Clang Static Analyzer (part of the clang binary: `clang --analyze`) behind the Analyzer
// interface: path-sensitive, it proves NULL dereferences, uses of freed memory, out-of-bounds
// accesses (ArrayBoundV2, the C string functions) and tainted sizes and commands along feasible
// paths. Findings come back as SARIF; checker ids map to CWEs in checker-cwe.ts. An out-of-bounds
// access is a write (CWE-787) when the reported place is a store (clang points at the assignment)
// or an assigned or incremented element, else a read (CWE-125).
import { clangCwe, type Place } from "./checker-cwe.ts";
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
  "alpha.core.Conversion",
];

/**
 * `-analyzer-config` settings. By default clang drops every path that runs a loop body more than
 * four times, so nothing after such a loop (a fill loop before a free, a copy loop) is checked:
 * loops with a constant bound are unrolled instead and the others widened (the variables they
 * change invalidated, the path kept).
 */
export const CLANG_CONFIG: Readonly<Record<string, string>> = { "unroll-loops": "true", "widen-loops": "true" };

export interface ClangOptions {
  /** Checkers enabled beyond clang's defaults (default CLANG_EXTRA_CHECKERS). */
  checkers?: readonly string[];
  /** `-analyzer-config` settings (default CLANG_CONFIG). */
  config?: Readonly<Record<string, string>>;
  /** Per program, before the tool is killed and the result is incomplete (default 60 s). */
  timeoutMs?: number;
}

export const CLANG_CWES = ["CWE-078", "CWE-125", "CWE-190", "CWE-416", "CWE-476", "CWE-787"];

export function clangBinary(): string {
  if (process.env.COSEC_CLANG) return process.env.COSEC_CLANG;
  return toolAvailable("clang-16") || !toolAvailable("clang") ? "clang-16" : "clang";
}

export function clangAvailable(): boolean {
  return toolAvailable(clangBinary());
}

interface SarifRegion {
  startLine?: number;
  startColumn?: number;
  endLine?: number;
  endColumn?: number;
}
interface SarifLog {
  runs?: { results?: { ruleId?: string; message?: { text?: string }; locations?: { physicalLocation?: { artifactLocation?: { uri?: string }; region?: SarifRegion } }[] }[] }[];
}

/** The SARIF region as a place on its first line (columns past that line are not kept). */
function placeOf(region: SarifRegion | undefined): Place | undefined {
  if (!region?.startColumn) return undefined;
  const oneLine = region.endLine === undefined || region.endLine === region.startLine;
  return { start: region.startColumn, ...(oneLine && region.endColumn ? { end: region.endColumn } : {}) };
}

const limit = new ProcessLimit();

function configFlags(config: Readonly<Record<string, string>>): string[] {
  const settings = Object.entries(config).map(([k, v]) => `${k}=${v}`);
  return settings.length > 0 ? ["-Xclang", "-analyzer-config", "-Xclang", settings.join(",")] : [];
}

export class ClangAnalyzer implements Analyzer {
  readonly name = "clang";

  private readonly checkers: readonly string[];
  private readonly config: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;

  constructor(opts: ClangOptions = {}) {
    this.checkers = opts.checkers ?? CLANG_EXTRA_CHECKERS;
    this.config = opts.config ?? CLANG_CONFIG;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

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
        ...(this.checkers.length > 0 ? ["-Xclang", `-analyzer-checker=${this.checkers.join(",")}`] : []),
        ...configFlags(this.config),
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
        const cwe = clangCwe(r.ruleId ?? "", message, lines[line - 1] ?? "", placeOf(loc.region));
        if (cwe) findings.push({ cwe, line, rule: `clang:${r.ruleId}`, message, tool: "clang" });
      }
      // clang exits non-zero when the program has errors: it then analysed nothing or part of it
      return { findings, complete: run.status === 0 && run.output !== "" };
    });
  }
}
