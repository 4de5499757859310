// CWE-476 on call results that are never stored: `find(..)->field`, `*lookup(..)`, or
// `strcmp(s, getenv("X"))`. With no variable in between there is no place for a NULL check, so a
// call that may return NULL is dereferenced unchecked (fixes store the result and test it first).
import type { Finding } from "../types.ts";
import type { Token } from "./lexer.ts";
import { DEREF_CALLS, type FnContext, KEYWORDS, MAYBE_NULL_RE, NEVER_NULL_RE, NONNULL_CALLS, add } from "./context.ts";

/** Library calls documented to return NULL on failure or when nothing is found. */
const NULLABLE_LIBRARY = /^(getenv|secure_getenv|strchr|strrchr|strstr|strpbrk|memchr|crypt|realpath|setlocale|localtime|gmtime|ctime|ttyname|getpwnam|getpwuid|getgrnam|getgrgid|dlopen|dlsym|fopen|fdopen|popen|opendir|readdir|tmpfile|malloc|calloc|realloc|strdup|strndup)$/;
/** Method names whose result is an owned or always-present object (smart pointers, iterators, this). */
const ACCESSOR_METHODS = /^(get|data|c_str|begin|end|front|back|operator\w*|value|self|this)$/;

/** May the call named at `i` return NULL? Named lookups/allocations, minus accessors and casts. */
function mayReturnNull(t: Token[], i: number): boolean {
  const name = t[i].text;
  if (KEYWORDS.has(name) || NONNULL_CALLS.test(name) || NEVER_NULL_RE.test(name)) return false;
  if (NULLABLE_LIBRARY.test(name)) return true;
  const member = t[i - 1]?.text === "->" || t[i - 1]?.text === "." || t[i - 1]?.text === "::";
  if (member && ACCESSOR_METHODS.test(name)) return false;
  // an all-caps name is a macro (a cast or an accessor), not a lookup
  if (/^[A-Z0-9_]+$/.test(name)) return false;
  return MAYBE_NULL_RE.test(name);
}

/** The call whose argument list directly contains token `j` (its name's index), or -1. */
function enclosingCall(ctx: FnContext, j: number): number {
  const t = ctx.toks;
  let d = 0;
  for (let m = j - 1; m > ctx.fn.open; m--) {
    const x = t[m].text;
    if (x === ")") d++;
    else if (x === "(") {
      if (d === 0) return t[m - 1]?.kind === "id" ? m - 1 : -1;
      d--;
    } else if (x === ";" || x === "{" || x === "}") return -1;
  }
  return -1;
}

export function unstoredCallResult(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  for (let i = ctx.fn.open + 1; i < ctx.fn.close; i++) {
    if (t[i].kind !== "id" || t[i + 1]?.text !== "(" || !mayReturnNull(t, i)) continue;
    const close = ctx.match[i + 1];
    if (close < 0 || close >= ctx.fn.close) continue;
    const name = t[i].text;
    // f(..)->x dereferences the result in place
    if (t[close + 1]?.text === "->") {
      add(out, "CWE-476", t[i], "c-unchecked-call-result", `the result of ${name}() is dereferenced with '->' without a NULL check`);
      continue;
    }
    // *f(..) (a unary star: no value on its left)
    const before = t[i - 1];
    const beforeStar = t[i - 2];
    if (before?.text === "*" && !(beforeStar && (beforeStar.kind === "id" || beforeStar.kind === "num" || beforeStar.text === ")" || beforeStar.text === "]")) &&
      !(t[i - 1]?.text === "->" || t[i - 1]?.text === ".")) {
      add(out, "CWE-476", t[i], "c-unchecked-call-result", `the result of ${name}() is dereferenced with '*' without a NULL check`);
      continue;
    }
    // strcmp(s, getenv("X")): a library call that reads through every pointer argument
    if (!NULLABLE_LIBRARY.test(name)) continue;
    // past a cast: strcmp(s, (char *) crypt(..))
    const start = t[i - 1]?.text === ")" && ctx.match[i - 1] >= 0 && t[ctx.match[i - 1] + 1]?.kind === "id" ? ctx.match[i - 1] : i;
    const prev = t[start - 1]?.text;
    const next = t[close + 1]?.text;
    if (!((prev === "(" || prev === ",") && (next === ")" || next === ","))) continue;
    const owner = enclosingCall(ctx, start);
    if (owner >= 0 && DEREF_CALLS.has(t[owner].text)) {
      add(out, "CWE-476", t[i], "c-unchecked-call-result", `the result of ${name}() is passed to ${t[owner].text}() without a NULL check`);
    }
  }
}
