// CWE-190 where the wrapped value decides memory safety:
//  - `malloc(n * size)`, `kmalloc(sizeof(*e) * s->len)`: a product or sum of run-time sizes as an
//    allocation size, with no overflow guard in the function and no upper bound on its operands
//    (fixes use calloc/kmalloc_array, an overflow helper, or range-check the operands first);
//  - `if (off + len > size)`: a bounds check whose sum can wrap past the bound (fixes compare
//    `len > size || off > size - len` or use an overflow helper).
import type { Finding } from "../types.ts";
import type { Token } from "./lexer.ts";
import { type FnContext, KEYWORDS, RELATIONAL, add } from "./context.ts";

/** Helpers, limits and checked-arithmetic names whose presence means overflow is handled. */
const OVERFLOW_GUARD =
  /(_MAX$|^MAX_\w+|^__builtin_\w+_overflow$|overflow|^check_\w+_overflow$|^size_mul$|^size_add$|^array_size$|^struct_size$|^safe_\w+|Overflow)/i;
/** Allocators taking one byte count (calloc-like ones multiply safely themselves). */
const ONE_SIZE_ALLOC = /^(malloc|realloc|alloca|k[mz]alloc|kvmalloc|kvzalloc|vmalloc|vzalloc|devm_k[mz]alloc|g_malloc0?|g_realloc|xmalloc|xrealloc|av_malloc|av_mallocz|av_realloc|\w*_malloc|\w*Alloc\w*|alloc\w*)$/;

/**
 * A simple factor spanning exactly [from, to): a path (`n`, `s->len`), `*p`, `(*p)`, a cast of one,
 * or a sizeof ("sizeof"); null for anything else (constants, calls, sums).
 */
function term(ctx: FnContext, from: number, to: number): string | null {
  const t = ctx.toks;
  if (t[from]?.text === "sizeof") return (t[from + 1]?.text === "(" ? ctx.match[from + 1] + 1 : from + 2) === to ? "sizeof" : null;
  // `(size_t) n`, `(*p)`, `*p`
  if (t[from]?.text === "(" && ctx.match[from] === to - 1) return term(ctx, from + 1, to - 1);
  if (t[from]?.text === "(" && ctx.match[from] > from && (KEYWORDS.has(t[from + 1]?.text ?? "") || /_t$/.test(t[from + 1]?.text ?? ""))) {
    return term(ctx, ctx.match[from] + 1, to);
  }
  if (t[from]?.text === "*") from++;
  const p = operandPath(t, from, to);
  return p && from + (p.split(/->|\./).length - 1) * 2 + 1 === to ? p : null;
}

/** Does the function use a limit or a checked-arithmetic helper (`X_MAX(a, b)` is a maximum, not a limit)? */
function hasOverflowGuard(ctx: FnContext): boolean {
  const t = ctx.toks;
  for (let k = ctx.fn.open; k < ctx.fn.close; k++) {
    if (OVERFLOW_GUARD.test(t[k].text) && !(/_MAX$/.test(t[k].text) && t[k + 1]?.text === "(")) return true;
  }
  return false;
}

/** An operand as text: an identifier with its member path (`s->len`, `a.b`), or null if constant/other. */
function operandPath(t: Token[], start: number, end: number): string | null {
  if (t[start]?.kind !== "id" || KEYWORDS.has(t[start].text) || /^[A-Z0-9_]+$/.test(t[start].text)) return null;
  const parts = [t[start].text];
  let k = start + 1;
  while (k + 1 < end && (t[k].text === "->" || t[k].text === ".") && t[k + 1].kind === "id") {
    parts.push(t[k].text, t[k + 1].text);
    k += 2;
  }
  if (t[k]?.text === "(" || t[k]?.text === "[") return null;
  return parts.join("");
}

/** The start of the path that ends at token `end` (`s->len` ending at `len`). */
function pathStart(t: Token[], end: number): number {
  let s = end;
  while (s >= 2 && (t[s - 1].text === "->" || t[s - 1].text === ".") && t[s - 2].kind === "id") s -= 2;
  return s;
}

/** Was the operand path compared with <, <=, >, >= (or clamped by min) in [from, to)? */
function boundedBefore(ctx: FnContext, path: string, from: number, to: number): boolean {
  const t = ctx.toks;
  for (let k = from; k < to; k++) {
    if (t[k].kind !== "id" || t[k - 1]?.text === "->" || t[k - 1]?.text === ".") continue;
    const p = operandPath(t, k, to);
    if (p !== path) continue;
    const last = k + (p.split(/->|\./).length - 1) * 2;
    if (RELATIONAL.has(t[last + 1]?.text ?? "") || RELATIONAL.has(t[k - 1]?.text ?? "")) return true;
    for (let j = k - 1; j > Math.max(from, k - 8); j--) {
      if (/^(min|min_t|clamp|clamp_t|MIN|\w+Min)$/.test(t[j].text)) return true;
      if (t[j].text === ";") break;
    }
  }
  return false;
}

/** The non-constant operand paths around the binary operator at `op` (inside [lo, hi)). */
function operandsOf(t: Token[], op: number, lo: number, hi: number): string[] {
  const out: string[] = [];
  const left = t[op - 1];
  if (left?.kind === "id") {
    const s = pathStart(t, op - 1);
    if (s >= lo) {
      const p = operandPath(t, s, op);
      if (p) out.push(p);
    }
  } else if (left?.text === ")") {
    // a cast or a parenthesised operand: `(size_t) n * m`, `(a + 1) * b`
    out.push(...idsIn(t, Math.max(lo, pathOpen(t, op - 1)), op - 1));
  }
  let r = op + 1;
  // skip a cast `(T) x`, `(unsigned int *) x`: type words and stars only
  if (t[r]?.text === "(") {
    let c = r + 1;
    while (c < hi && (t[c].kind === "id" || t[c].text === "*")) c++;
    const typeWord = KEYWORDS.has(t[r + 1]?.text ?? "") || /_t$/.test(t[r + 1]?.text ?? "");
    if (t[c]?.text === ")" && c > r + 1 && typeWord) r = c + 1;
  }
  if (t[r]?.kind === "id" && r < hi) {
    const p = operandPath(t, r, hi);
    if (p) out.push(p);
  }
  return out;
}

/** The `(` matching the `)` at `close`, found by walking back. */
function pathOpen(t: Token[], close: number): number {
  let d = 0;
  for (let k = close; k >= 0; k--) {
    if (t[k].text === ")") d++;
    else if (t[k].text === "(" && --d === 0) return k;
  }
  return close;
}

function idsIn(t: Token[], from: number, to: number): string[] {
  const out: string[] = [];
  for (let k = from; k < to; k++) {
    if (t[k].kind !== "id" || t[k - 1]?.text === "->" || t[k - 1]?.text === ".") continue;
    // a cast's type names `(cmsUInt32Number) n`, `(unsigned long *) p` are no operands
    if (t[k - 1]?.text === "(" || t[k - 1]?.kind === "id" || t[k - 1]?.text === "*") {
      let c = k;
      while (c < to && (t[c].kind === "id" || t[c].text === "*")) c++;
      if (t[c]?.text === ")" && (t[c + 1]?.kind === "id" || t[c + 1]?.text === "(") && t[k - 1]?.text === "(") {
        k = c;
        continue;
      }
    }
    const p = operandPath(t, k, to);
    if (p) out.push(p);
  }
  return out;
}

/** Is the token at `i` a binary operator among `ops` (a value on its left)? */
function binaryArith(t: Token[], i: number, ops = "*+"): boolean {
  if (t[i].kind !== "op" || t[i].text.length !== 1 || !ops.includes(t[i].text)) return false;
  const l = t[i - 1];
  return !!l && (l.kind === "num" || l.text === ")" || l.text === "]" || (l.kind === "id" && !KEYWORDS.has(l.text)));
}

export function allocationSizeOverflow(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  if (hasOverflowGuard(ctx)) return;
  for (let i = ctx.fn.open + 1; i < ctx.fn.close; i++) {
    if (t[i].kind !== "id" || t[i + 1]?.text !== "(" || !ONE_SIZE_ALLOC.test(t[i].text)) continue;
    if (/free|size|count|len/i.test(t[i].text)) continue;
    const close = ctx.match[i + 1];
    if (close < 0 || close > ctx.fn.close) continue;
    // any argument may be the size (malloc(n), kmalloc(n, flags), realloc(p, n), alloc(ctx, n))
    const from = i + 2;
    for (let k = from; k < close; k++) {
      if (!binaryArith(t, k)) continue;
      const runtime = operandsOf(t, k, from, close).filter((p) => !boundedBefore(ctx, p, ctx.fn.open, i));
      const sizeofNear = t[k - 1]?.text === ")" && t[pathOpen(t, k - 1) - 1]?.text === "sizeof" || t[k + 1]?.text === "sizeof";
      // a product of a run-time value with a sizeof or another run-time value
      if (runtime.length === 0 || (runtime.length < 2 && !sizeofNear && t[k].text === "+")) continue;
      if (t[k].text === "+" && !sizeofNear && runtime.length < 2) continue;
      add(out, "CWE-190", t[k], "c-alloc-size-overflow",
        `'${t[k].text}' on '${runtime.join("', '")}' in the size passed to ${t[i].text}() can wrap; no overflow check`);
      break;
    }
  }
}

export function wrappingBoundCheck(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  if (hasOverflowGuard(ctx)) return;
  for (let i = ctx.fn.open + 1; i < ctx.fn.close; i++) {
    if (t[i].kind !== "op" || !RELATIONAL.has(t[i].text)) continue;
    let stmt = i;
    while (stmt > ctx.fn.open && !/^[;{}]$/.test(t[stmt - 1].text)) stmt--;
    for (const dir of [-1, 1] as const) {
      const side: number[] = [];
      let d = 0;
      for (let k = i + dir; k > ctx.fn.open && k < ctx.fn.close; k += dir) {
        const x = t[k].text;
        if (x === "(" || x === ")") {
          const opening = dir < 0 ? x === ")" : x === "(";
          if (opening) d++;
          else if (d === 0) break;
          else d--;
        } else if (d === 0 && /^(&&|\|\||\?|:|,|;|=|==|!=|<|<=|>|>=|\{|\})$/.test(x)) break;
        side.push(k);
      }
      if (side.length === 0) continue;
      const lo = Math.min(...side);
      const hi = Math.max(...side) + 1;
      // `end - len`: a side that subtracts is the safe rewrite of the check
      if (side.some((k) => t[k].text === "-" && binaryArith(t, k, "-"))) continue;
      // only a top-level `+`: `(a + b) * c` is not the sum compared
      let depth = 0;
      for (let k = lo; k < hi; k++) {
        const x = t[k].text;
        if (x === "(" || x === "[") depth++;
        else if (x === ")" || x === "]") depth--;
        if (depth !== 0 || x !== "+" || !binaryArith(t, k)) continue;
        const ops = operandsOf(t, k, lo, hi);
        // an operand range-checked in an earlier statement bounds the sum
        if (ops.length < 2 || ops.some((p) => boundedBefore(ctx, p, ctx.fn.open, stmt))) continue;
        add(out, "CWE-190", t[k], "c-wrapping-bound-check",
          `the bound check on '${ops.join(" + ")}' can be bypassed when the sum wraps around`);
        i = hi;
        break;
      }
    }
  }
}

/**
 * `n = hdr->width * hdr->height`: a product of two run-time values from outside the function (one
 * a structure field, as sizes read from headers are, or both parameters or call results), stored
 * with no overflow guard in the function and
 * neither operand bounded before. Fixes test `a > MAX / b` or use a checked multiply first.
 */
export function fieldProductOverflow(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  // a limit (`X_MAX`) guards only what it is compared with, which boundedBefore sees; helpers guard all
  for (let k = ctx.fn.open; k < ctx.fn.close; k++) {
    if (OVERFLOW_GUARD.test(t[k].text) && !/_MAX$|^MAX_/.test(t[k].text)) return;
  }
  // a division compared with a bound is the portable guard: `if (a > LIMIT / b)`
  for (let k = ctx.fn.open; k < ctx.fn.close; k++) {
    if (t[k].text === "/" && (RELATIONAL.has(t[k - 2]?.text ?? "") || RELATIONAL.has(t[k + 2]?.text ?? ""))) return;
  }
  const outside = (p: string) => /->|\./.test(p) || ctx.untrusted.has(p) || ctx.fromCall.has(p);
  for (let i = ctx.fn.open + 1; i < ctx.fn.close; i++) {
    if (t[i].text !== "*" || !binaryArith(t, i, "*")) continue;
    // `x = a * b;` as the whole right-hand side
    let s = i - 1;
    while (s > ctx.fn.open && !/^(=|\+=|;|\{|\})$/.test(t[s].text)) s--;
    const end = ctx.statementEnd(i);
    if ((t[s].text !== "=" && t[s].text !== "+=") || t[end]?.text !== ";") continue;
    const l = term(ctx, s + 1, i);
    const r = term(ctx, i + 1, end);
    if (!l || !r || (l === "sizeof" && r === "sizeof")) continue;
    const ops = [l, r].filter((p) => p !== "sizeof");
    // a field times a field or a size; two outside values; or an outside count times a sizeof
    if (!ops.some((p) => /->|\./.test(p)) && !ops.every(outside)) continue;
    // (comparisons() also sees `abs((long)x) <= limit`)
    if (ops.some((p) => boundedBefore(ctx, p, ctx.fn.open, i) || (/^\w+$/.test(p) && ctx.comparisons(p, ctx.fn.open, i).upper))) continue;
    add(out, "CWE-190", t[i], "c-field-product-overflow", `'${t.slice(s + 1, end).map((x) => x.text).join(" ")}' can wrap; no overflow check before it is stored`);
  }
}
