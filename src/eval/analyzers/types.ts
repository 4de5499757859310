// One interface for every analyzer (built-in rules, CodeQL, ...): findings with CWE, line, rule.
import type { ScenarioLanguage } from "../scenarios.ts";

export interface Finding {
  /** `CWE-089` form. */
  cwe: string;
  /** 1-based line in the analysed program. */
  line: number;
  rule: string;
  message: string;
  /** The tool that reported it (builtin, bandit, cppcheck, ...). */
  tool?: string;
}

export interface AnalysisInput {
  language: ScenarioLanguage;
  /** The whole program (file context + function). */
  code: string;
  /** Where the judged function starts (1-based line); findings before it are not the sample's. */
  firstLine?: number;
  /**
   * Folders searched for `#include "..."` (C programs that come with their own headers, such as
   * Juliet's testcasesupport/). Tools that compile the program (clang, gcc, validity) pass them as -I.
   */
  includeDirs?: string[];
  /** The scenario's check_ql and folder (CodeQL needs them). */
  scenario?: { id: string; dir: string; cwe: string; checkQl: string | null; customQueries: string[] };
}

export interface AnalysisResult {
  findings: Finding[];
  /** False when the analyzer could only judge part of the code (it did not parse fully). */
  complete: boolean;
}

export interface Analyzer {
  readonly name: string;
  supports(language: ScenarioLanguage): boolean;
  /**
   * Whether the analyzer has rules for `cwe` (`CWE-089` form) in `language`. A scenario of a CWE it
   * does not cover is reported as unjudged, never as secure. Absent: every CWE of a supported
   * language counts as covered (analyzers whose queries come with the scenario, such as CodeQL).
   */
  covers?(language: ScenarioLanguage, cwe: string): boolean;
  analyze(input: AnalysisInput): Promise<AnalysisResult>;
  /** Several programs of one scenario at once (CodeQL builds one database for them). */
  analyzeBatch?(inputs: AnalysisInput[]): Promise<AnalysisResult[]>;
  close?(): Promise<void> | void;
}

export function findingsFor(findings: readonly Finding[], cwe: string, firstLine = 1): Finding[] {
  return findings.filter((f) => f.cwe === cwe && f.line >= firstLine);
}
