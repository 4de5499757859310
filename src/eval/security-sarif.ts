// The findings of a security evaluation as SARIF: one artifact per judged sample (the whole program
// embedded, named scenario/strategy/sample), so a SARIF viewer shows each finding in its program.
import { writeSarif, type SarifEntry } from "./analyzers/sarif.ts";
import type { Scenario } from "./scenarios.ts";
import { programOf, type SampleRecord } from "./security.ts";

export function securitySarifEntries(scenarios: readonly Pick<Scenario, "id" | "language" | "prompt">[], records: readonly SampleRecord[]): SarifEntry[] {
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  return records.flatMap((r) => {
    const s = byId.get(r.scenario);
    if (!s) return [];
    return [{ uri: `${r.scenario}/${r.strategy}/${r.sample}.${s.language}`, findings: r.findings, code: programOf(s, r.text) }];
  });
}

export function writeSecuritySarif(path: string, scenarios: readonly Pick<Scenario, "id" | "language" | "prompt">[], records: readonly SampleRecord[]): void {
  writeSarif(path, securitySarifEntries(scenarios, records));
}
