// NIST Juliet 1.3 C test cases as labelled pairs for `cosec eval analyzer --juliet`.
// Each file holds `..._bad()` under `#ifndef OMITBAD` and the good functions under
// `#ifndef OMITGOOD` (`main` under `#ifdef INCLUDEMAIN`): resolving those three macros as the
// compiler would with -DOMITGOOD gives the vulnerable program, with -DOMITBAD the fixed one.
// Removed lines are blanked, so a finding's line is the original file's line.
// Splits by flow variant: `tune` = _01/_02 (straight-line code, if(1)), `report` = _03/_04
// (if(5==5), if(STATIC_CONST_TRUE)): rules are developed on tune and reported on report.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { InvalidArgumentError } from "../errors.ts";
import type { LabelledPair } from "./accuracy.ts";
import { lookupTable } from "../lookup-table.ts";

/** The macros the resolver decides; every other preprocessor line is kept as it is. */
export type JulietMacro = "OMITBAD" | "OMITGOOD" | "INCLUDEMAIN";
const MACROS = new Set<string>(["OMITBAD", "OMITGOOD", "INCLUDEMAIN"]);

export type JulietSplit = "tune" | "report";
export const JULIET_SPLITS: readonly JulietSplit[] = ["tune", "report"];

/** Juliet CWE folder number -> the CWE our analyzers report (121/122 are writes, 126 reads). */
export const JULIET_CWE: Readonly<Record<string, string>> = lookupTable<string>({
  "121": "CWE-787", "122": "CWE-787", "126": "CWE-125", "190": "CWE-190", "416": "CWE-416", "476": "CWE-476", "78": "CWE-078",
});

export interface JulietCase {
  /** Absolute path of the test file. */
  file: string;
  /** The Juliet CWE folder, e.g. `CWE121_Stack_Based_Buffer_Overflow`. */
  folder: string;
  /** Our CWE (`CWE-787` form). */
  cwe: string;
  /** Flow variant 1..4 (the file's `_0N.c`). */
  variant: number;
  split: JulietSplit;
  /** The program as compiled with -DOMITGOOD (the flaw only). */
  bad: string;
  /** The program as compiled with -DOMITBAD (the fixes only). */
  good: string;
  /** Line of the bad function's name (1-based), for listings. */
  badLine: number;
  includeDirs: string[];
}

const DIRECTIVE = /^\s*#\s*(ifdef|ifndef|if|elif|else|endif)\b(.*)$/;

/** The macro a conditional tests, when it is one of ours: `[name, wantDefined]`. */
function ownCondition(kind: string, rest: string): [string, boolean] | null {
  const arg = rest.replace(/\/\*.*?\*\/|\/\/.*$/g, "").trim();
  if (kind === "ifdef" || kind === "ifndef") return MACROS.has(arg) ? [arg, kind === "ifdef"] : null;
  if (kind === "if") {
    const m = /^(!?)\s*defined\s*\(?\s*(\w+)\s*\)?$/.exec(arg);
    if (m && MACROS.has(m[2])) return [m[2], m[1] !== "!"];
  }
  return null;
}

/**
 * Resolves `#ifdef/#ifndef/#if defined/#else/#endif` on OMITBAD, OMITGOOD and INCLUDEMAIN
 * (nesting-aware; other conditionals are kept and only tracked for nesting). Lines the compiler
 * would drop, and the resolved directives themselves, become empty lines.
 */
export function resolveJuliet(src: string, defined: Iterable<JulietMacro>): string {
  const defs = new Set<string>(defined);
  // per open conditional: ours (decided here) or kept; whether the current branch is live
  const stack: { own: boolean; live: boolean; parentLive: boolean }[] = [];
  const live = () => stack.length === 0 || stack[stack.length - 1].live;
  const lines = src.split("\n");
  const out: string[] = [];
  let continued = false;
  for (const line of lines) {
    const wasContinued = continued;
    continued = /\\\r?$/.test(line);
    // Juliet's files end lines with CRLF: match without the \r, keep the line as it was
    const m = wasContinued ? null : DIRECTIVE.exec(line.replace(/\r$/, ""));
    if (!m) {
      out.push(live() ? line : "");
      continue;
    }
    const [, kind, rest] = m;
    if (kind === "ifdef" || kind === "ifndef" || kind === "if") {
      const parentLive = live();
      const own = ownCondition(kind, rest);
      if (own) {
        stack.push({ own: true, live: parentLive && defs.has(own[0]) === own[1], parentLive });
        out.push("");
      } else {
        stack.push({ own: false, live: parentLive, parentLive });
        out.push(parentLive ? line : "");
      }
      continue;
    }
    const top = stack[stack.length - 1];
    if (!top) {
      // an unbalanced #else/#endif: keep it for the compiler to report
      out.push(line);
      continue;
    }
    if (kind === "endif") stack.pop();
    else if (top.own) {
      if (kind === "elif") throw new InvalidArgumentError("juliet", `#elif after a conditional on ${[...MACROS].join("/")} is not supported`);
      top.live = top.parentLive && !top.live;
    }
    out.push(top.own || !top.parentLive ? "" : line);
  }
  return out.join("\n");
}

/** Juliet test files under `dir` (`testcases/CWE*` folders, files `*_0N.c`), sorted. */
export function findJulietFiles(dir: string): string[] {
  const root = existsSync(join(dir, "testcases")) ? join(dir, "testcases") : dir;
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/^CWE\d+_\w+_0\d\.c$/.test(name)) out.push(p);
    }
  };
  if (existsSync(root) && statSync(root).isDirectory()) walk(root);
  return out;
}

/** The support folder (std_testcase.h, io.c): `<dir>/testcasesupport` or a sibling of testcases/. */
function supportDir(dir: string): string[] {
  for (const d of [join(dir, "testcasesupport"), join(dir, "..", "testcasesupport")]) if (existsSync(d)) return [d];
  return [];
}

export function loadJuliet(dir: string, opts: { splits?: readonly JulietSplit[]; cwes?: readonly string[] } = {}): JulietCase[] {
  if (!existsSync(dir)) throw new InvalidArgumentError("--juliet", `folder ${dir} does not exist`);
  const files = findJulietFiles(dir);
  if (files.length === 0) {
    throw new InvalidArgumentError("--juliet", `no Juliet test files (testcases/CWE*/.../CWE*_0N.c) under ${dir}`);
  }
  const includeDirs = supportDir(dir);
  const cases: JulietCase[] = [];
  for (const file of files) {
    const name = basename(file);
    const m = /^CWE(\d+)_/.exec(name);
    const cwe = m ? JULIET_CWE[m[1]] : undefined;
    if (!m || !cwe) continue;
    if (opts.cwes && !opts.cwes.includes(cwe)) continue;
    const variant = Number(/_0(\d)\.c$/.exec(name)?.[1]);
    const split: JulietSplit = variant <= 2 ? "tune" : "report";
    if (opts.splits && !opts.splits.includes(split)) continue;
    const src = readFileSync(file, "utf8");
    const bad = resolveJuliet(src, ["OMITGOOD"]);
    const badLine = bad.split("\n").findIndex((l) => /\w+_bad\s*\(/.test(l)) + 1;
    const folder = relative(dir, file).split(/[\\/]/).find((p) => /^CWE\d+_/.test(p) && !p.endsWith(".c")) ?? `CWE${m[1]}`;
    cases.push({ file, folder, cwe, variant, split, bad, good: resolveJuliet(src, ["OMITBAD"]), badLine, includeDirs });
  }
  return cases;
}

/** Cases as accuracy pairs: before = the vulnerable program, after = the fixed one. */
export function julietPairs(cases: readonly JulietCase[]): LabelledPair[] {
  return cases.map((c) => ({
    file: c.file,
    line: c.badLine,
    cwe: c.cwe,
    language: "c",
    funcName: basename(c.file, ".c"),
    before: c.bad,
    after: c.good,
    includeDirs: c.includeDirs,
  }));
}
