// Built-in C rules on the token stream (lexer.ts), per function body:
//   476 a pointer from an allocator/opener dereferenced before any NULL check
//   416 a freed pointer used again on a path with no reassignment, return or jump in between
//   125/787 an index or copy length from untrusted values (parameters, input, rand) with no bounds
//           check before it; unbounded copies (strcpy, sprintf, gets, ...)
//   190 arithmetic on untrusted values with no overflow guard, especially into allocation sizes
// The rules are general (API names and data flow), never tied to a particular program.
import type { Finding } from "../types.ts";
import { lexC, matchBrackets, type Token } from "./lexer.ts";

/** Calls whose result is never NULL (or not a pointer one would check). */
const NONNULL_CALLS = /^(container_of|list_entry|list_first_entry|netdev_priv|sizeof|strlen|min|max|min_t|max_t|ERR_PTR|PTR_ERR|le\d+_to_cpu|be\d+_to_cpu|cpu_to_\w+|htons|htonl|ntohs|ntohl|READ_ONCE|offsetof|ARRAY_SIZE|BIT|atoi|strtol|abs|\w*printf|\w+_priv|current_\w+|get_current|this_cpu_ptr|per_cpu_ptr|rcu_dereference\w*)$/;
const ALLOC_RE_STRICT =
  /^(malloc|calloc|realloc|reallocarray|strdup|strndup|fopen|fdopen|tmpfile|popen|opendir|getenv|k[mz]alloc|kcalloc|kmalloc_array|kmemdup|kstrdup|vmalloc|vzalloc|kvmalloc|kvzalloc|devm_k[mz]alloc|devm_kcalloc|g_malloc0?|xmalloc|av_malloc|av_mallocz|alloc_skb|\w+_alloc|\w+_new|\w+_create|\w+_open|\w+_find\w*|\w+_lookup\w*|\w+_get)$/;
/** Calls that free what their argument points to (not reference drops, which may keep it alive). */
const DANGLING_FREE_RE = /^(free|kfree|kvfree|vfree|kzfree|kfree_sensitive|g_free|xfree|av_free|\w+_free|\w+_destroy|\w+_cleanup)$/;
const FREE_RE = /^(free|kfree|kvfree|vfree|kzfree|kfree_sensitive|g_free|xfree|av_free|av_freep|cfree|\w+_free|\w+_destroy|\w+_release|\w+_unref|\w+_put|put_\w+|fclose|closedir|sk_free|dev_kfree_skb\w*|kfree_skb|consume_skb)$/;
const DEREF_CALLS = new Set([
  "memcpy", "memmove", "memset", "strcpy", "strncpy", "strcat", "strncat", "strlen", "strcmp", "strncmp",
  "sprintf", "snprintf", "fprintf", "fputs", "fputc", "fgets", "fgetc", "fread", "fwrite", "fscanf", "fseek",
  "ftell", "rewind", "fflush", "getline", "puts", "strchr", "strrchr", "strstr", "sscanf", "atoi", "strtol",
]);
const UNBOUNDED_WRITES = new Set(["strcpy", "strcat", "sprintf", "vsprintf", "gets", "wcscpy", "wcscat", "stpcpy"]);
const SIZED_COPIES = new Set(["memcpy", "memmove", "strncpy", "strncat", "memset", "read", "fread", "recv", "copy_from_user", "copy_to_user"]);
const INPUT_CALLS = /^(atoi|atol|atoll|strtol|strtoul|strtoll|strtoull|rand|random|getchar|fgetc|getc|ntohs|ntohl|get_user|read\w*|get\w*|recv\w*|le\d+_to_cpu|be\d+_to_cpu|get_unaligned\w*)$/;
const KEYWORDS = new Set([
  "if", "else", "while", "for", "do", "switch", "case", "return", "sizeof", "goto", "break", "continue",
  "struct", "union", "enum", "typedef", "static", "const", "volatile", "unsigned", "signed", "int", "char",
  "short", "long", "float", "double", "void", "default", "extern", "register", "inline", "bool", "size_t",
]);
/** Words after which `a[i]` is an access, not a declaration. */
const STATEMENT_WORDS = new Set(["return", "case", "else", "do", "goto", "sizeof"]);
const CHECK_CALLS = /^(if|while|assert|BUG_ON|WARN_ON\w*|unlikely|likely|IS_ERR\w*|ASSERT|g_return_if_fail|g_return_val_if_fail|CHECK\w*|ERR_PTR|PTR_ERR)$/;
const JUMPS = new Set(["return", "goto", "break", "continue", "exit", "abort", "_exit", "longjmp"]);
const RELATIONAL = new Set(["<", "<=", ">", ">="]);
const WIDE_TYPES = /^(long|int64_t|uint64_t|u64|s64|size_t|ssize_t|double|float|off_t|uintmax_t|intmax_t|__u64|__s64)$/;

interface Fn {
  /** Index of the body's `{` and its `}`. */
  open: number;
  close: number;
  params: Set<string>;
}

function findFunctions(toks: Token[], match: Int32Array): Fn[] {
  const fns: Fn[] = [];
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i].text;
    if (toks[i].kind !== "op") continue;
    if (t === "{") {
      if (depth === 0 && i > 0 && toks[i - 1].text === ")") {
        const pOpen = match[i - 1];
        const params = new Set<string>();
        if (pOpen >= 0) {
          // the last identifier before each comma is a parameter name
          let lastId: string | null = null;
          for (let k = pOpen + 1; k < i - 1; k++) {
            if (toks[k].kind === "id" && !KEYWORDS.has(toks[k].text)) lastId = toks[k].text;
            if (toks[k].text === "," && lastId) params.add(lastId);
          }
          if (lastId) params.add(lastId);
        }
        const close = match[i] >= 0 ? Math.min(match[i], toks.length - 1) : toks.length - 1;
        fns.push({ open: i, close, params });
        i = close;
        continue;
      }
      depth++;
    } else if (t === "}") depth = Math.max(0, depth - 1);
  }
  return fns;
}

class FnContext {
  readonly untrusted = new Set<string>();
  readonly wide = new Set<string>();
  readonly unsigned = new Set<string>();
  /** Assigned from strlen(...) / sizeof: bounded above by the buffer, not below by 1. */
  readonly lengths = new Set<string>();
  /** Assigned from a function's result (may be an error value such as -1). */
  readonly fromCall = new Set<string>();

  constructor(
    readonly toks: Token[],
    readonly match: Int32Array,
    readonly fn: Fn,
  ) {
    for (const p of fn.params) this.untrusted.add(p);
    this.scanTypes(match[fn.open - 1] >= 0 ? match[fn.open - 1] : fn.open, fn.close);
    this.propagate();
  }

  private scanTypes(from: number, to: number): void {
    const t = this.toks;
    for (let i = from; i < to; i++) {
      if (t[i].kind !== "id" || KEYWORDS.has(t[i].text) && !WIDE_TYPES.test(t[i].text)) continue;
      // `<type words> name` followed by = ; , ) [
      const nxt = t[i + 1]?.text;
      if (!(nxt === "=" || nxt === ";" || nxt === "," || nxt === ")" || nxt === "[")) continue;
      let k = i - 1;
      let wide = false;
      let unsigned = false;
      let typed = false;
      while (k >= from && (t[k].kind === "id" || t[k].text === "*")) {
        if (t[k].kind === "id") {
          typed = true;
          if (WIDE_TYPES.test(t[k].text)) wide = true;
          if (/^(unsigned|size_t|u8|u16|u32|u64|uint\w*|__u\d+|UINT\w*|DWORD|WORD|BYTE)$/.test(t[k].text)) unsigned = true;
        }
        k--;
      }
      if (!typed) continue;
      if (wide) this.wide.add(t[i].text);
      if (unsigned) this.unsigned.add(t[i].text);
    }
  }

  /** Values from parameters, input functions and rand() taint what is computed from them. */
  private propagate(): void {
    const t = this.toks;
    for (let pass = 0; pass < 2; pass++) {
      for (let i = this.fn.open; i < this.fn.close; i++) {
        // scanf("%d", &v) / fscanf / sscanf: v is input
        if (t[i].kind === "id" && /scanf$/.test(t[i].text) && t[i + 1]?.text === "(") {
          const end = this.match[i + 1];
          for (let k = i + 2; k < end; k++) if (t[k].text === "&" && t[k + 1]?.kind === "id") this.untrusted.add(t[k + 1].text);
        }
        if (t[i].kind !== "id" || !(t[i + 1]?.text === "=" || t[i + 1]?.text === "+=" || t[i + 1]?.text === "*=")) continue;
        const end = this.statementEnd(i + 2);
        if (t[i + 1].text === "=" && t[i + 2]?.kind === "id" && t[i + 3]?.text === "(" && this.match[i + 3] === end - 1) {
          if (/^(strlen|strnlen|wcslen|sizeof)$/.test(t[i + 2].text)) this.lengths.add(t[i].text);
          else if (!KEYWORDS.has(t[i + 2].text)) this.fromCall.add(t[i].text);
        }
        for (let k = i + 2; k < end; k++) {
          const tk = t[k];
          if (tk.kind !== "id") continue;
          if ((t[k + 1]?.text === "(" && INPUT_CALLS.test(tk.text)) || (this.untrusted.has(tk.text) && t[k + 1]?.text !== "(")) {
            if (!this.lengthOf(i + 2, end)) this.untrusted.add(t[i].text);
            break;
          }
        }
      }
    }
  }

  /** `strlen(...)`/`sizeof` only: a length, not attacker-chosen arithmetic. */
  private lengthOf(from: number, end: number): boolean {
    return this.toks.slice(from, end).some((x) => x.text === "sizeof") && !this.toks.slice(from, end).some((x) => x.text === "*");
  }

  statementEnd(i: number): number {
    const t = this.toks;
    while (i < this.fn.close) {
      const x = t[i].text;
      if (x === ";" || x === "{" || x === "}") return i;
      if ((x === "(" || x === "[") && this.match[i] > i) {
        i = this.match[i] + 1;
        continue;
      }
      i++;
    }
    // An unclosed bracket (broken generated code) matches past the function: stay inside it.
    return Math.min(i, this.fn.close);
  }

  /** The identifier at `i` sits inside a condition (if/while/assert/...) or a logical test. */
  inCondition(i: number, last = i): boolean {
    const t = this.toks;
    const prev = t[i - 1]?.text;
    const next = t[last + 1]?.text;
    if (prev === "!" || next === "==" || next === "!=" || next === "?" || prev === "==" || prev === "!=") return true;
    if (next === "&&" || next === "||" || prev === "&&" || prev === "||") return true;
    // walk out to the enclosing parenthesis and look at what owns it
    let depth = 0;
    for (let k = i - 1; k > this.fn.open; k--) {
      const x = t[k].text;
      if (x === ")") depth++;
      else if (x === "(") {
        if (depth === 0) return CHECK_CALLS.test(t[k - 1]?.text ?? "") && (next === ")" || next === "&&" || next === "||");
        depth--;
      } else if (x === ";" || x === "{" || x === "}") return false;
    }
    return false;
  }

  /** Was `name` compared (<, <=, >, >=, or min/max/clamp) anywhere in [from, to)? */
  comparisons(name: string, from: number, to: number): { upper: boolean; lower: boolean } {
    const t = this.toks;
    let upper = false;
    let lower = false;
    for (let k = from; k < to; k++) {
      if (t[k].text !== name) continue;
      if (t[k - 1]?.text === "." || t[k - 1]?.text === "->") continue;
      const around = [t[k - 1], t[k + 1]];
      for (const [j, side] of [[k + 1, "right"], [k - 1, "left"]] as const) {
        const op = t[j]?.text;
        if (!op || !RELATIONAL.has(op)) continue;
        const other = side === "right" ? t[j + 1] : t[j - 1];
        if (other && (other.text === "0" || other.text === "-" || other.text === "1" && (op === ">=" || op === "<"))) lower = true;
        else upper = true;
      }
      if (around.some((x) => x && /^(min|max|min_t|max_t|clamp|MIN|MAX|array_index_nospec)$/.test(x.text))) upper = lower = true;
      // inside min(...)/clamp(...) call arguments
      for (let j = k - 1; j > Math.max(from, k - 8); j--) {
        if (/^(min|min_t|clamp|clamp_t|MIN|array_index_nospec)$/.test(t[j].text)) upper = lower = true;
        if (t[j].text === ";") break;
      }
    }
    return { upper, lower };
  }
}

function add(out: Finding[], cwe: string, tok: Token, rule: string, message: string): void {
  out.push({ cwe, line: tok.line, rule, message });
}

/** Is the token at i a (non-member) use of variable `name`? */
function isVar(toks: Token[], i: number, name: string): boolean {
  return toks[i].text === name && toks[i - 1]?.text !== "." && toks[i - 1]?.text !== "->";
}

function isAssignmentTo(toks: Token[], i: number): boolean {
  return toks[i + 1]?.text === "=" && toks[i - 1]?.text !== "*";
}

// ------------------------------------------------------------------------------------ CWE-476
/** Names that by convention may return NULL: allocation, lookup, iteration, parsing, cloning. */
const MAYBE_NULL_RE = /(alloc|get|find|lookup|search|open|clone|dup|create|new|acquire|fetch|load|resource|next|prev|first|last|peek|parse|append|insert|start|atom_text)/i;
/** Names that by convention return a pointer derived from a valid one (casts, accessors) or NULL on purpose. */
const NEVER_NULL_RE = /(destroy|free|release|_put|unref|cast|_to_|^to_|priv$|_data$|^CMSG|_CB$|container|entry|_sk$|_inode$|_dev$)/i;

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
function useAfterFree(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  for (let i = ctx.fn.open; i < ctx.fn.close; i++) {
    if (t[i].kind !== "id" || !FREE_RE.test(t[i].text) || t[i + 1]?.text !== "(") continue;
    const argEnd = ctx.match[i + 1];
    // the freed expression: an identifier or a member path like a->b
    // free(p), free(p->q); a reference dropped on &p->q (put_device(&d->dev)) counts for p->q
    let path = t.slice(i + 2, argEnd).map((x) => x.text);
    if (path[0] === "&") path = path.slice(1);
    if (path.length === 0 || path.length > 5 || path.some((x) => !/^(\w+|->|\.)$/.test(x))) continue;
    if (t[i - 1]?.text === "=" || t[i - 1]?.text === "return") continue;
    const stmtEnd = ctx.statementEnd(i);
    let j = stmtEnd + 1;
    // block depth relative to the free: a jump at depth 0 ends the freeing path; a jump inside a
    // nested block (or a braceless if) ends only that branch, and the path goes on after it
    let depth = 0;
    while (j < ctx.fn.close) {
      const x = t[j].text;
      if (x === "{") depth++;
      else if (x === "}") {
        depth = Math.max(0, depth - 1);
        // an `else` branch is another path than the one that ran the block before it
        if (t[j + 1]?.text === "else") {
          const after = t[j + 2]?.text === "{" ? ctx.match[j + 2] : ctx.statementEnd(j + 2);
          j = (after > j ? after : j + 2) + 1;
          continue;
        }
      }
      if (JUMPS.has(x)) {
        // the jump's own statement (return p->v;) still runs on this path
        const jEnd = ctx.statementEnd(j);
        const use = t.slice(j, jEnd).findIndex((_, k) => pathAt(t, j + k, path) && t[j + k - 2]?.text !== "sizeof");
        if (use >= 0) {
          add(out, "CWE-416", t[j + use], "c-use-after-free", `'${path.join("")}' is used after ${t[i].text}()`);
          break;
        }
        const prev = t[j - 1];
        const braceless =
          prev?.text === "else" || (prev?.text === ")" && /^(if|while|for)$/.test(t[ctx.match[j - 1] - 1]?.text ?? ""));
        if (braceless) {
          j = jEnd + 1;
          continue;
        }
        if (depth > 0) {
          // leave the nested block that jumps; paths that skipped it continue after it
          let d = 0;
          for (; j < ctx.fn.close; j++) {
            if (t[j].text === "{") d++;
            else if (t[j].text === "}") {
              if (d === 0) break;
              d--;
            }
          }
          continue;
        }
        break;
      }
      if (pathAt(t, j, path)) {
        if (isAssignmentTo(t, j + path.length - 1) || t[j + path.length]?.text === "=") break;
        if (t[j - 2]?.text === "sizeof") {
          j++;
          continue;
        }
        add(out, "CWE-416", t[j], "c-use-after-free", `'${path.join("")}' is used after ${t[i].text}()`);
        break;
      }
      j++;
    }
  }
}

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
    for (let j = argEnd; j < ctx.fn.close && !cleared; j++) {
      if (pathAt(t, j, path) && t[j + path.length]?.text === "=") cleared = true;
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

function pathAt(t: Token[], j: number, path: string[]): boolean {
  if (t[j - 1]?.text === "." || t[j - 1]?.text === "->") return false;
  for (let k = 0; k < path.length; k++) if (t[j + k]?.text !== path[k]) return false;
  return true;
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


function bounds(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  for (let i = ctx.fn.open; i < ctx.fn.close; i++) {
    const tk = t[i];
    if (tk.kind === "id" && t[i + 1]?.text === "(" && UNBOUNDED_WRITES.has(tk.text) && t[i - 1]?.text !== ".") {
      if (!sourceLengthChecked(ctx, i)) add(out, "CWE-787", tk, "c-unbounded-copy", `${tk.text}() writes without a size limit`);
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
      const sizeToks = t.slice(lastComma + 1, end);
      const suspect = (name: string) => ctx.untrusted.has(name) || ctx.fromCall.has(name);
      if (sizeToks.some((x) => x.text === "sizeof") && !sizeToks.some((x) => suspect(x.text))) continue;
      const bad = sizeToks.find(
        (x, n) => x.kind === "id" && suspect(x.text) && sizeToks[n + 1]?.text !== "(" && sizeToks[n - 1]?.text !== "->" &&
          !ctx.comparisons(x.text, ctx.fn.open, i).upper,
      );
      const strlenSize = sizeToks.some((x) => x.text === "strlen");
      if (bad || (strlenSize && tk.text !== "strncpy")) {
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
      if (x.kind !== "id" || !ctx.untrusted.has(x.text) || idx[n + 1]?.text === "(" || idx[n - 1]?.text === "->" || idx[n - 1]?.text === ".") continue;
      const c = ctx.comparisons(x.text, ctx.fn.open, i);
      if (ctx.lengths.has(x.text)) {
        // s[len - 1]: below the buffer when len is 0
        if (idx[n + 1]?.text === "-" && !c.lower && !ctx.comparisons(x.text, ctx.fn.open, close).lower) {
          add(out, cwe, tk, "c-length-minus-index", `index '${x.text} - ..' underflows when '${x.text}' is 0`);
          break;
        }
        continue;
      }
      const needLower = !ctx.unsigned.has(x.text);
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
    // a range check on the operand before the arithmetic bounds it
    const operand = leftUntrusted ? left.text : rightUntrusted && !rightCall ? right.text : null;
    if (operand && ctx.comparisons(operand, ctx.fn.open, i).upper) continue;
    // the assigned variable of this statement: wide types do not overflow on int inputs
    let s = i;
    while (s > ctx.fn.open && !/^[;{}]$/.test(t[s - 1].text)) s--;
    const assigned = t.slice(s, i + 1).find((x, n, arr) => x.kind === "id" && /^(=|\+=|\*=)$/.test(arr[n + 1]?.text ?? ""));
    if (assigned && ctx.wide.has(assigned.text)) continue;
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

export function analyzeC(code: string): Finding[] {
  const toks = lexC(code);
  const match = matchBrackets(toks);
  const out: Finding[] = [];
  for (const fn of findFunctions(toks, match)) {
    const ctx = new FnContext(toks, match, fn);
    nullDeref(ctx, out);
    linkWalk(ctx, out);
    useAfterFree(ctx, out);
    danglingMember(ctx, out);
    bounds(ctx, out);
    overflow(ctx, out);
  }
  const seen = new Set<string>();
  return out.filter((f) => {
    const key = `${f.cwe}|${f.line}|${f.rule}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
