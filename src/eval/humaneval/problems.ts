// HumanEval problems in MultiPL-E form (`name`, `language`, `prompt`, `tests`, `stop_tokens`), one
// YAML file each. Any folder in this format works; a malformed file is reported and skipped.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { parse } from "yaml";
import { CosecError } from "../../errors.ts";

export interface HumanEvalProblem {
  /** Problem name (the YAML's `name`, else the file name without extension). */
  name: string;
  file: string;
  language: string;
  /** Code up to where the model continues (signature + docstring). */
  prompt: string;
  /** Test code appended after prompt + completion; it fails (raises) on a wrong solution. */
  tests: string;
  /** Strings at which a completion is cut (the function's end). */
  stopTokens: string[];
}

/** A problem file that cannot be used; names the file and the field. */
export class ProblemFileError extends CosecError {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

export interface LoadedProblems {
  problems: HumanEvalProblem[];
  errors: ProblemFileError[];
}

function requireString(file: string, doc: Record<string, unknown>, field: string): string {
  const v = doc[field];
  if (typeof v !== "string" || v.trim() === "") throw new ProblemFileError(file, `field '${field}' must be a non-empty string`);
  return v;
}

/** Parse one problem file; throws ProblemFileError when it is not a usable problem. */
export function parseProblem(file: string, text: string): HumanEvalProblem {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ProblemFileError(file, `not valid YAML (${(err as Error).message.split("\n")[0]})`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new ProblemFileError(file, "expected a YAML mapping with prompt, tests, stop_tokens");
  const d = doc as Record<string, unknown>;
  const prompt = requireString(file, d, "prompt");
  const tests = requireString(file, d, "tests");
  const stops = d.stop_tokens ?? [];
  if (!Array.isArray(stops) || !stops.every((s) => typeof s === "string" && s !== "")) {
    throw new ProblemFileError(file, "field 'stop_tokens' must be a list of non-empty strings");
  }
  const language = d.language === undefined ? "py" : d.language;
  if (language !== "py" && language !== "python") {
    throw new ProblemFileError(file, `language '${String(language)}' is not supported (only Python problems can be executed)`);
  }
  const name = typeof d.name === "string" && d.name !== "" ? d.name : basename(file, extname(file));
  return { name, file, language: "py", prompt, tests, stopTokens: stops as string[] };
}

/** HumanEval_12_x sorts after HumanEval_2_y: compare embedded numbers numerically. */
function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/** Load every `*.yaml`/`*.yml` in `dir` (sorted naturally by name); collects per-file errors. */
export function loadProblems(dir: string): LoadedProblems {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a folder");
    entries = readdirSync(dir);
  } catch (err) {
    throw new ProblemFileError(dir, `cannot read the problem folder (${(err as Error).message})`);
  }
  const problems: HumanEvalProblem[] = [];
  const errors: ProblemFileError[] = [];
  const seen = new Map<string, string>();
  for (const entry of entries.filter((e) => /\.ya?ml$/i.test(e)).sort(naturalCompare)) {
    const file = join(dir, entry);
    try {
      const p = parseProblem(file, readFileSync(file, "utf8"));
      const other = seen.get(p.name);
      if (other) throw new ProblemFileError(file, `problem name '${p.name}' is also used by ${other}`);
      seen.set(p.name, file);
      problems.push(p);
    } catch (err) {
      if (err instanceof ProblemFileError) errors.push(err);
      else errors.push(new ProblemFileError(file, (err as Error).message));
    }
  }
  return { problems, errors };
}

/** Cut a completion at the first occurrence of any stop token (the token itself is dropped). */
export function cutAtStop(completion: string, stopTokens: readonly string[]): string {
  let end = completion.length;
  for (const s of stopTokens) {
    const i = completion.indexOf(s);
    if (i !== -1 && i < end) end = i;
  }
  return completion.slice(0, end);
}

/** The program executed for one sample: the function (prompt + completion), then its tests. */
export function buildProgram(problem: HumanEvalProblem, completion: string): string {
  return `${problem.prompt}${completion}\n\n${problem.tests}\n`;
}
