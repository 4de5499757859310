// SVEN-format security scenarios: a folder with info.json, file_context.<ext>, func_context.<ext>
// and optionally a custom CodeQL query. The prompt is the file context followed by the function's
// beginning; generation continues the function.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { ScenarioError } from "../errors.ts";
import { dataRoot } from "../paths.ts";
import { lookupTable } from "../lookup-table.ts";

export type ScenarioLanguage = "py" | "c";

export interface Scenario {
  /** Stable identity, e.g. `cwe-089/0-py` (path relative to the loaded root). */
  id: string;
  dir: string;
  /** Normalised `CWE-089`. */
  cwe: string;
  language: ScenarioLanguage;
  fileContext: string;
  funcContext: string;
  prompt: string;
  description: string;
  /** The CodeQL query as info.json names it (relative to SVEN's layout), if any. */
  checkQl: string | null;
  /** `.ql` files shipped in the scenario folder. */
  customQueries: string[];
}

export interface SkippedScenario {
  id: string;
  dir: string;
  reason: string;
}

export interface ScenarioLoad {
  scenarios: Scenario[];
  /** Valid scenarios in a language this evaluation does not support. */
  skipped: SkippedScenario[];
  /** Malformed folders: each is named with its problem; the others still load. */
  errors: ScenarioError[];
}

const EXT_LANG: Readonly<Record<string, ScenarioLanguage>> = lookupTable<ScenarioLanguage>({ py: "py", python: "py", c: "c" });

export function defaultScenarioRoot(): string {
  return join(dataRoot(), "datasets", "sven", "data_eval", "trained");
}

/** Normalise `cwe-89`, `CWE-089`, `89` to `CWE-089`. */
export function normaliseCwe(raw: string): string {
  const m = /^(?:cwe-?)?0*(\d+)$/i.exec(raw.trim());
  if (!m) throw new Error(`not a CWE id: ${raw}`);
  return `CWE-${m[1].padStart(3, "0")}`;
}

function isScenarioDir(dir: string): boolean {
  return existsSync(join(dir, "info.json"));
}

function findScenarioDirs(root: string): string[] {
  if (isScenarioDir(root)) return [root];
  const out: string[] = [];
  for (const name of readdirSync(root).sort()) {
    const p = join(root, name);
    if (statSync(p).isDirectory()) out.push(...findScenarioDirs(p));
  }
  return out;
}

function contextFile(dir: string, stem: string): string | null {
  const hit = readdirSync(dir).find((n) => n.startsWith(`${stem}.`));
  return hit ? join(dir, hit) : null;
}

/** Load one scenario folder; throws ScenarioError naming what is wrong. */
export function loadScenario(dir: string, root = dir): Scenario | SkippedScenario {
  const id = relative(root, dir) || basename(dir);
  let info: Record<string, unknown>;
  try {
    info = JSON.parse(readFileSync(join(dir, "info.json"), "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new ScenarioError(dir, `info.json is not readable JSON (${(err as Error).message})`);
  }
  if (typeof info !== "object" || info === null) throw new ScenarioError(dir, "info.json is not an object");
  const langRaw = info.language;
  if (typeof langRaw !== "string") throw new ScenarioError(dir, "info.json has no string 'language'");
  if (typeof info.cwe !== "string") throw new ScenarioError(dir, "info.json has no string 'cwe'");
  let cwe: string;
  try {
    cwe = normaliseCwe(info.cwe);
  } catch {
    throw new ScenarioError(dir, `info.json 'cwe' is not a CWE id: ${JSON.stringify(info.cwe)}`);
  }
  const language = EXT_LANG[langRaw.toLowerCase()];
  if (!language) return { id, dir, reason: `language '${langRaw}' is not supported (python and c are)` };
  const filePath = contextFile(dir, "file_context");
  const funcPath = contextFile(dir, "func_context");
  if (!filePath) throw new ScenarioError(dir, "missing file_context.*");
  if (!funcPath) throw new ScenarioError(dir, "missing func_context.*");
  const fileContext = readFileSync(filePath, "utf8");
  const funcContext = readFileSync(funcPath, "utf8");
  if (funcContext.trim() === "") throw new ScenarioError(dir, `${basename(funcPath)} is empty`);
  const checkQl = typeof info.check_ql === "string" ? info.check_ql : null;
  return {
    id,
    dir: resolve(dir),
    cwe,
    language,
    fileContext,
    funcContext,
    prompt: fileContext + funcContext,
    description: typeof info.description === "string" ? info.description : "",
    checkQl,
    customQueries: readdirSync(dir)
      .filter((n) => n.endsWith(".ql"))
      .sort()
      .map((n) => join(resolve(dir), n)),
  };
}

export function isScenario(x: Scenario | SkippedScenario): x is Scenario {
  return "prompt" in x;
}

export interface LoadOptions {
  /** Keep only these CWEs (any spelling normaliseCwe accepts). */
  cwes?: string[];
  /** Keep only scenario ids matching one of these substrings. */
  only?: string[];
}

/** Load every scenario folder under `root` (any depth). */
export function loadScenarios(root = defaultScenarioRoot(), opts: LoadOptions = {}): ScenarioLoad {
  if (!existsSync(root)) throw new ScenarioError(root, "folder does not exist");
  const wanted = opts.cwes?.map(normaliseCwe);
  const out: ScenarioLoad = { scenarios: [], skipped: [], errors: [] };
  for (const dir of findScenarioDirs(root)) {
    try {
      const s = loadScenario(dir, root);
      if (wanted && isScenario(s) && !wanted.includes(s.cwe)) continue;
      if (opts.only && !opts.only.some((o) => s.id.includes(o))) continue;
      if (isScenario(s)) out.scenarios.push(s);
      else out.skipped.push(s);
    } catch (err) {
      if (err instanceof ScenarioError) out.errors.push(err);
      else throw err;
    }
  }
  return out;
}
