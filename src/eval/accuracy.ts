// Analyzer accuracy on labelled pairs: SVEN's (func_src_before vulnerable, func_src_after fixed) and
// Juliet's (juliet.ts: the program with -DOMITGOOD vulnerable, with -DOMITBAD fixed).
// Per CWE: TPR (vulnerable flagged), FPR (fixed flagged), balanced accuracy = (TPR + 1 - FPR) / 2.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatasetLineError, InvalidArgumentError } from "../errors.ts";
import type { AnalysisInput, AnalysisResult, Analyzer } from "./analyzers/types.ts";
import type { ScenarioLanguage } from "./scenarios.ts";
import { lookupTable } from "../lookup-table.ts";

export interface LabelledPair {
  file: string;
  line: number;
  cwe: string;
  language: ScenarioLanguage;
  funcName: string;
  before: string;
  after: string;
  /** Folders for `#include "..."` (Juliet's testcasesupport/), passed on in the analyzer input. */
  includeDirs?: string[];
}

export interface PairOutcome {
  pair: LabelledPair;
  flaggedBefore: boolean;
  flaggedAfter: boolean;
  /** Findings of the pair's CWE in each version. */
  countBefore: number;
  countAfter: number;
}

export interface CweAccuracy {
  cwe: string;
  pairs: number;
  tpr: number;
  fpr: number;
  balancedAccuracy: number;
  /** Pairs whose fixed version has fewer findings than the vulnerable one (the fix is "seen"). */
  separated: number;
  /** Pairs in a language the analyzer does not cover for this CWE. */
  skipped: number;
}

const LANG_OF_EXT: Readonly<Record<string, ScenarioLanguage>> = lookupTable<ScenarioLanguage>({ py: "py", c: "c", h: "c" });
// The CWEs each language's rules cover (022-089 are web/script CWEs, the rest memory CWEs).
const CWE_LANG: Readonly<Record<string, ScenarioLanguage>> = lookupTable<ScenarioLanguage>({
  "CWE-022": "py", "CWE-078": "py", "CWE-079": "py", "CWE-089": "py",
  "CWE-125": "c", "CWE-190": "c", "CWE-416": "c", "CWE-476": "c", "CWE-787": "c",
});

/** The CodeQL query judging each CWE (SVEN's check_ql form), for analyzers that need one. */
export const DEFAULT_QUERY: Record<string, string> = {
  "CWE-022": "../codeql/codeql-repo/python/ql/src/Security/CWE-022/PathInjection.ql",
  "CWE-078": "../codeql/codeql-repo/python/ql/src/Security/CWE-078/CommandInjection.ql",
  "CWE-079": "../codeql/codeql-repo/python/ql/src/Security/CWE-079/ReflectedXss.ql",
  "CWE-089": "../codeql/codeql-repo/python/ql/src/Security/CWE-089/SqlInjection.ql",
  "CWE-125": "../codeql/codeql-repo/cpp/ql/src/Security/CWE/CWE-119/OverflowBuffer.ql",
  "CWE-190": "../codeql/codeql-repo/cpp/ql/src/Security/CWE/CWE-190/ArithmeticTainted.ql",
  "CWE-416": "../codeql/codeql-repo/cpp/ql/src/Critical/UseAfterFree.ql",
  "CWE-476": "../codeql/codeql-repo/cpp/ql/src/Critical/MissingNullTest.ql",
  "CWE-787": "../codeql/codeql-repo/cpp/ql/src/Security/CWE/CWE-119/OverflowBuffer.ql",
};
/** Queries for C pairs of a CWE that DEFAULT_QUERY gives to Python (Juliet's CWE-078). */
const C_QUERY: Record<string, string> = {
  "CWE-078": "../codeql/codeql-repo/cpp/ql/src/Security/CWE/CWE-078/ExecTainted.ql",
};

export function loadPairs(dir: string, cwes?: string[]): { pairs: LabelledPair[]; skipped: Map<string, number> } {
  if (!existsSync(dir)) throw new InvalidArgumentError("pairs", `folder ${dir} does not exist`);
  const pairs: LabelledPair[] = [];
  const skipped = new Map<string, number>();
  for (const cwe of Object.keys(CWE_LANG)) {
    if (cwes && !cwes.includes(cwe)) continue;
    const file = join(dir, `${cwe.toLowerCase()}.jsonl`);
    if (!existsSync(file)) continue;
    readFileSync(file, "utf8").split("\n").forEach((text, idx) => {
      if (!text.trim()) return;
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new DatasetLineError(file, idx + 1, "not valid JSON");
      }
      const { func_src_before: before, func_src_after: after, file_name: fileName } = row;
      if (typeof before !== "string" || typeof after !== "string" || typeof fileName !== "string") {
        throw new DatasetLineError(file, idx + 1, "needs string func_src_before, func_src_after and file_name");
      }
      const ext = fileName.split(".").pop()?.toLowerCase() ?? "";
      // C++ files are analysed by the C rules too (same memory-safety APIs)
      const language = LANG_OF_EXT[ext] ?? (["cc", "cpp", "cxx", "hpp"].includes(ext) ? "c" : undefined);
      if (language !== CWE_LANG[cwe]) {
        skipped.set(cwe, (skipped.get(cwe) ?? 0) + 1);
        return;
      }
      pairs.push({ file, line: idx + 1, cwe, language, funcName: String(row.func_name ?? ""), before, after });
    });
  }
  return { pairs, skipped };
}

export async function evaluatePairs(
  analyzer: Analyzer,
  pairs: LabelledPair[],
  concurrency = 4,
): Promise<PairOutcome[]> {
  const out: PairOutcome[] = new Array(pairs.length);
  const input = (p: LabelledPair, code: string): AnalysisInput => ({
    language: p.language,
    code,
    ...(p.includeDirs ? { includeDirs: p.includeDirs } : {}),
    scenario: {
      id: `${p.cwe}:${p.line}`,
      dir: p.file,
      cwe: p.cwe,
      checkQl: (p.language === "c" ? C_QUERY[p.cwe] : undefined) ?? DEFAULT_QUERY[p.cwe] ?? null,
      customQueries: [],
    },
  });
  const ofCwe = (r: AnalysisResult, cwe: string) => r.findings.filter((f) => f.cwe === cwe).length;
  const record = (k: number, countBefore: number, countAfter: number) => {
    out[k] = { pair: pairs[k], flaggedBefore: countBefore > 0, flaggedAfter: countAfter > 0, countBefore, countAfter };
  };
  if (analyzer.analyzeBatch) {
    // Analyzers that start a process (or build a database) per call judge a CWE's pairs in chunks.
    const chunk = 32;
    const byCwe = new Map<string, number[]>();
    pairs.forEach((p, k) => byCwe.set(p.cwe, [...(byCwe.get(p.cwe) ?? []), k]));
    for (const ks of byCwe.values()) {
      for (let i = 0; i < ks.length; i += chunk) {
        const part = ks.slice(i, i + chunk);
        const results = await analyzer.analyzeBatch(part.flatMap((k) => [input(pairs[k], pairs[k].before), input(pairs[k], pairs[k].after)]));
        part.forEach((k, j) => record(k, ofCwe(results[2 * j], pairs[k].cwe), ofCwe(results[2 * j + 1], pairs[k].cwe)));
      }
    }
    return out;
  }
  let next = 0;
  const count = async (p: LabelledPair, code: string) => ofCwe(await analyzer.analyze(input(p, code)), p.cwe);
  async function worker(): Promise<void> {
    while (next < pairs.length) {
      const k = next++;
      const p = pairs[k];
      record(k, await count(p, p.before), await count(p, p.after));
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/** Whether an analyzer flagged each version of one pair (findings of the pair's CWE only). */
export interface PairFlags {
  pair: LabelledPair;
  /** The vulnerable version (SVEN's func_src_before, Juliet's -DOMITGOOD program) was flagged. */
  vulnerable: boolean;
  /** The fixed version (func_src_after, the -DOMITBAD program) was flagged. */
  fixed: boolean;
}

/** Per pair, in the pairs' order: was the vulnerable version flagged, was the fixed one. */
export async function flagPairs(analyzer: Analyzer, pairs: LabelledPair[], concurrency = 4): Promise<PairFlags[]> {
  return (await evaluatePairs(analyzer, pairs, concurrency)).map((o) => ({ pair: o.pair, vulnerable: o.flaggedBefore, fixed: o.flaggedAfter }));
}

export function summarizeAccuracy(outcomes: PairOutcome[], skipped = new Map<string, number>()): CweAccuracy[] {
  const by = new Map<string, PairOutcome[]>();
  for (const o of outcomes) by.set(o.pair.cwe, [...(by.get(o.pair.cwe) ?? []), o]);
  return [...by.keys()].sort().map((cwe) => {
    const os = by.get(cwe) ?? [];
    const tpr = os.filter((o) => o.flaggedBefore).length / os.length;
    const fpr = os.filter((o) => o.flaggedAfter).length / os.length;
    const separated = os.filter((o) => o.countBefore > o.countAfter).length / os.length;
    return { cwe, pairs: os.length, tpr, fpr, balancedAccuracy: (tpr + 1 - fpr) / 2, separated, skipped: skipped.get(cwe) ?? 0 };
  });
}
