// SARIF 2.1.0 (OASIS), the format code-scanning tools exchange findings in (GitHub code scanning,
// VS Code's SARIF viewer). One run per tool, as the standard asks; each finding keeps its tool, rule
// id, CWE (`properties.cwe`, and the `external/cwe/cwe-N` tag GitHub reads) and line. The judged
// programs are embedded as artifacts, so a file is self-contained: a generated sample exists nowhere
// else on disk.
import { writeFileAtomic } from "../../atomic-write.ts";
import { CosecError } from "../../errors.ts";
import type { Finding } from "./types.ts";

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

/** One judged program: where it is (a path or a name such as `cwe-089-0-py/cosec-plus/3.py`) and its findings. */
export interface SarifEntry {
  uri: string;
  findings: readonly Finding[];
  /** The program's text, embedded as the artifact's contents. */
  code?: string;
}

/** A SARIF file that cannot be read (names what is wrong). */
export class SarifError extends CosecError {}

interface SarifRule {
  id: string;
  shortDescription: { text: string };
  properties: { cwe: string; tags: string[] };
}

function cweTag(cwe: string): string {
  return `external/cwe/cwe-${Number(cwe.replace(/^CWE-/, ""))}`;
}

/** The SARIF log (a JSON-ready object) of `entries`, one run per tool that reported something. */
export function toSarif(entries: readonly SarifEntry[], opts: { tools?: readonly string[] } = {}): Record<string, unknown> {
  const tools = new Set(opts.tools ?? []);
  for (const e of entries) for (const f of e.findings) tools.add(f.tool ?? "cosec");
  const artifacts = entries.map((e) => ({
    location: { uri: e.uri },
    ...(e.code !== undefined ? { contents: { text: e.code } } : {}),
  }));
  const runs = [...tools].sort().map((tool) => {
    const rules: SarifRule[] = [];
    const ruleIndex = new Map<string, number>();
    const results: Record<string, unknown>[] = [];
    entries.forEach((e, artifactIndex) => {
      for (const f of e.findings) {
        if ((f.tool ?? "cosec") !== tool) continue;
        // a rule id may be reported under two CWEs (out-of-bounds read and write): the pair is the rule
        const key = `${f.rule}|${f.cwe}`;
        let idx = ruleIndex.get(key);
        if (idx === undefined) {
          idx = rules.length;
          ruleIndex.set(key, idx);
          rules.push({ id: f.rule, shortDescription: { text: `${f.rule} (${f.cwe})` }, properties: { cwe: f.cwe, tags: ["security", cweTag(f.cwe)] } });
        }
        results.push({
          ruleId: f.rule,
          ruleIndex: idx,
          level: "warning",
          message: { text: f.message || f.rule },
          locations: [{ physicalLocation: { artifactLocation: { uri: e.uri, index: artifactIndex }, region: { startLine: Math.max(1, f.line) } } }],
          properties: { cwe: f.cwe, tool },
        });
      }
    });
    return { tool: { driver: { name: tool, informationUri: "https://github.com/cosec", rules } }, artifacts, results };
  });
  // a log with no finding still lists the programs it judged
  if (runs.length === 0) runs.push({ tool: { driver: { name: "cosec", informationUri: "https://github.com/cosec", rules: [] } }, artifacts, results: [] });
  return { $schema: SARIF_SCHEMA, version: "2.1.0", runs };
}

/** Write the SARIF log through a temporary file, so a crash never leaves half a file. */
export function writeSarif(path: string, entries: readonly SarifEntry[], opts: { tools?: readonly string[] } = {}): void {
  writeFileAtomic(path, JSON.stringify(toSarif(entries, opts), null, 2) + "\n");
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new SarifError(`${where} is not an object`);
  return v as Record<string, unknown>;
}

function arr(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new SarifError(`${where} is not a list`);
  return v;
}

/** The findings of a SARIF log per artifact uri (any SARIF 2.1.0 producer; CWE from properties or tags). */
export function readSarif(text: string): Map<string, Finding[]> {
  let log: Record<string, unknown>;
  try {
    log = obj(JSON.parse(text), "the SARIF log");
  } catch (err) {
    if (err instanceof SarifError) throw err;
    throw new SarifError(`not JSON: ${(err as Error).message}`);
  }
  if (log.version !== "2.1.0") throw new SarifError(`version is ${JSON.stringify(log.version)}, expected "2.1.0"`);
  const out = new Map<string, Finding[]>();
  arr(log.runs, "runs").forEach((runValue, r) => {
    const run = obj(runValue, `runs[${r}]`);
    const driver = obj(obj(run.tool, `runs[${r}].tool`).driver, `runs[${r}].tool.driver`);
    const tool = String(driver.name ?? "");
    const rules = Array.isArray(driver.rules) ? (driver.rules as Record<string, unknown>[]) : [];
    const artifacts = Array.isArray(run.artifacts) ? (run.artifacts as Record<string, unknown>[]) : [];
    for (const a of artifacts) {
      const uri = (a.location as { uri?: unknown } | undefined)?.uri;
      if (typeof uri === "string" && !out.has(uri)) out.set(uri, []);
    }
    arr(run.results ?? [], `runs[${r}].results`).forEach((resValue, k) => {
      const where = `runs[${r}].results[${k}]`;
      const res = obj(resValue, where);
      const loc = obj(obj(arr(res.locations, `${where}.locations`)[0], `${where}.locations[0]`).physicalLocation, `${where}.locations[0].physicalLocation`);
      const uri = (loc.artifactLocation as { uri?: unknown } | undefined)?.uri;
      const line = (loc.region as { startLine?: unknown } | undefined)?.startLine;
      if (typeof uri !== "string") throw new SarifError(`${where} has no artifact uri`);
      if (typeof line !== "number") throw new SarifError(`${where} has no startLine`);
      const rule = typeof res.ruleIndex === "number" ? rules[res.ruleIndex] : rules.find((x) => x.id === res.ruleId);
      const props = (res.properties ?? {}) as { cwe?: unknown };
      const tags = ((rule?.properties as { tags?: unknown } | undefined)?.tags ?? []) as unknown[];
      const tagged = tags.map(String).map((t) => /external\/cwe\/cwe-(\d+)/.exec(t)?.[1]).find(Boolean);
      const cwe = typeof props.cwe === "string" ? props.cwe : tagged ? `CWE-${tagged.padStart(3, "0")}` : "";
      const message = String((res.message as { text?: unknown } | undefined)?.text ?? "");
      const list = out.get(uri) ?? [];
      list.push({ cwe, line, rule: String(res.ruleId ?? rule?.id ?? ""), message, tool });
      out.set(uri, list);
    });
  });
  return out;
}
