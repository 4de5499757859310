// CWE-476: an allocation's result stored (`p = malloc(..)`, `s->buf = kzalloc(..)`) and never
// tested for NULL anywhere after it in the function. Whatever uses it later (here or through the
// structure it was stored in) meets NULL when memory runs out. A result handed back to the caller
// (`return p;`) is the caller's to test. Allocators that abort on failure (xmalloc, g_malloc) are
// not reported.
import type { Finding } from "../types.ts";
import { CHECK_CALLS, type FnContext, add, pathAt } from "./context.ts";

/** Allocators that return NULL on failure. */
const NULLABLE_ALLOC = /^(malloc|calloc|realloc|reallocarray|strdup|strndup|k[mz]alloc\w*|kcalloc|kvmalloc\w*|kvzalloc|vmalloc\w*|vzalloc|kmemdup|kstrdup|kstrndup|devm_k[mz]alloc|devm_kcalloc|alloc_\w+|\w+_alloc|av_malloc\w*|av_calloc)$/;
const ABORTS = /^(x|g_)/;

export function uncheckedAllocation(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  for (let i = ctx.fn.open + 1; i < ctx.fn.close; i++) {
    if (t[i].text !== "=" || t[i].kind !== "op") continue;
    // the call is the whole right-hand side, past a cast
    let k = i + 1;
    if (t[k]?.text === "(" && ctx.match[k] > k && t[ctx.match[k] + 1]?.kind === "id") k = ctx.match[k] + 1;
    const name = t[k]?.text ?? "";
    if (t[k]?.kind !== "id" || t[k + 1]?.text !== "(" || !NULLABLE_ALLOC.test(name) || ABORTS.test(name)) continue;
    const end = ctx.statementEnd(i);
    if (ctx.match[k + 1] !== end - 1 || t[end]?.text !== ";") continue;
    // the assigned path: `p`, `a->b`, `a.b`
    let s = i - 1;
    while (s >= 2 && (t[s - 1].text === "->" || t[s - 1].text === ".") && t[s - 2].kind === "id") s -= 2;
    if (t[s]?.kind !== "id" || !/^[;{}]$/.test(t[s - 1]?.text ?? "") && t[s - 1]?.kind !== "id" && t[s - 1]?.text !== "*") continue;
    // `*pp = malloc(..)` stores through a pointer: the stored value is `*pp`, tested as such
    if (t[s - 1]?.text === "*" && t[s - 2]?.kind !== "id") continue;
    const path = t.slice(s, i).map((x) => x.text);
    if (path.some((x) => !/^(\w+|->|\.)$/.test(x))) continue;
    if (checkedLater(ctx, path, end)) continue;
    add(out, "CWE-476", t[k], "c-unchecked-alloc", `'${path.join("")}' from ${name}() is never tested for NULL`);
  }
}

/** Is `path` tested, returned, handed to a check or dereferenced after `from`, or reassigned? */
function checkedLater(ctx: FnContext, path: string[], from: number): boolean {
  const t = ctx.toks;
  const n = path.length;
  for (let j = from; j < ctx.fn.close; j++) {
    if (!pathAt(t, j, path)) continue;
    const prev = t[j - 1]?.text ?? "";
    const next = t[j + n]?.text ?? "";
    // a dereference is the unchecked-null rule's to report
    if (/^(->|\[)$/.test(next)) return true;
    if (next === "." && prev !== "!") continue;
    if (next === "=") return true;
    if (prev === "return" || (prev === "(" && t[j - 2]?.text === "return")) return true;
    if (prev === "!" || /^(==|!=|&&|\|\||\?)$/.test(next) || /^(==|!=|&&|\|\|)$/.test(prev)) return true;
    // `if (p)`, `assert(p)`, `IS_ERR_OR_NULL(p)`, `WARN_ON(!p)`
    if (prev === "(" && next === ")" && (/^(if|while)$/.test(t[j - 2]?.text ?? "") || CHECK_CALLS.test(t[j - 2]?.text ?? ""))) return true;
    if (prev === "(" && /NULL|null|ERR/.test(t[j - 2]?.text ?? "")) return true;
  }
  return false;
}
