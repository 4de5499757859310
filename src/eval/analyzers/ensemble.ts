// The ensemble analyzer: several tools judge each program and their findings are combined by one
// documented rule. Rule: for each language and CWE, a set of trusted tools (ENSEMBLE_RULE); a program
// is flagged for that CWE when ANY trusted tool reports a finding of it (a union, not a vote: the
// tools see different things, a path-sensitive analyzer proves what the token rules only suspect).
// Findings of a CWE come only from its trusted tools; a CWE without an entry trusts every member
// that reports it. The sets were chosen on the tuning data only (SVEN train for Python, Juliet's
// _01/_02 files for C) by `cosec eval analyzer --fit-ensemble`, which prints the table below.
import type { ScenarioLanguage } from "../scenarios.ts";
import type { AnalysisInput, AnalysisResult, Analyzer, Finding } from "./types.ts";

/** language -> CWE -> the members (analyzer names) whose findings of that CWE count. */
export type EnsembleRule = Readonly<Partial<Record<ScenarioLanguage, Readonly<Record<string, readonly string[]>>>>>;

export const ENSEMBLE_RULE: EnsembleRule = {
  py: {
    "CWE-022": ["builtin"],
    "CWE-078": ["builtin"],
    "CWE-079": ["builtin"],
    "CWE-089": ["builtin"],
    "CWE-502": ["builtin", "bandit"],
    "CWE-732": ["builtin", "bandit"],
    "CWE-798": ["builtin", "bandit"],
  },
  c: {
    "CWE-078": ["builtin"],
    "CWE-125": ["builtin"],
    "CWE-190": ["builtin"],
    "CWE-416": ["builtin"],
    "CWE-476": ["builtin"],
    "CWE-732": ["builtin"],
    "CWE-787": ["builtin"],
  },
};

/** The tool a finding came from; analyzers that do not say are their own tool. */
function toolOf(f: Finding, analyzer: Analyzer): string {
  return f.tool ?? analyzer.name;
}

/** Keep the findings `rule` trusts for their CWE, by Finding.tool (every finding of a CWE the rule does not name); duplicates dropped. */
export function combineFindings(language: ScenarioLanguage, findings: readonly Finding[], rule: EnsembleRule = ENSEMBLE_RULE): Finding[] {
  const table = rule[language] ?? {};
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of findings) {
    const trusted = table[f.cwe];
    if (trusted && !trusted.includes(f.tool ?? "")) continue;
    const key = `${f.tool}|${f.rule}|${f.cwe}|${f.line}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out.sort((a, b) => a.line - b.line || a.cwe.localeCompare(b.cwe));
}

export class EnsembleAnalyzer implements Analyzer {
  readonly name = "ensemble";

  constructor(
    private readonly members: readonly Analyzer[],
    private readonly rule: EnsembleRule = ENSEMBLE_RULE,
  ) {}

  /** The members that can report `cwe` in `language` under the rule (all members for `cwe` undefined). */
  private membersFor(language: ScenarioLanguage, cwe?: string): Analyzer[] {
    return this.members.filter((m) => {
      if (!m.supports(language)) return false;
      if (cwe === undefined) return true;
      const trusted = this.rule[language]?.[cwe];
      if (trusted && !trusted.includes(m.name)) return false;
      return m.covers ? m.covers(language, cwe) : true;
    });
  }

  supports(language: ScenarioLanguage): boolean {
    return this.members.some((m) => m.supports(language));
  }

  covers(language: ScenarioLanguage, cwe: string): boolean {
    return this.membersFor(language, cwe).length > 0;
  }

  /** The members one program needs: those trusted for the scenario's CWE, or all (no scenario). */
  private needed(input: AnalysisInput): Analyzer[] {
    const cwe = input.scenario?.cwe;
    if (!cwe) return this.membersFor(input.language);
    // a scenario's CWE may be judged by its children (CWE-119 by 787 and 125): ask every member that
    // covers any CWE, the findings are filtered by the caller
    const direct = this.membersFor(input.language, cwe);
    return direct.length > 0 ? direct : this.membersFor(input.language);
  }

  async analyze(input: AnalysisInput): Promise<AnalysisResult> {
    const members = this.needed(input);
    const results = await Promise.all(members.map((m) => m.analyze(input)));
    return this.merge(input.language, members, results);
  }

  async analyzeBatch(inputs: AnalysisInput[]): Promise<AnalysisResult[]> {
    const needs = inputs.map((i) => this.needed(i));
    // each member judges, in one batch, the programs that need it
    const byMember = new Map<Analyzer, Map<number, AnalysisResult>>();
    await Promise.all(
      this.members.map(async (m) => {
        const ks = needs.flatMap((ms, k) => (ms.includes(m) ? [k] : []));
        if (ks.length === 0) return;
        const part = ks.map((k) => inputs[k]);
        const results = m.analyzeBatch ? await m.analyzeBatch(part) : await Promise.all(part.map((i) => m.analyze(i)));
        byMember.set(m, new Map(ks.map((k, j) => [k, results[j]])));
      }),
    );
    return inputs.map((input, k) => {
      const results = needs[k].map((m) => byMember.get(m)?.get(k) ?? { findings: [], complete: false });
      return this.merge(input.language, needs[k], results);
    });
  }

  private merge(language: ScenarioLanguage, members: readonly Analyzer[], results: readonly AnalysisResult[]): AnalysisResult {
    // Trust is per member: the builtin member's findings include cppcheck's (tool "cppcheck"), and
    // the rule was fitted on what each member reports as a whole.
    const table = this.rule[language] ?? {};
    const findings = results.flatMap((r, i) =>
      r.findings
        .filter((f) => table[f.cwe]?.includes(members[i].name) ?? true)
        .map((f) => ({ ...f, tool: toolOf(f, members[i]) })),
    );
    return { findings: combineFindings(language, findings, {}), complete: results.every((r) => r.complete) };
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.close?.()));
  }
}
