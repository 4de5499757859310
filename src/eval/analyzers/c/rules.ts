// Built-in C rules on the token stream (lexer.ts), per function body:
//   476 a pointer from an allocator/opener dereferenced before any NULL check
//   416 a freed pointer used again on a path with no reassignment, return or jump in between
//   125/787 an index or copy length from untrusted values (parameters, input, rand) with no bounds
//           check before it; unbounded copies (strcpy, sprintf, gets, ...)
//   190 arithmetic on untrusted values with no overflow guard, especially into allocation sizes
// The rules are general (API names and data flow), never tied to a particular program.
// Shared per-function facts live in context.ts; more rules sit in null-results.ts (476: call results
// dereferenced in place), use-after-free.ts (416) and overflow-checks.ts (190: allocation sizes,
// bound checks whose sum wraps).
import type { Finding } from "../types.ts";
import { matchBrackets, type Token } from "./lexer.ts";
import { preprocessC } from "./preprocess.ts";
import { programFacts, valueFacts } from "./values.ts";
import {
  ALLOC_RE_STRICT, DANGLING_FREE_RE, DEREF_CALLS, FREE_RE, type Fn, FnContext, INPUT_CALLS, KEYWORDS, NONNULL_CALLS, RELATIONAL,
  MAYBE_NULL_RE, NEVER_NULL_RE, SIZED_COPIES, STATEMENT_WORDS, UNBOUNDED_WRITES, add, findFunctions, isVar, mayBeNegative, pathAt,
} from "./context.ts";
import { unstoredCallResult } from "./null-results.ts";
import { nullGuards } from "./null-guards.ts";
import { uncheckedAllocation } from "./unchecked-alloc.ts";
import { offByOne } from "./off-by-one.ts";
import { pointerOffset } from "./pointer-offset.ts";
import { offsetCopy } from "./offset-copy.ts";
import { signedCountdown } from "./countdown.ts";
import { useAfterFree } from "./use-after-free.ts";
import { allocationSizeOverflow, fieldProductOverflow, wrappingBoundCheck } from "./overflow-checks.ts";

// ------------------------------------------------------------------------------------ CWE-476
/** `a`, `a->b`, `a.b->c` ending at `end` (exclusive); the path's first token index, or -1. */
function lhsPath(t: Token[], end: number): number {
  let s = end - 1;
  if (t[s]?.kind !== "id") return -1;
  while (s >= 2 && (t[s - 1].text === "->" || t[s - 1].text === ".") && t[s - 2].kind === "id") s -= 2;
  if (end - s > 5) return -1;
  // a statement start, or a declaration (`T *p =`, `T p =`)
  const before = t[s - 1];
  if (!before || before.kind === "id" || /^[;{}()*,]$/.test(before.text)) return s;
  return -1;
}

function nullDeref(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  for (let e = ctx.fn.open; e < ctx.fn.close; e++) {
    if (t[e].text !== "=" || t[e].kind !== "op") continue;
    const i0 = lhsPath(t, e);
    if (i0 < 0) continue;
    const path = t.slice(i0, e).map((x) => x.text);
    const i = e - 1;
    // skip casts: x = (T *) malloc(...)
    let k = e + 1;
    if (t[k]?.text === "(" && ctx.match[k] > k && t[ctx.match[k] + 1]?.kind === "id") k = ctx.match[k] + 1;
    if (t[k]?.kind !== "id" || t[k + 1]?.text !== "(" || KEYWORDS.has(t[k].text) || NONNULL_CALLS.test(t[k].text)) continue;
    const fname = t[k].text;
    if (NEVER_NULL_RE.test(fname)) continue;
    const strict = ALLOC_RE_STRICT.test(fname);
    if (!strict && !MAYBE_NULL_RE.test(fname)) continue;
    const name = path.join("");
    const stmtEnd = ctx.statementEnd(k);
    // `if (!(x = malloc(..)))` checks in place
    if (ctx.inCondition(i0, i) || (t[i0 - 1]?.text === "(" && /^(if|while)$/.test(t[i0 - 2]?.text ?? "")) ||
      (t[i0 - 1]?.text === "(" && t[ctx.match[i0 - 1] + 1]?.text === "==")) continue;
    if (forStepTestedByCondition(ctx, i0, path)) continue;
    const n = path.length;
    for (let j = stmtEnd; j < ctx.fn.close; j++) {
      if (!pathAt(t, j, path)) continue;
      const last = j + n - 1;
      if (ctx.inCondition(j, last)) break;
      if (t[last + 1]?.text === "=") break;
      const next = t[last + 1]?.text;
      const prev = t[j - 1]?.text;
      // any call's result dereferenced with -> ; allocators' results also through [ ] and *
      const deref = next === "->" || (strict && (next === "[" || (prev === "*" && !/^(id|num)$/.test(t[j - 2]?.kind ?? "") && t[j - 2]?.text !== ")")));
      let callArg = false;
      if (!deref && strict && (prev === "(" || prev === ",") && (next === ")" || next === ",")) {
        // the called function: walk back to the owning '('
        let d = 0;
        for (let m = j - 1; m > ctx.fn.open; m--) {
          if (t[m].text === ")") d++;
          else if (t[m].text === "(") {
            if (d === 0) {
              callArg = DEREF_CALLS.has(t[m - 1]?.text ?? "");
              break;
            }
            d--;
          } else if (t[m].text === ";") break;
        }
      }
      if (deref || callArg) {
        add(out, "CWE-476", t[j], "c-unchecked-null", `'${name}' from ${fname}() is dereferenced without a NULL check`);
        break;
      }
    }
  }
}

/**
 * `for (..; p != NULL; p = next(p))`: the step runs before the loop's condition, which tests it.
 */
function forStepTestedByCondition(ctx: FnContext, at: number, path: string[]): boolean {
  const t = ctx.toks;
  let d = 0;
  for (let k = at - 1; k > ctx.fn.open; k--) {
    const x = t[k].text;
    if (x === ")") d++;
    else if (x === "(") {
      if (d > 0) {
        d--;
        continue;
      }
      if (t[k - 1]?.text !== "for") return false;
      const semis: number[] = [];
      for (let m = k + 1; m < at; m++) {
        if (t[m].text === "(" && ctx.match[m] > m) m = ctx.match[m];
        else if (t[m].text === ";") semis.push(m);
      }
      if (semis.length !== 2) return false;
      // `for (..; p; ..)`
      if (semis[1] - semis[0] - 1 === path.length && pathAt(t, semis[0] + 1, path)) return true;
      for (let m = semis[0] + 1; m < semis[1]; m++) if (pathAt(t, m, path) && ctx.inCondition(m, m + path.length - 1)) return true;
      return false;
    } else if (x === ";" || x === "{" || x === "}") {
      // a for header holds two `;` at depth 0: keep walking only inside parentheses
      if (d === 0 && x !== ";") return false;
    }
  }
  return false;
}

/**
 * `p = p->next` walks a link that may end in NULL: the next use of p must test it. Flags a walk
 * whose following dereference (the rest of the loop body, the loop condition, or a `for` body
 * after its `p = p->next` step) comes with no test of p.
 */
function linkWalk(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  for (let i = ctx.fn.open + 1; i < ctx.fn.close; i++) {
    const p = t[i].text;
    if (t[i].kind !== "id" || !isVar(t, i, p) || t[i + 1]?.text !== "=" || t[i + 2]?.text !== p || t[i + 3]?.text !== "->" ||
      t[i + 4]?.kind !== "id" || !/^[;),]$/.test(t[i + 5]?.text ?? "")) continue;
    // innermost unclosed bracket around the walk
    let d = 0;
    let owner = -1;
    for (let k = i - 1; k > ctx.fn.open; k--) {
      const x = t[k].text;
      if (x === ")" || x === "}") d++;
      else if (x === "(" || x === "{") {
        if (d === 0) {
          owner = k;
          break;
        }
        d--;
      }
    }
    if (owner < 0) continue;
    let cond: Token[] = [];
    let from = i + 5;
    let to = -1;
    if (t[owner].text === "(" && t[owner - 1]?.text === "for") {
      // the step of a for header: the body runs next, after the header's condition
      const semis = t.slice(owner + 1, ctx.match[owner]).map((x, n) => (x.text === ";" ? owner + 1 + n : -1)).filter((n) => n >= 0);
      if (semis.length !== 2) continue;
      cond = t.slice(semis[0] + 1, semis[1]);
      from = ctx.match[owner] + 1;
      to = t[from]?.text === "{" ? ctx.match[from] : ctx.statementEnd(from);
    } else if (t[owner].text === "{" && t[owner - 1]?.text === ")" && /^(while|for)$/.test(t[ctx.match[owner - 1] - 1]?.text ?? "")) {
      const open = ctx.match[owner - 1];
      const header = t.slice(open + 1, owner - 1);
      const semis = header.map((x, n) => (x.text === ";" ? n : -1)).filter((n) => n >= 0);
      cond = t[open - 1].text === "while" ? header : semis.length === 2 ? header.slice(semis[0] + 1, semis[1]) : [];
      to = ctx.match[owner];
    } else continue;
    if (cond.some((x, n) => x.text === p && (cond[n + 1]?.text !== "->" || cond[n - 1]?.text === "!"))) continue;
    let settled = false;
    for (let j = from; j < to && to > 0 && !settled; j++) {
      if (!pathAt(t, j, [p])) continue;
      if (ctx.inCondition(j) || t[j + 1]?.text === "=") settled = true;
      else if (t[j + 1]?.text === "->") {
        add(out, "CWE-476", t[j], "c-unchecked-link", `'${p}' walked along a link is dereferenced without a NULL check`);
        settled = true;
      }
    }
    // in a loop body: the loop's condition is the next use
    const condDeref = cond.find((x, n) => x.text === p && cond[n + 1]?.text === "->");
    if (!settled && t[owner].text === "{" && condDeref) {
      add(out, "CWE-476", condDeref, "c-unchecked-link", `'${p}' walked along a link is dereferenced without a NULL check`);
    }
  }
}

// ------------------------------------------------------------------------------------ CWE-416
/**
 * free(a->b), or free(p) after `p = a->b`, with no later `a->b = ...` in the function and the owner
 * `a` not freed after it: the structure keeps a dangling pointer that a later call uses or frees
 * again (fixes add `a->b = NULL`). A destructor that frees the owner too is fine.
 */
function danglingMember(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  for (let i = ctx.fn.open; i < ctx.fn.close; i++) {
    if (t[i].kind !== "id" || !DANGLING_FREE_RE.test(t[i].text) || t[i + 1]?.text !== "(") continue;
    if (t[i - 1]?.text === "=" || t[i - 1]?.text === "." || t[i - 1]?.text === "->" || t[i - 1]?.text === "return") continue;
    const argEnd = ctx.match[i + 1];
    let path = t.slice(i + 2, argEnd).map((x) => x.text);
    if (path.length === 1 && /^\w+$/.test(path[0])) {
      // a local loaded from a member: the member is what dangles
      const alias = memberAlias(ctx, path[0], i);
      if (!alias) continue;
      path = alias;
    }
    if (path.length < 3 || path.length > 7 || path.some((x) => !/^(\w+|->|\.)$/.test(x)) || !path.includes("->")) continue;
    const root = path[0];
    let cleared = false;
    // block depth relative to the free, and the lowest level reached: an assignment nested deeper
    // (`if (x) { a->b = ..; }`) clears the member on one path only
    let depth = 0;
    let level = 0;
    for (let j = argEnd; j < ctx.fn.close && !cleared; j++) {
      if (t[j].text === "{") depth++;
      else if (t[j].text === "}") level = Math.min(level, --depth);
      const braceless = t[j - 1]?.text === "else" || (t[j - 1]?.text === ")" && /^(if|while|for)$/.test(t[ctx.match[j - 1] - 1]?.text ?? ""));
      if (pathAt(t, j, path) && t[j + path.length]?.text === "=" && depth <= level && !braceless) cleared = true;
      // the owner itself freed or reassigned: a destructor, nothing left to dangle
      if (isVar(t, j, root) && t[j + 1]?.text !== "->" && t[j + 1]?.text !== ".") {
        const owner = t[j - 2];
        if (t[j + 1]?.text === "=" || (t[j - 1]?.text === "(" && owner && FREE_RE.test(owner.text))) cleared = true;
      }
    }
    if (!cleared) add(out, "CWE-416", t[i], "c-dangling-member", `'${path.join("")}' is freed by ${t[i].text}() but left pointing at freed memory`);
  }
}

/** The member path `name` was last loaded from (`name = a->b;`) before token `before`, if any. */
function memberAlias(ctx: FnContext, name: string, before: number): string[] | null {
  const t = ctx.toks;
  for (let j = before - 1; j > ctx.fn.open; j--) {
    if (t[j].text !== name || t[j + 1]?.text !== "=" || t[j - 1]?.text === "->" || t[j - 1]?.text === ".") continue;
    const end = ctx.statementEnd(j + 2);
    const rhs = t.slice(j + 2, end).map((x) => x.text);
    return rhs.length >= 3 && rhs.every((x) => /^(\w+|->|\.)$/.test(x)) && rhs.includes("->") ? rhs : null;
  }
  return null;
}


// ------------------------------------------------------------------------------- CWE-125 / 787
/**
 * strcpy(dst, src)/strcat whose source length was compared with a bound before the call
 * (`if (strlen(src) >= sizeof dst)`, or `n = strlen(src); if (n > 63) ...`): the copy is bounded.
 */
function sourceLengthChecked(ctx: FnContext, call: number): boolean {
  const t = ctx.toks;
  if (!/^(strcpy|strcat|wcscpy|wcscat|stpcpy)$/.test(t[call].text)) return false;
  const end = ctx.match[call + 1];
  let comma = -1;
  let d = 0;
  for (let k = call + 2; k < end; k++) {
    if (t[k].text === "(" || t[k].text === "[") d++;
    else if (t[k].text === ")" || t[k].text === "]") d--;
    else if (t[k].text === "," && d === 0) comma = k;
  }
  if (comma < 0) return false;
  // the source's variable: its last identifier, past any cast
  const src = t.slice(comma + 1, end).filter((x) => x.kind === "id" && !KEYWORDS.has(x.text)).pop()?.text;
  if (!src) return false;
  for (let k = ctx.fn.open; k < call; k++) {
    if (t[k].text !== "strlen" && t[k].text !== "strnlen") continue;
    const close = ctx.match[k + 1];
    if (close < 0 || !t.slice(k + 2, close).some((x) => x.text === src)) continue;
    // strlen(src) compared directly, or stored in a variable compared later
    // (an upper bound: `strlen(s) > 0` only says it is not empty)
    const after = t[close + 1]?.text ?? "";
    if ((RELATIONAL.has(after) && !/^[01]$/.test(t[close + 2]?.text ?? "")) || RELATIONAL.has(t[k - 1]?.text ?? "")) return true;
    const stored = t[k - 1]?.text === "=" || (t[k - 1]?.text === ")" && t[ctx.match[k - 1] - 1]?.text === "=")
      ? t[(t[k - 1]?.text === "=" ? k : ctx.match[k - 1]) - 2] : undefined;
    if (stored?.kind === "id" && ctx.comparisons(stored.text, k, call).upper) return true;
  }
  return false;
}


/** The innermost `for`/`while`/`do` block around token `i`: from its keyword to its `}`, or null. */
function enclosingLoop(ctx: FnContext, i: number): [number, number] | null {
  const t = ctx.toks;
  let d = 0;
  for (let k = i - 1; k > ctx.fn.open; k--) {
    const x = t[k].text;
    if (x === "}") d++;
    else if (x === "{") {
      if (d > 0) {
        d--;
        continue;
      }
      if (t[k - 1]?.text === "do") return [k - 1, ctx.match[k]];
      if (t[k - 1]?.text === ")" && /^(for|while)$/.test(t[ctx.match[k - 1] - 1]?.text ?? "")) return [ctx.match[k - 1] - 1, ctx.match[k]];
    }
  }
  return null;
}

/** Is token `k` inside the operand of a `sizeof` that starts at or after `from`? */
function insideSizeof(ctx: FnContext, k: number, from: number): boolean {
  const t = ctx.toks;
  for (let j = k - 1; j >= from; j--) {
    if (t[j].text === "sizeof") return t[j + 1]?.text === "(" ? ctx.match[j + 1] > k : j + 1 === k;
  }
  return false;
}

function bounds(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  for (let i = ctx.fn.open; i < ctx.fn.close; i++) {
    const tk = t[i];
    if (tk.kind === "id" && t[i + 1]?.text === "(" && UNBOUNDED_WRITES.has(tk.text) && t[i - 1]?.text !== ".") {
      if (!sourceLengthChecked(ctx, i) && !ctx.safeCopies.has(i)) add(out, "CWE-787", tk, "c-unbounded-copy", `${tk.text}() writes without a size limit`);
      continue;
    }
    if (tk.kind === "id" && t[i + 1]?.text === "(" && SIZED_COPIES.has(tk.text)) {
      const end = ctx.match[i + 1];
      // the size is the last argument
      let lastComma = i + 1;
      let d = 0;
      for (let k = i + 2; k < end; k++) {
        if (t[k].text === "(" || t[k].text === "[") d++;
        else if (t[k].text === ")" || t[k].text === "]") d--;
        else if (t[k].text === "," && d === 0) lastComma = k;
      }
      // what sizeof measures is a type, not a run-time count: `sizeof(h->id)` reads no h
      const sizeToks = t.slice(lastComma + 1, end).filter((_, n) => !insideSizeof(ctx, lastComma + 1 + n, lastComma + 1));
      const suspect = (name: string) => ctx.untrusted.has(name) || ctx.fromCall.has(name);
      if (sizeToks.some((x) => x.text === "sizeof") && !sizeToks.some((x) => suspect(x.text))) continue;
      const bad = sizeToks.find(
        // (`s->len`: the member is the count, not the structure pointer `s`)
        (x, n) => x.kind === "id" && suspect(x.text) && sizeToks[n + 1]?.text !== "(" && !/^(->|\.)$/.test(sizeToks[n - 1]?.text ?? "") &&
          !/^(->|\.)$/.test(sizeToks[n + 1]?.text ?? "") &&
          !ctx.comparisons(x.text, ctx.fn.open, i).upper,
      );
      const strlenSize = sizeToks.some((x) => x.text === "strlen");
      if ((bad || (strlenSize && tk.text !== "strncpy")) && !ctx.safeCopies.has(i)) {
        add(out, "CWE-787", tk, "c-unchecked-copy-size", `${tk.text}() size ${bad ? `'${bad.text}'` : "from strlen"} is not checked against the buffer`);
        if (tk.text === "memcpy" || tk.text === "memmove") add(out, "CWE-125", tk, "c-unchecked-copy-size", `${tk.text}() may read past its source`);
      }
      continue;
    }
    if (tk.text !== "[" || i === 0) continue;
    const prev = t[i - 1];
    if (!(prev.kind === "id" || prev.text === ")" || prev.text === "]")) continue;
    if (prev.kind === "id" && KEYWORDS.has(prev.text)) continue;
    const close = ctx.match[i];
    if (close < 0 || close > ctx.fn.close) continue;
    // declarations `int a[10]` are not accesses
    if (prev.kind === "id" && t[i - 2]?.kind === "id" && !STATEMENT_WORDS.has(t[i - 2].text)) continue;
    const idx = t.slice(i + 1, close);
    const after = t[close + 1]?.text ?? "";
    const write = after === "=" || /^([+\-*/%&|^]|<<|>>)=$/.test(after) || after === "++" || after === "--" || t[i - 2]?.text === "&";
    const cwe = write ? "CWE-787" : "CWE-125";
    // `s[strlen(s) - 1]` with no check that s is non-empty
    const strlenMinus = idx.some((x) => x.text === "strlen") && idx.some((x) => x.text === "-");
    if (strlenMinus) {
      add(out, cwe, tk, "c-strlen-minus-index", "index strlen(..)-1 underflows on an empty string");
      continue;
    }
    for (let n = 0; n < idx.length; n++) {
      const x = idx[n];
      // a call's arguments and a nested array's base are not the index: `a[f(s)]`, `a[e[i].n]`
      if ((x.text === "(" && idx[n - 1]?.kind === "id") || x.text === "[") {
        const m = ctx.match[i + 1 + n];
        if (m > i + 1 + n && m < close) n = m - i - 1;
        continue;
      }
      // a member path `s->i` indexes by the member, not by the structure pointer `s`
      if (x.kind !== "id" || !ctx.untrusted.has(x.text) || idx[n + 1]?.text === "(" || /^(->|\.)$/.test(idx[n - 1]?.text ?? "") ||
        /^(->|\.|\[)$/.test(idx[n + 1]?.text ?? "")) continue;
      // in a loop, a check anywhere in its body guards the next turn's access too
      const loop = enclosingLoop(ctx, i);
      const c = ctx.comparisons(x.text, ctx.fn.open, loop ? Math.max(i, loop[1]) : i);
      // a count returned by read/recv is at most the size it was given; its error value was tested
      if (ctx.readCounts.has(x.text) && ctx.tested(x.text, ctx.fn.open, i)) continue;
      if (ctx.lengths.has(x.text)) {
        // s[len - 1]: below the buffer when len is 0
        if (idx[n + 1]?.text === "-" && !c.lower && !ctx.comparisons(x.text, ctx.fn.open, close).lower && !ctx.testedZero(x.text, ctx.fn.open, i)) {
          add(out, cwe, tk, "c-length-minus-index", `index '${x.text} - ..' underflows when '${x.text}' is 0`);
          break;
        }
        continue;
      }
      const needLower = !ctx.unsigned.has(x.text) && mayBeNegative(ctx, x.text, i);
      if (!c.upper || (needLower && !c.lower)) {
        add(out, cwe, tk, "c-unchecked-index",
          `index '${x.text}' from untrusted data is used without ${c.upper ? "a lower" : "an upper"} bound check`);
        break;
      }
    }
  }
}

// ------------------------------------------------------------------------------------ CWE-190
function overflow(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  const body = t.slice(ctx.fn.open, ctx.fn.close);
  const guarded = body.some((x) => /(_MAX$|^__builtin_\w+_overflow$|overflow|^check_\w+_overflow$|^size_mul$|^array_size$|^struct_size$)/i.test(x.text));
  if (guarded) return;
  for (let i = ctx.fn.open; i < ctx.fn.close; i++) {
    const op = t[i].text;
    if (!(op === "+" || op === "*" || op === "+=" || op === "*=" || op === "<<" || op === "-" && t[i - 1]?.kind === "id")) continue;
    if (t[i].kind !== "op") continue;
    // a binary operator has a value on its left: `(*p)`, `!= *p`, `"text" << x` are unary or not arithmetic
    const lhs = t[i - 1];
    if (!lhs || !(lhs.kind === "num" || lhs.text === ")" || lhs.text === "]" || (lhs.kind === "id" && !KEYWORDS.has(lhs.text)))) continue;
    // `for (..) *q++ = 0;`: a `)` closing a control statement's header leaves the `*` unary
    if (lhs.text === ")" && /^(if|for|while|switch)$/.test(t[ctx.match[i - 1] - 1]?.text ?? "")) continue;
    // `T *p = ..` / `T *p;` declares a pointer, it multiplies nothing
    if (op === "*" && t[i - 1]?.kind === "id" && t[i + 1]?.kind === "id" && /^[=;,)[]$/.test(t[i + 2]?.text ?? "") &&
      (/^[;{}(,]$/.test(t[i - 2]?.text ?? "") || KEYWORDS.has(t[i - 2]?.text ?? "") || t[i - 2]?.kind === "id")) continue;
    // operands: the tokens next to the operator (an identifier or a call)
    const left = t[i - 1];
    const right = t[i + 1];
    const rightCall = right?.kind === "id" && t[i + 2]?.text === "(";
    const leftUntrusted = left?.kind === "id" && ctx.untrusted.has(left.text) && t[i - 2]?.text !== "->" && t[i - 2]?.text !== ".";
    const rightUntrusted = right?.kind === "id" && (rightCall ? INPUT_CALLS.test(right.text) : ctx.untrusted.has(right.text)) && t[i + 2]?.text !== "->";
    const leftCall = left?.text === ")" && ctx.match[i - 1] > 0 && INPUT_CALLS.test(t[ctx.match[i - 1] - 1]?.text ?? "");
    if (!(leftUntrusted || rightUntrusted || leftCall)) continue;
    // `end - p`: a distance between pointers (the safe form of a bounds check), not integer arithmetic;
    // `p + n`, `p += n`: an address moved (bounds are CWE-125/787's concern), no integer to wrap
    const leftVar = left.kind === "id" && t[i - 2]?.text !== "->" && t[i - 2]?.text !== ".";
    if (op !== "*" && op !== "*=" && op !== "<<" && leftVar && ctx.pointers.has(left.text)) continue;
    if ((op === "+" || op === "-") && leftVar && t[i - 2]?.text === ")" && /^\($/.test(t[ctx.match[i - 2]]?.text ?? "") &&
      t[i - 3]?.text === "*") continue;
    // `out << "text" << x`: C++ stream insertion, not a shift
    if (op === "<<") {
      let k = i;
      while (k > ctx.fn.open && !/^[;{}]$/.test(t[k - 1].text)) k--;
      const stmt = t.slice(k, ctx.statementEnd(i));
      if (stmt.some((x, n) => x.text === "<<" && (stmt[n - 1]?.kind === "str" || stmt[n + 1]?.kind === "str" || stmt[n + 1]?.text === "std"))) continue;
    }
    // floating-point arithmetic rounds instead of wrapping
    if ([left, right].some((x) => x?.kind === "id" && ctx.floats.has(x.text))) continue;
    // a range check on the operand before the arithmetic bounds it
    const operand = leftUntrusted ? left.text : rightUntrusted && !rightCall ? right.text : null;
    if (operand && ctx.comparisons(operand, ctx.fn.open, i).upper) continue;
    // the assigned variable of this statement: wide types do not overflow on int inputs
    let s = i;
    while (s > ctx.fn.open && !/^[;{}]$/.test(t[s - 1].text)) s--;
    const assigned = t.slice(s, i + 1).find((x, n, arr) => x.kind === "id" && /^(=|\+=|\*=)$/.test(arr[n + 1]?.text ?? ""));
    // (unless an operand is itself wide: then the wide sum is what overflows)
    const wideOperand = [left, right].some((x) => x?.kind === "id" && ctx.wide.has(x.text) && x.text !== assigned?.text);
    if (assigned && ctx.wide.has(assigned.text) && !wideOperand) continue;
    // rand() % N + K is bounded
    if (leftCall && t[i - 1 - 0]?.text === ")" && t[i + 1]?.text !== "(" && body.some((x, n) => x.text === "%" && n > 0)) {
      const stmt = t.slice(s, ctx.statementEnd(i)).map((x) => x.text);
      if (stmt.includes("%")) continue;
    }
    const stmtToks = t.slice(s, ctx.statementEnd(i));
    if (stmtToks.some((x) => x.text === "%")) continue;
    const inAlloc = stmtToks.some((x) => ALLOC_RE_STRICT.test(x.text) && /alloc/.test(x.text));
    add(out, "CWE-190", t[i], inAlloc ? "c-alloc-size-overflow" : "c-unchecked-arithmetic",
      `'${op}' on untrusted values without an overflow check${inAlloc ? " feeds an allocation size" : ""}`);
    i = ctx.statementEnd(i);
  }
}

/**
 * A `static` function nothing in the program refers to is dead code (a helper only the flawed
 * path used, left in a fixed program): its findings are not the program's. A lone function (a
 * sample cut out of its project) is always judged.
 */
function unusedStatic(toks: Token[], match: Int32Array, fn: Fn, fns: readonly Fn[]): boolean {
  if (fns.length < 2) return false;
  const open = match[fn.open - 1];
  const name = toks[open - 1];
  if (open < 1 || name?.kind !== "id") return false;
  let k = open - 2;
  while (k >= 0 && (toks[k].kind === "id" || toks[k].text === "*")) {
    if (toks[k].text === "static") break;
    k--;
  }
  if (toks[k]?.text !== "static") return false;
  for (let i = 0; i < toks.length; i++) {
    if (i === open - 1 || toks[i].text !== name.text || toks[i].kind !== "id") continue;
    return false;
  }
  return true;
}

export function analyzeC(code: string, opts: { includeDirs?: readonly string[] } = {}): Finding[] {
  const { toks, macros, header } = preprocessC(code, opts.includeDirs);
  const match = matchBrackets(toks);
  const out: Finding[] = [];
  const fns = findFunctions(toks, match);
  const program = programFacts(toks, match, fns, macros, header.length ? { toks: header, match: matchBrackets(header) } : undefined);
  for (const fn of fns) {
    if (unusedStatic(toks, match, fn, fns)) continue;
    const facts = valueFacts(toks, match, fn, program);
    out.push(...facts.findings);
    const ctx = new FnContext(toks, match, fn, facts.safeCopies);
    nullDeref(ctx, out);
    linkWalk(ctx, out);
    unstoredCallResult(ctx, out);
    useAfterFree(ctx, out);
    danglingMember(ctx, out);
    bounds(ctx, out);
    overflow(ctx, out);
    allocationSizeOverflow(ctx, out);
    wrappingBoundCheck(ctx, out);
    nullGuards(ctx, out);
    uncheckedAllocation(ctx, out);
    offByOne(ctx, out);
    fieldProductOverflow(ctx, out);
    pointerOffset(ctx, out);
    offsetCopy(ctx, out);
    signedCountdown(ctx, out);
  }
  const seen = new Set<string>();
  return out.filter((f) => {
    const key = `${f.cwe}|${f.line}|${f.rule}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
