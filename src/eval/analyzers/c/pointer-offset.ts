// CWE-125/787: a pointer moved by a count from outside the function (a parameter, a structure
// member such as a length field read from the data, a call's result) that the function never
// compared with anything: `p += hdr->len;`, `q = buf + off;`. Parsers walk buffers this way and
// fixes add the missing `if (p + len > end)` / `if (off >= size)` before the move.
// Counts from sizeof, constants and values the function bounded (compared.ts) are trusted.
import type { Finding } from "../types.ts";
import { Bounds } from "./compared.ts";
import { type FnContext, INPUT_CALLS, KEYWORDS, RELATIONAL, add } from "./context.ts";

/** Calls that write through their first argument. */
const WRITES_FIRST = /^(memcpy|memmove|memset|strcpy|strncpy|strcat|strncat|sprintf|snprintf|read|fread|recv)$/;

export function pointerOffset(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  let bounds: Bounds | null = null;
  for (let i = ctx.fn.open + 1; i < ctx.fn.close; i++) {
    const x = t[i].text;
    if (t[i].kind !== "op" || (x !== "+=" && x !== "+")) continue;
    const p = t[i - 1];
    if (p?.kind !== "id" || !ctx.pointers.has(p.text) || t[i - 2]?.text === "->" || t[i - 2]?.text === "." || t[i - 2]?.text === ")") continue;
    // `p + n` only where it is an address: assigned, passed, or dereferenced
    if (x === "+" && !/^(=|\(|,)$/.test(t[i - 2]?.text ?? "")) continue;
    const end = x === "+=" ? ctx.statementEnd(i) : exprEnd(ctx, i);
    // `if (p + len > end)` is the check itself, not a move
    if (x === "+" && (RELATIONAL.has(t[end]?.text ?? "") || RELATIONAL.has(t[i - 3]?.text ?? ""))) continue;
    bounds ??= new Bounds(ctx);
    // `end = buf + size` sets up the limit that later comparisons use
    if (x === "+" && t[i - 2]?.text === "=" && t[i - 3]?.kind === "id" && bounds.has(t[i - 3].text)) continue;
    const bad = outsideCount(ctx, bounds, i + 1, end, i);
    if (!bad) continue;
    const written = writtenThrough(ctx, p.text, end);
    add(out, "CWE-125", t[i], "c-unchecked-pointer-offset", `'${p.text}' is moved by '${bad}', which is never compared with a bound`);
    if (written) add(out, "CWE-787", t[i], "c-unchecked-pointer-offset", `'${p.text}' is moved by '${bad}' and written through; '${bad}' is never compared with a bound`);
  }
}

/** The end of the operand expression after `op`: the next `,`, `)`, `;` at its depth. */
function exprEnd(ctx: FnContext, op: number): number {
  const t = ctx.toks;
  let d = 0;
  for (let k = op + 1; k < ctx.fn.close; k++) {
    const x = t[k].text;
    if (x === "(" || x === "[") d++;
    else if (x === ")" || x === "]") {
      if (d === 0) return k;
      d--;
    } else if (d === 0 && /^(,|;|\?|:|&&|\|\||==|!=|<|<=|>|>=)$/.test(x)) return k;
  }
  return ctx.fn.close;
}

/** The first operand in [from, to) that comes from outside the function and was never bounded. */
function outsideCount(ctx: FnContext, bounds: Bounds, from: number, to: number, at: number): string | null {
  const t = ctx.toks;
  for (let k = from; k < to; k++) {
    const x = t[k];
    if (x.text === "sizeof") {
      k = t[k + 1]?.text === "(" && ctx.match[k + 1] > k ? ctx.match[k + 1] : k + 1;
      continue;
    }
    if (x.kind !== "id" || KEYWORDS.has(x.text) || /^[A-Z][A-Z0-9_]*$/.test(x.text)) continue;
    // a cast's type name `(size_t) n`
    if (t[k - 1]?.text === "(" && (t[k + 1]?.text === ")" || t[k + 1]?.text === "*")) continue;
    let path = x.text;
    let j = k + 1;
    while ((t[j]?.text === "->" || t[j]?.text === ".") && t[j + 1]?.kind === "id") {
      path += t[j].text + t[j + 1].text;
      j += 2;
    }
    // calls and array elements are other values (their own rules judge them)
    if (t[j]?.text === "(" || t[j]?.text === "[") return null;
    k = j - 1;
    if (ctx.pointers.has(x.text) && path === x.text) continue;
    if (bounds.has(path, at)) continue;
    if (path !== x.text || outsideValue(ctx, bounds, x.text, at)) return path;
  }
  return null;
}

/** A parameter, or a local last assigned from a member, a call or a parameter, before `at`. */
function outsideValue(ctx: FnContext, bounds: Bounds, name: string, at: number): boolean {
  const t = ctx.toks;
  if (ctx.readCounts.has(name) || ctx.lengths.has(name)) return false;
  let outside = ctx.fn.params.has(name);
  for (let k = ctx.fn.open + 1; k < at; k++) {
    if (t[k].text !== name || t[k + 1]?.text !== "=" || t[k - 1]?.text === "->" || t[k - 1]?.text === ".") continue;
    const rhs = t.slice(k + 2, ctx.statementEnd(k));
    outside = rhs.some((y, n) => y.text === "->" || y.text === "." ||
      (y.kind === "id" && rhs[n + 1]?.text === "(" && (INPUT_CALLS.test(y.text) || !KEYWORDS.has(y.text)) && !/^(sizeof|strlen|strnlen|min\w*|MIN)$/.test(y.text)) ||
      (y.kind === "id" && ctx.fn.params.has(y.text) && !bounds.has(y.text, k)));
  }
  return outside;
}

/** Is the pointer written through after `from`: `*p = `, `p[i] = `, `memcpy(p, ..)`? */
function writtenThrough(ctx: FnContext, name: string, from: number): boolean {
  const t = ctx.toks;
  for (let k = from; k < ctx.fn.close; k++) {
    if (t[k].text !== name || t[k - 1]?.text === "->" || t[k - 1]?.text === ".") continue;
    if (t[k + 1]?.text === "=") return false;
    if (t[k - 1]?.text === "*" && /^(=|\+\+)$/.test(t[k + 1]?.text ?? "") && !/^(id|num)$/.test(t[k - 2]?.kind ?? "")) return true;
    if (t[k + 1]?.text === "[" && t[ctx.match[k + 1] + 1]?.text === "=") return true;
    if (t[k - 1]?.text === "(" && WRITES_FIRST.test(t[k - 2]?.text ?? "")) return true;
  }
  return false;
}
