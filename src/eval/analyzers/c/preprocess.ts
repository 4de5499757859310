// What the token rules need from the preprocessor and the compiler's constant folding:
//  - object-like macros (`#define N 10`, `#define CMD execl`), from the program and from the
//    headers it includes with `#include "..."` when their folders are given; Windows-only branches
//    (`#ifdef _WIN32`) are skipped, other conditionals contribute both branches;
//  - aliases expanded in the token stream: a macro whose body is one identifier, string or char
//    literal (`L"..."` too) stands for it (numbers stay names: rules read `MAX_LEN` as a bound);
//  - branches with a constant condition folded away: `if (5 == 5) A else B` is `A`, `if (0) A`
//    is nothing. Constants are integer literals, numeric macros, `true`/`false` and file-scope
//    `const` integers (`static const int FLAG = 1;`).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { lexC, matchBrackets, type Token } from "./lexer.ts";
import { lookupTable } from "../../../lookup-table.ts";

export type Macros = Map<string, Token[]>;

const WINDOWS_ONLY = /^(_WIN32|_WIN64|WIN32|_MSC_VER|__MINGW32__|_WINDOWS)$/;

/** Object-like macros of `code` and of the quoted includes found under `includeDirs`. */
export function collectMacros(code: string, includeDirs: readonly string[] = [], macros: Macros = new Map(), seen = new Set<string>()): Macros {
  const lines = code.split("\n");
  // per open conditional: is its current branch Windows-only (skipped)?
  const stack: { skip: boolean; platform: boolean }[] = [];
  const skipping = () => stack.some((s) => s.skip);
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n].replace(/\r$/, "");
    while (line.endsWith("\\") && n + 1 < lines.length) line = line.slice(0, -1) + " " + lines[++n].replace(/\r$/, "");
    const d = /^\s*#\s*(\w+)\s*(.*)$/.exec(line);
    if (!d) continue;
    const [, kind, rest0] = d;
    const rest = rest0.replace(/\/\*.*?\*\/|\/\/.*$/g, "").trim();
    if (kind === "ifdef" || kind === "ifndef" || kind === "if") {
      const m = /^(!?)\s*(?:defined\s*\(?\s*)?(\w+)\s*\)?$/.exec(rest);
      const platform = !!m && WINDOWS_ONLY.test(m[2]) && (kind !== "if" || /defined/.test(rest));
      const positive = kind === "ifdef" || (kind === "if" && m?.[1] !== "!");
      stack.push({ skip: platform && positive, platform });
    } else if (kind === "else" || kind === "elif") {
      const top = stack[stack.length - 1];
      if (top?.platform) top.skip = !top.skip;
    } else if (kind === "endif") stack.pop();
    else if (skipping()) continue;
    else if (kind === "define") {
      const m = /^([A-Za-z_]\w*)(\(?)\s*(.*)$/.exec(rest0.trim());
      if (!m || m[2] === "(") continue;
      const body = lexC(m[3].replace(/\/\*.*?\*\/|\/\/.*$/g, ""));
      if (body.length > 0 && body.length <= 32) macros.set(m[1], body);
    } else if (kind === "include" && includeDirs.length > 0) {
      const inc = /^"([^"]+)"/.exec(rest)?.[1];
      if (!inc || seen.has(inc) || seen.size > 16) continue;
      seen.add(inc);
      const dir = includeDirs.find((x) => existsSync(join(x, inc)));
      if (dir) collectMacros(readFileSync(join(dir, inc), "utf8"), includeDirs, macros, seen);
    }
  }
  return macros;
}

/** The text of the quoted headers `code` includes (for the types they declare), or "". */
export function includedText(code: string, includeDirs: readonly string[] = [], seen = new Set<string>()): string {
  if (includeDirs.length === 0) return "";
  let out = "";
  for (const m of code.matchAll(/^\s*#\s*include\s*"([^"]+)"/gm)) {
    if (seen.has(m[1]) || seen.size > 16) continue;
    seen.add(m[1]);
    const dir = includeDirs.find((x) => existsSync(join(x, m[1])));
    if (!dir) continue;
    const text = readFileSync(join(dir, m[1]), "utf8");
    out += includedText(text, includeDirs, seen) + "\n" + text;
  }
  return out;
}

/** Replaces identifiers that name an alias macro (one identifier or literal) by what they stand for. */
export function expandAliases(toks: Token[], macros: Macros): Token[] {
  if (macros.size === 0) return toks;
  const alias = (body: Token[]) =>
    body.length === 1 ? body[0].kind !== "num" && body[0].kind !== "op" : body.length === 2 && body[0].text === "L" && body[1].kind !== "id" && body[1].kind !== "op";
  const out: Token[] = [];
  for (const t of toks) {
    let body = t.kind === "id" ? macros.get(t.text) : undefined;
    let depth = 0;
    let cur: Token[] = [t];
    while (body && alias(body) && depth++ < 4) {
      cur = body;
      body = body.length === 1 && body[0].kind === "id" && body[0].text !== t.text ? macros.get(body[0].text) : undefined;
    }
    for (const b of cur) out.push(b === t ? t : { ...b, line: t.line });
  }
  return out;
}

/** File-scope `const` integer variables (`static const int X = 1;`) with their tokens. */
function constGlobals(toks: Token[], macros: Macros): Map<string, Token[]> {
  const out = new Map<string, Token[]>();
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const x = toks[i].text;
    if (x === "{") depth++;
    else if (x === "}") depth = Math.max(0, depth - 1);
    if (depth !== 0 || x !== "const") continue;
    // const <int type words> NAME = value ;
    let k = i + 1;
    while (toks[k]?.kind === "id" && /^(int|long|short|char|unsigned|signed|bool|_Bool|size_t|u?int\d+_t)$/.test(toks[k].text)) k++;
    if (k === i + 1 || toks[k]?.kind !== "id" || toks[k + 1]?.text !== "=") continue;
    const end = toks.findIndex((t, n) => n > k && (t.text === ";" || t.text === ","));
    if (end < 0) continue;
    const value = toks.slice(k + 2, end);
    if (evalConst(value, 0, value.length, macros, out) !== null) out.set(toks[k].text, value);
    i = end;
  }
  return out;
}

const I64 = 2 ** 63;
const U64 = 2 ** 64;
/** <limits.h>/<stdint.h> limits (64-bit values as the nearest doubles: only compared, never printed). */
export const LIMITS: Readonly<Record<string, number>> = lookupTable<number>({
  CHAR_MAX: 127, CHAR_MIN: -128, SCHAR_MAX: 127, SCHAR_MIN: -128, UCHAR_MAX: 255, SHRT_MAX: 32767, SHRT_MIN: -32768,
  USHRT_MAX: 65535, INT_MAX: 2147483647, INT_MIN: -2147483648, UINT_MAX: 4294967295, LONG_MAX: I64 - 1,
  LONG_MIN: -I64, ULONG_MAX: U64 - 1, LLONG_MAX: I64 - 1, LLONG_MIN: -I64, ULLONG_MAX: U64 - 1, INT8_MAX: 127,
  INT16_MAX: 32767, INT32_MAX: 2147483647, INT64_MAX: I64 - 1, UINT8_MAX: 255, UINT16_MAX: 65535, UINT32_MAX: 4294967295,
  UINT64_MAX: U64 - 1, SIZE_MAX: U64 - 1,
});

/** The value of an integer literal token (decimal, hex, octal, with suffixes; chars too), or null. */
export function literalValue(t: Token): number | null {
  if (t.kind === "chr") {
    const s = t.text.slice(1, -1);
    if (s.length === 1) return s.charCodeAt(0);
    const esc: Record<string, number> = { "\\0": 0, "\\n": 10, "\\t": 9, "\\r": 13, "\\\\": 92, "\\'": 39, '\\"': 34 };
    return esc[s] ?? (/^\\[0-7]+$/.test(s) ? parseInt(s.slice(1), 8) : /^\\x[0-9a-f]+$/i.test(s) ? parseInt(s.slice(2), 16) : null);
  }
  if (t.kind !== "num") return null;
  const s = t.text.replace(/[uUlL]+$/, "");
  if (/^0x[0-9a-f]+$/i.test(s)) return parseInt(s, 16);
  if (/^0[0-7]+$/.test(s)) return parseInt(s, 8);
  if (/^\d+$/.test(s)) return Number(s);
  return null;
}

/**
 * Evaluates an integer constant expression in toks[from, to): literals, numeric macros, limits
 * (INT_MAX, ...), file constants, `true`/`false`, ( ), unary ! - ~, * / % + - << >> < <= > >= == !=
 * & ^ | && ||. Null when anything else occurs.
 */
export function evalConst(toks: readonly Token[], from: number, to: number, macros: Macros, consts?: Map<string, Token[]>, depth = 0): number | null {
  let pos = from;
  const peek = () => (pos < to ? toks[pos].text : "");
  const fail = { v: false };
  const PREC: [string[], (a: number, b: number) => number][] = [
    [["||"], (a, b) => (a || b ? 1 : 0)],
    [["&&"], (a, b) => (a && b ? 1 : 0)],
    [["|"], (a, b) => a | b],
    [["^"], (a, b) => a ^ b],
    [["&"], (a, b) => a & b],
    [["==", "!="], () => 0],
    [["<", "<=", ">", ">="], () => 0],
    [["<<", ">>"], () => 0],
    [["+", "-"], () => 0],
    [["*", "/", "%"], () => 0],
  ];
  const apply = (op: string, a: number, b: number): number => {
    switch (op) {
      case "==": return a === b ? 1 : 0;
      case "!=": return a !== b ? 1 : 0;
      case "<": return a < b ? 1 : 0;
      case "<=": return a <= b ? 1 : 0;
      case ">": return a > b ? 1 : 0;
      case ">=": return a >= b ? 1 : 0;
      case "<<": return a * 2 ** b;
      case ">>": return Math.floor(a / 2 ** b);
      case "+": return a + b;
      case "-": return a - b;
      case "*": return a * b;
      case "/": if (b === 0) fail.v = true; return Math.trunc(a / b);
      case "%": if (b === 0) fail.v = true; return a % b;
      default: return PREC.find(([ops]) => ops.includes(op))?.[1](a, b) ?? 0;
    }
  };
  const unary = (): number => {
    const x = peek();
    if (x === "!" || x === "-" || x === "~" || x === "+") {
      pos++;
      const v = unary();
      return x === "!" ? (v ? 0 : 1) : x === "-" ? -v : x === "~" ? ~v : v;
    }
    if (x === "(") {
      pos++;
      const v = binary(0);
      if (peek() !== ")") fail.v = true;
      pos++;
      return v;
    }
    const t = toks[pos++];
    if (!t || pos > to) {
      fail.v = true;
      return 0;
    }
    const lit = literalValue(t);
    if (lit !== null) return lit;
    if (t.kind === "id") {
      if (t.text === "true") return 1;
      if (t.text === "false") return 0;
      if (t.text in LIMITS) return LIMITS[t.text];
      const body = consts?.get(t.text) ?? macros.get(t.text);
      if (body && depth < 8) {
        const v = evalConst(body, 0, body.length, macros, consts, depth + 1);
        if (v !== null) return v;
      }
    }
    fail.v = true;
    return 0;
  };
  const binary = (level: number): number => {
    if (level >= PREC.length) return unary();
    let a = binary(level + 1);
    while (!fail.v && PREC[level][0].includes(peek())) {
      const op = toks[pos++].text;
      const b = binary(level + 1);
      a = apply(op, a, b);
    }
    return a;
  };
  if (from >= to) return null;
  const v = binary(0);
  return fail.v || pos !== to || !Number.isFinite(v) ? null : v;
}

/** The end (exclusive) of the statement starting at token i: a block, a compound statement or up to `;`. */
export function statementExtent(toks: Token[], match: Int32Array, i: number, end = toks.length): number {
  const t = toks[i];
  if (!t || i >= end) return end;
  const after = (k: number) => (match[k] > k ? match[k] + 1 : end);
  if (t.text === "{") return Math.min(after(i), end);
  if (t.kind === "id") {
    if (t.text === "if" && toks[i + 1]?.text === "(") {
      const body = after(i + 1);
      const s1 = statementExtent(toks, match, body, end);
      if (toks[s1]?.text === "else") return statementExtent(toks, match, s1 + 1, end);
      return s1;
    }
    if ((t.text === "for" || t.text === "while" || t.text === "switch") && toks[i + 1]?.text === "(") {
      return statementExtent(toks, match, after(i + 1), end);
    }
    if (t.text === "do") {
      const body = statementExtent(toks, match, i + 1, end);
      if (toks[body]?.text === "while" && toks[body + 1]?.text === "(") {
        const c = after(body + 1);
        return toks[c]?.text === ";" ? c + 1 : c;
      }
      return body;
    }
  }
  for (let k = i; k < end; k++) {
    const x = toks[k].text;
    if (x === ";") return k + 1;
    if (x === "}") return k;
    // `list_for_each(p, head) { ... }`: a loop macro and its body
    if (x === "(" && k === i + 1 && t.kind === "id" && match[k] > k && toks[match[k] + 1]?.text === "{" && match[match[k] + 1] > match[k]) {
      return Math.min(match[match[k] + 1] + 1, end);
    }
    if ((x === "(" || x === "[" || x === "{") && match[k] > k) k = match[k];
  }
  return end;
}

/** Drops the dead branch (and the test) of every `if` whose condition is a constant. */
export function foldConstantBranches(toks: Token[], macros: Macros): Token[] {
  const match = matchBrackets(toks);
  const consts = constGlobals(toks, macros);
  const out: Token[] = [];
  let changed = false;
  const emit = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const t = toks[i];
      if (t.text === "if" && t.kind === "id" && toks[i + 1]?.text === "(" && match[i + 1] > i + 1 && match[i + 1] < to && toks[i - 1]?.text !== "#") {
        const close = match[i + 1];
        const v = evalConst(toks, i + 2, close, macros, consts);
        if (v !== null) {
          const s1 = close + 1;
          const e1 = statementExtent(toks, match, s1, to);
          const hasElse = toks[e1]?.text === "else";
          const e2 = hasElse ? statementExtent(toks, match, e1 + 1, to) : e1;
          changed = true;
          if (v) emit(s1, e1);
          else if (hasElse) emit(e1 + 1, e2);
          // a dropped braceless branch or a missing else leaves an empty statement
          else out.push({ kind: "op", text: ";", line: t.line });
          i = e2 - 1;
          continue;
        }
      }
      out.push(t);
    }
  };
  emit(0, toks.length);
  return changed ? out : toks;
}

/** The program's tokens as the C rules see them: aliases expanded, constant branches folded. */
export function preprocessC(code: string, includeDirs: readonly string[] = []): { toks: Token[]; macros: Macros; header: Token[] } {
  const macros = collectMacros(code, includeDirs);
  const toks = foldConstantBranches(expandAliases(lexC(code), macros), macros);
  // the included headers' own tokens (their types and structures, never judged)
  const text = includedText(code, includeDirs);
  return { toks, macros, header: text ? expandAliases(lexC(text), macros) : [] };
}
