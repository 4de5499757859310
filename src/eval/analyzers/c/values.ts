// A forward walk over a function's statements that tracks what is known for certain about its
// variables (after constant branches are folded, see preprocess.ts):
//   integer values (intervals; loop counters get their loop's range), pointers that are NULL,
//   buffer capacities (arrays, alloca/malloc sizes, struct members), string lengths (literals,
//   memset + terminator, strcpy), wide or narrow characters, unterminated copies, and data from
//   untrusted sources (input calls, sockets, files, environment, argv) for command injection.
// Branches are walked separately and joined (a fact holds after them only when it holds on every
// path that goes on; "may" facts such as taint are unions); loops forget what their bodies change.
// Rules on these facts report only what the facts prove:
//   787/125 copies, loops and indexes past a known capacity; reads of unterminated strings;
//           narrow string functions on wide strings (and the reverse)
//   476     dereferences of a pointer known to be NULL; NULL tests that do not short-circuit
//           (`p != NULL & p->x`); a NULL test after the pointer was already dereferenced
//   190     arithmetic on known values that leaves the range of its type
//   078     untrusted data reaching system/popen/exec*/spawn* with no whitelist or escape
// It also tells the token rules which unbounded copies it proved to fit (`safeCopies`).
import type { Finding } from "../types.ts";
import type { Token } from "./lexer.ts";
import type { Fn } from "./context.ts";
import { type Macros, evalConst, literalValue, statementExtent } from "./preprocess.ts";
import { lookupTable } from "../../../lookup-table.ts";

// ---------------------------------------------------------------------------------------- types
export interface CType {
  base: string;
  ptr: number;
  /** Array dimensions (null: one is unknown). */
  dims: (number | null)[];
}

const BASE_SIZE: Readonly<Record<string, number>> = lookupTable<number>({
  char: 1, bool: 1, _Bool: 1, short: 2, int: 4, long: 8, float: 4, double: 8, wchar_t: 4, size_t: 8, ssize_t: 8,
  ptrdiff_t: 8, off_t: 8, int8_t: 1, uint8_t: 1, int16_t: 2, uint16_t: 2, int32_t: 4, uint32_t: 4, int64_t: 8, uint64_t: 8,
  intptr_t: 8, uintptr_t: 8, u8: 1, u16: 2, u32: 4, u64: 8, s8: 1, s16: 2, s32: 4, s64: 8, pid_t: 4, uid_t: 4, gid_t: 4,
});
/** Integer ranges by base type (signed unless the type says otherwise). */
function intRange(ct: CType | undefined, unsigned: boolean): [number, number] | null {
  if (!ct || ct.ptr > 0 || ct.dims.length > 0) return null;
  const size = BASE_SIZE[ct.base];
  if (!size || ct.base === "float" || ct.base === "double" || ct.base === "bool" || ct.base === "_Bool") return null;
  const uns = unsigned || /^(u|size_t|uintptr_t)/.test(ct.base);
  const bits = size * 8;
  return uns ? [0, 2 ** bits - 1] : [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
}

const TYPE_WORDS = new Set([
  "const", "volatile", "static", "extern", "register", "unsigned", "signed", "short", "long", "int", "char", "float",
  "double", "void", "inline", "restrict", "__restrict", "auto", ...Object.keys(BASE_SIZE),
]);
const NOT_TYPES = new Set(["return", "if", "else", "while", "for", "do", "switch", "case", "goto", "break", "continue", "sizeof", "default", "typedef"]);

export class TypeTable {
  readonly typedefs = new Map<string, CType>();
  readonly structs = new Map<string, { name: string; type: CType }[]>();
  readonly unsignedNames = new Set<string>();

  resolve(ct: CType): CType {
    let cur = ct;
    for (let n = 0; n < 8; n++) {
      const td = this.typedefs.get(cur.base);
      if (!td) break;
      cur = { base: td.base, ptr: td.ptr + cur.ptr, dims: [...cur.dims, ...td.dims] };
    }
    return cur;
  }

  sizeOf(ct0: CType): number | null {
    const ct = this.resolve(ct0);
    if (ct.dims.some((d) => d === null)) return null;
    const count = (ct.dims as number[]).reduce((a, b) => a * b, 1);
    if (ct.ptr > 0) return 8 * count;
    const b = BASE_SIZE[ct.base] ?? this.structSize(ct.base);
    return b === null || b === undefined ? null : b * count;
  }

  alignOf(ct0: CType): number {
    const ct = this.resolve(ct0);
    if (ct.ptr > 0) return 8;
    const b = BASE_SIZE[ct.base];
    if (b) return b;
    const fields = this.structs.get(ct.base);
    return fields ? Math.max(1, ...fields.map((f) => this.alignOf(f.type))) : 1;
  }

  private structSize(name: string, depth = 0): number | null {
    const fields = this.structs.get(name);
    if (!fields || depth > 4) return null;
    let off = 0;
    let align = 1;
    for (const f of fields) {
      const s = this.sizeOf(f.type);
      if (s === null) return null;
      const a = this.alignOf(f.type);
      align = Math.max(align, a);
      off = Math.ceil(off / a) * a + s;
    }
    return Math.ceil(off / align) * align;
  }

  /** The type of member `m` of (a pointer to, or an array of) type `ct`. */
  member(ct0: CType, m: string): CType | null {
    const ct = this.resolve(ct0);
    return this.structs.get(ct.base)?.find((f) => f.name === m)?.type ?? null;
  }

  /** Size of what a pointer or array of this type holds per element. */
  elemSize(ct0: CType): number | null {
    const ct = this.resolve(ct0);
    if (ct.dims.length > 0) return this.sizeOf({ base: ct.base, ptr: ct.ptr, dims: ct.dims.slice(1) });
    if (ct.ptr > 0) return ct.ptr > 1 ? 8 : ct.base === "void" ? 1 : this.sizeOf({ base: ct.base, ptr: 0, dims: [] });
    return null;
  }

  isWide(ct0: CType | undefined): boolean | undefined {
    if (!ct0) return undefined;
    const ct = this.resolve(ct0);
    if (ct.ptr + ct.dims.length !== 1) return undefined;
    return ct.base === "wchar_t" ? true : ct.base === "char" ? false : undefined;
  }
}

export interface Declarator {
  name: string;
  nameAt: number;
  type: CType;
  unsigned: boolean;
  /** The initializer's tokens [from, to), when there is one. */
  init: [number, number] | null;
}

/** Parses `T a, *b[N] = x, ...` in toks[s, e); null when it is no declaration. */
export function parseDeclaration(
  t: Token[], match: Int32Array, s: number, e: number, types: TypeTable, macros: Macros,
): { base: string; decls: Declarator[] } | null {
  let k = s;
  const words: string[] = [];
  let tag: string | null = null;
  while (k < e && t[k].kind === "id") {
    const w = t[k].text;
    if (NOT_TYPES.has(w)) return null;
    if (w === "struct" || w === "union" || w === "enum") {
      if (t[k + 1]?.kind !== "id") return null;
      tag = `${w} ${t[k + 1].text}`;
      k += 2;
      if (t[k]?.text === "{") k = match[k] > k ? match[k] + 1 : e;
      continue;
    }
    if (TYPE_WORDS.has(w) || types.typedefs.has(w)) {
      words.push(w);
      k++;
      continue;
    }
    // an unknown name is a type when a declarator follows it (`T *p`, `T p;`)
    if (words.length === 0 && !tag && (t[k + 1]?.kind === "id" || (t[k + 1]?.text === "*" && (t[k + 2]?.kind === "id" || t[k + 2]?.text === "*")))) {
      words.push(w);
      k++;
      continue;
    }
    break;
  }
  const core = words.filter((w) => !/^(const|volatile|static|extern|register|inline|restrict|__restrict|auto)$/.test(w));
  if (!tag && core.length === 0) return null;
  const unsigned = core.includes("unsigned");
  const base = tag ??
    (core.includes("char") ? "char" : core.includes("short") ? "short" : core.includes("long") ? "long" : core.includes("double") ? "double" :
      core.includes("float") ? "float" : core.includes("int") || core.includes("unsigned") || core.includes("signed") ? "int" :
        core[core.length - 1]);
  const decls: Declarator[] = [];
  while (k < e) {
    let ptr = 0;
    while (t[k]?.text === "*" || t[k]?.text === "const" || t[k]?.text === "restrict") {
      if (t[k].text === "*") ptr++;
      k++;
    }
    if (t[k]?.text === "(") return decls.length ? { base, decls } : null; // function pointers: not tracked
    if (t[k]?.kind !== "id" || NOT_TYPES.has(t[k].text)) return decls.length ? { base, decls } : null;
    const nameAt = k;
    k++;
    const dims: (number | null)[] = [];
    while (t[k]?.text === "[") {
      const close = match[k] > k ? match[k] : e;
      dims.push(close === k + 1 ? null : evalSizeConst(t, k + 1, close, types, macros));
      k = close + 1;
    }
    if (t[k]?.text === "(") return decls.length ? { base, decls } : null; // a prototype
    let init: [number, number] | null = null;
    if (t[k]?.text === "=") {
      let j = k + 1;
      while (j < e && t[j].text !== ",") j = (t[j].text === "(" || t[j].text === "[" || t[j].text === "{") && match[j] > j ? match[j] + 1 : j + 1;
      init = [k + 1, j];
      k = j;
    }
    decls.push({ name: t[nameAt].text, nameAt, type: { base, ptr, dims }, unsigned, init });
    if (t[k]?.text === ",") {
      k++;
      continue;
    }
    break;
  }
  if (k < e && t[k]?.text !== ";") return null;
  return decls.length ? { base, decls } : null;
}

/** A constant expression that may hold sizeof(type). */
function evalSizeConst(t: Token[], from: number, to: number, types: TypeTable, macros: Macros): number | null {
  const v = evalConst(t, from, to, macros);
  if (v !== null) return v;
  // replace sizeof(T) by its size and try again
  const out: Token[] = [];
  for (let k = from; k < to; k++) {
    if (t[k].text === "sizeof" && t[k + 1]?.text === "(") {
      let close = k + 2;
      while (close < to && t[close].text !== ")") close++;
      const size = types.sizeOf(typeOf(t.slice(k + 2, close)));
      if (size === null) return null;
      out.push({ kind: "num", text: String(size), line: t[k].line });
      k = close;
      continue;
    }
    out.push(t[k]);
  }
  return evalConst(out, 0, out.length, macros);
}

/** A type name's tokens (`unsigned int`, `struct s *`, `wchar_t`) as a CType. */
function typeOf(ts: Token[]): CType {
  const words = ts.filter((x) => x.kind === "id" && !/^(const|volatile|unsigned|signed)$/.test(x.text)).map((x) => x.text);
  const ptr = ts.filter((x) => x.text === "*").length;
  let base = words.includes("struct") || words.includes("union") ? `${words[0]} ${words[1]}` : words.includes("char") ? "char" :
    words.includes("short") ? "short" : words.includes("long") ? "long" : words[words.length - 1] ?? "int";
  if (words.length === 0) base = "int";
  return { base, ptr, dims: [] };
}

/** Struct and typedef declarations of a token stream (file scope and headers). */
export function collectTypes(t: Token[], match: Int32Array, types: TypeTable, macros: Macros): void {
  for (let i = 0; i < t.length; i++) {
    const x = t[i].text;
    if ((x === "struct" || x === "union") && t[i + 1]?.kind === "id" && t[i + 2]?.text === "{" && match[i + 2] > i + 2) {
      types.structs.set(`${x} ${t[i + 1].text}`, fields(t, match, i + 3, match[i + 2], types, macros));
    }
    if (x !== "typedef") continue;
    let k = i + 1;
    let end = k;
    while (end < t.length && t[end].text !== ";") end = t[end].text === "{" && match[end] > end ? match[end] + 1 : end + 1;
    // typedef struct [tag] { ... } Name;
    if ((t[k]?.text === "struct" || t[k]?.text === "union")) {
      const tagName = t[k + 1]?.kind === "id" ? `${t[k].text} ${t[k + 1].text}` : null;
      const brace = t[k + 1]?.text === "{" ? k + 1 : t[k + 2]?.text === "{" ? k + 2 : -1;
      const key = tagName ?? `${t[k].text} <anon${i}>`;
      if (brace > 0 && match[brace] > brace) {
        types.structs.set(key, fields(t, match, brace + 1, match[brace], types, macros));
        k = match[brace] + 1;
      } else k = tagName ? k + 2 : k + 1;
      for (let j = k; j < end; j++) {
        if (t[j].kind !== "id") continue;
        const ptr = t.slice(k, j).filter((y) => y.text === "*").length;
        types.typedefs.set(t[j].text, { base: key, ptr, dims: [] });
      }
      i = end;
      continue;
    }
    const d = parseDeclaration(t, match, k, end, types, macros);
    for (const decl of d?.decls ?? []) {
      types.typedefs.set(decl.name, decl.type);
      if (decl.unsigned) types.unsignedNames.add(decl.name);
    }
    i = end;
  }
}

function fields(t: Token[], match: Int32Array, from: number, to: number, types: TypeTable, macros: Macros): { name: string; type: CType }[] {
  const out: { name: string; type: CType }[] = [];
  let s = from;
  for (let k = from; k < to; k++) {
    if ((t[k].text === "{" || t[k].text === "(") && match[k] > k) k = match[k];
    else if (t[k].text === ";") {
      for (const d of parseDeclaration(t, match, s, k, types, macros)?.decls ?? []) out.push({ name: d.name, type: d.type });
      s = k + 1;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------- values
interface Val {
  lo?: number;
  hi?: number;
  /** Definitely NULL (true) or definitely not (false). */
  nul?: boolean;
  /** Points at the start of a buffer of `bytes` bytes with elements of `elem` bytes. */
  bytes?: number;
  elem?: number;
  /** Length of the string it holds (elements before the first NUL). */
  slen?: number;
  /** Zero-filled past what was written (initialised arrays, calloc, memset 0). */
  zeroed?: boolean;
  /** Elements known non-NUL from the start (memset with a non-zero byte, copies). */
  fill?: number;
  wide?: boolean;
  /** Token index of a copy that left it without a terminator. */
  unterm?: number;
  /** Holds data from an untrusted source. */
  taint?: boolean;
  /** Token index of a dereference with no NULL test before it. */
  derefAt?: number;
}

type Env = Map<string, Val>;
/** Marks an environment no execution reaches (a condition that cannot hold there). */
const UNREACHABLE = "\u0000unreachable";
const unreachable = (e: Env) => e.has(UNREACHABLE);
const UNREACHED: Env = new Map([[UNREACHABLE, {}]]);

const known = (v: Val | undefined): v is Val & { lo: number; hi: number } => v?.lo !== undefined && v.hi !== undefined;

function joinVal(a: Val | undefined, b: Val | undefined): Val | undefined {
  if (!a || !b) {
    const one = a ?? b;
    return one?.taint ? { taint: true } : undefined;
  }
  const out: Val = {};
  if (known(a) && known(b)) {
    out.lo = Math.min(a.lo, b.lo);
    out.hi = Math.max(a.hi, b.hi);
  }
  if (a.nul === b.nul) out.nul = a.nul;
  if (a.bytes === b.bytes && a.elem === b.elem) {
    out.bytes = a.bytes;
    out.elem = a.elem;
  }
  if (a.slen === b.slen) out.slen = a.slen;
  if (a.fill === b.fill) out.fill = a.fill;
  if (a.wide === b.wide) out.wide = a.wide;
  if (a.zeroed && b.zeroed) out.zeroed = true;
  if (a.unterm !== undefined || b.unterm !== undefined) out.unterm = a.unterm ?? b.unterm;
  if (a.taint || b.taint) out.taint = true;
  if (a.derefAt !== undefined && b.derefAt !== undefined) out.derefAt = a.derefAt;
  return out;
}

function joinEnv(a: Env, b: Env): Env {
  if (unreachable(a)) return b;
  if (unreachable(b)) return a;
  const out: Env = new Map();
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const v = joinVal(a.get(k), b.get(k));
    if (v) out.set(k, v);
  }
  return out;
}

const ALLOCATORS = /^(malloc|alloca|_alloca|ALLOCA|__builtin_alloca|xmalloc|g_malloc|kmalloc|kzalloc|vmalloc|calloc|realloc|g_malloc0|xcalloc)$/;
const ZEROING_ALLOC = /^(calloc|kzalloc|g_malloc0|xcalloc|vzalloc)$/;
/** Functions that take a string argument only as a raw buffer with a length (not as a string). */
const RAW_BUFFER_CALLS = /^(mem\w+|wmem\w+|free|\w+_free|read|write|recv|send|fread|fwrite|strncpy|wcsncpy|strncat|wcsncat|snprintf|swprintf|fgets|fgetws|bzero|explicit_bzero|sizeof)$/;
const NARROW_STRING_CALLS = /^(strlen|strcpy|strcat|strncpy|strncat|strcmp|strncmp|strdup|strchr|strrchr|strstr|puts|fputs|atoi|atol|strtol)$/;
const WIDE_STRING_CALLS = /^(wcslen|wcscpy|wcscat|wcsncpy|wcsncat|wcscmp|wcsncmp|wcsdup|wcschr|wcsrchr|wcsstr|fputws)$/;
/** Calls that fill their buffer argument with input (the argument's index). */
const INPUT_BUFFER_ARG: Readonly<Record<string, number>> = lookupTable<number>({
  fgets: 0, fgetws: 0, gets: 0, gets_s: 0, fread: 0, read: 1, pread: 1, recv: 1, recvfrom: 1, recvmsg: 1, getline: 0, getdelim: 0,
  fgetc: -1, readlink: 1, wgetstr: 0, getstr: 0, getwd: 0, cin: -1,
});
const TAINTED_RESULT = /^(getenv|secure_getenv|_wgetenv|readline|getpass|gets)$/;
/** Copies and formatters: (destination index, source indexes from). */
const COPY_TAINT: Readonly<Record<string, [number, number]>> = lookupTable<[number, number]>({
  strcpy: [0, 1], strncpy: [0, 1], strcat: [0, 1], strncat: [0, 1], wcscpy: [0, 1], wcsncpy: [0, 1], wcscat: [0, 1], wcsncat: [0, 1],
  memcpy: [0, 1], memmove: [0, 1], sprintf: [0, 1], snprintf: [0, 2], vsprintf: [0, 1], vsnprintf: [0, 2], swprintf: [0, 2],
  strlcpy: [0, 1], strlcat: [0, 1], sscanf: [2, 0], strdup: [-1, 0], strndup: [-1, 0],
});
/** Calls that start a program: a shell command string, or exec/spawn argument lists. */
const COMMAND_SINKS = /^(system|_wsystem|popen|_popen|_wpopen|execl|execlp|execle|execv|execvp|execvpe|execve|fexecve|_exec\w*|_wexec\w*|spawn\w*|_spawn\w*|_wspawn\w*|posix_spawnp?|WinExec|ShellExecute\w*|CreateProcess\w*|g_spawn\w*)$/;
/** A whitelist, escape or validation of a value before it reaches a command. */
const COMMAND_SANITIZERS = /(escape|quote|sanitiz|saniti[sz]e|valid|whitelist|allowlist|allowed|is_safe|safe_|filter|shell_arg|check_)/i;

export interface ValueFacts {
  findings: Finding[];
  /** Token indexes of copies proven to fit their destination (strcpy, strcat, memcpy, ...). */
  safeCopies: Set<number>;
}

class Walker {
  readonly findings: Finding[] = [];
  readonly safeCopies = new Set<number>();
  /** Declared types of the function's variables (and the program's globals). */
  readonly vars = new Map<string, CType>();
  readonly unsignedVars = new Set<string>();
  /** Capacities of declared arrays (fixed for the variable's life). */
  readonly arrays = new Map<string, { bytes: number; elem: number }>();
  private reported = new Set<string>();

  constructor(
    readonly t: Token[],
    readonly match: Int32Array,
    readonly types: TypeTable,
    readonly macros: Macros,
  ) {}

  report(cwe: string, at: number, rule: string, message: string): void {
    const key = `${cwe}|${this.t[at].line}|${rule}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.findings.push({ cwe, line: this.t[at].line, rule, message });
  }

  declare(d: Declarator): void {
    this.vars.set(d.name, d.type);
    if (d.unsigned) this.unsignedVars.add(d.name);
    else this.unsignedVars.delete(d.name);
    const rt = this.types.resolve(d.type);
    if (rt.dims.length > 0) {
      const bytes = this.types.sizeOf(d.type);
      const elem = this.types.elemSize(d.type);
      if (bytes !== null && elem) this.arrays.set(d.name, { bytes, elem });
      else if (d.init && rt.dims[0] === null) {
        // `char s[] = "..."`: sized by its initializer
        const lit = this.stringLiteral(d.init[0], d.init[1]);
        const el = this.types.elemSize({ ...d.type, dims: [0] });
        if (lit && el) this.arrays.set(d.name, { bytes: (lit.len + 1) * el, elem: el });
      }
    } else this.arrays.delete(d.name);
  }

  // ------------------------------------------------------------------------------ expressions
  /** A string literal (`"..."`, `L"..."`, adjacent pieces) spanning [from, to), or null. */
  stringLiteral(from: number, to: number): { len: number; wide: boolean } | null {
    const t = this.t;
    let k = from;
    let wide = false;
    let len = 0;
    let any = false;
    while (k < to) {
      if (t[k].text === "L" && t[k + 1]?.kind === "str") {
        wide = true;
        k++;
        continue;
      }
      if (t[k].kind !== "str") return null;
      len += unescapedLength(t[k].text);
      any = true;
      k++;
    }
    return any ? { len, wide } : null;
  }

  /** Top-level comma-separated argument ranges of the call whose `(` is at `open`. */
  args(open: number): [number, number][] {
    const t = this.t;
    const close = this.match[open];
    const out: [number, number][] = [];
    if (close <= open + 1) return out;
    let s = open + 1;
    for (let k = open + 1; k < close; k++) {
      const x = t[k].text;
      if ((x === "(" || x === "[" || x === "{") && this.match[k] > k) k = this.match[k];
      else if (x === ",") {
        out.push([s, k]);
        s = k + 1;
      }
    }
    out.push([s, close]);
    return out;
  }

  /** Skips casts and parentheses: the range of the operand itself. */
  strip(from: number, to: number): [number, number] {
    const t = this.t;
    for (let n = 0; n < 6 && from < to; n++) {
      if (t[from].text === "(" && this.match[from] === to - 1) {
        from++;
        to--;
        continue;
      }
      if (t[from].text === "(" && this.isCast(from)) {
        from = this.match[from] + 1;
        continue;
      }
      break;
    }
    return [from, to];
  }

  /** `(T)`, `(T *)`, `(struct s *)` at `open`. */
  isCast(open: number): boolean {
    const t = this.t;
    const close = this.match[open];
    if (close <= open + 1) return false;
    let typeish = false;
    for (let k = open + 1; k < close; k++) {
      if (t[k].text === "*") continue;
      if (t[k].kind !== "id") return false;
      if (TYPE_WORDS.has(t[k].text) || this.types.typedefs.has(t[k].text) || t[k].text === "struct" || t[k].text === "union" ||
        /_t$/.test(t[k].text)) typeish = true;
      else if (!(t[k - 1]?.text === "struct" || t[k - 1]?.text === "union")) {
        // an unknown single word followed by `*`: a type
        if (!(t[k + 1]?.text === "*" && close - open <= 4)) return false;
        typeish = true;
      }
    }
    const next = t[close + 1];
    return typeish && !!next && (next.kind !== "op" || next.text === "(" || next.text === "*" || next.text === "&" || next.text === "-");
  }

  /** The variable an argument names (past casts, `&`, `+ offset`), or null. */
  rootVar(from: number, to: number): { name: string; exact: boolean } | null {
    const t = this.t;
    [from, to] = this.strip(from, to);
    if (t[from]?.text === "&" && t[from + 1]?.kind === "id") return { name: t[from + 1].text, exact: false };
    if (t[from]?.kind !== "id" || t[from + 1]?.text === "(" || t[from + 1]?.text === "->" || t[from + 1]?.text === ".") return null;
    if (to === from + 1) return { name: t[from].text, exact: true };
    if (t[from + 1]?.text === "+" || t[from + 1]?.text === "[") return { name: t[from].text, exact: false };
    return null;
  }

  /** The value of the expression toks[from, to). */
  evaluate(from: number, to: number, env: Env): Val {
    const t = this.t;
    [from, to] = this.trim(from, to);
    if (from >= to) return {};
    // lowest-precedence binary operator at the top level
    const op = this.topOperator(from, to);
    if (op >= 0) {
      const x = t[op].text;
      if (x === "?") {
        const colon = this.findColon(op + 1, to);
        if (colon < 0) return {};
        const v = joinVal(this.evaluate(op + 1, colon, env), this.evaluate(colon + 1, to, env));
        return v ?? {};
      }
      const a = this.evaluate(from, op, env);
      const b = this.evaluate(op + 1, to, env);
      const taint = a.taint || b.taint ? true : undefined;
      if (x === "+" || x === "-") {
        // pointer arithmetic keeps taint, drops the capacity (the start moved)
        if (a.bytes !== undefined || a.slen !== undefined || a.wide !== undefined) return { taint, wide: a.wide };
      }
      if (!known(a) || !known(b)) return taint ? { taint } : {};
      const combos = (f: (p: number, q: number) => number) => {
        const vs = [f(a.lo, b.lo), f(a.lo, b.hi), f(a.hi, b.lo), f(a.hi, b.hi)];
        return vs.every(Number.isFinite) ? { lo: Math.min(...vs), hi: Math.max(...vs), taint } : { taint };
      };
      switch (x) {
        case "+": return combos((p, q) => p + q);
        case "-": return combos((p, q) => p - q);
        case "*": return combos((p, q) => p * q);
        case "/": return b.lo > 0 || b.hi < 0 ? combos((p, q) => Math.trunc(p / q)) : { taint };
        case "%": return b.lo === b.hi && b.lo > 0 ? { lo: a.lo < 0 ? -(b.lo - 1) : 0, hi: b.lo - 1, taint } : { taint };
        case "<<": return b.lo === b.hi && b.lo >= 0 && b.lo < 64 ? combos((p) => p * 2 ** b.lo) : { taint };
        case ">>": return b.lo === b.hi && b.lo >= 0 && b.lo < 64 ? combos((p) => Math.floor(p / 2 ** b.lo)) : { taint };
        case "&":
          return a.lo >= 0 && b.lo >= 0 ? { lo: 0, hi: Math.min(a.hi, b.hi), taint } : { taint };
        case "<": return a.hi < b.lo ? { lo: 1, hi: 1 } : a.lo >= b.hi ? { lo: 0, hi: 0 } : { lo: 0, hi: 1 };
        case "<=": return a.hi <= b.lo ? { lo: 1, hi: 1 } : a.lo > b.hi ? { lo: 0, hi: 0 } : { lo: 0, hi: 1 };
        case ">": return a.lo > b.hi ? { lo: 1, hi: 1 } : a.hi <= b.lo ? { lo: 0, hi: 0 } : { lo: 0, hi: 1 };
        case ">=": return a.lo >= b.hi ? { lo: 1, hi: 1 } : a.hi < b.lo ? { lo: 0, hi: 0 } : { lo: 0, hi: 1 };
        case "==": return a.lo === a.hi && b.lo === b.hi ? { lo: +(a.lo === b.lo), hi: +(a.lo === b.lo) } : a.hi < b.lo || a.lo > b.hi ? { lo: 0, hi: 0 } : { lo: 0, hi: 1 };
        case "!=": return a.lo === a.hi && b.lo === b.hi ? { lo: +(a.lo !== b.lo), hi: +(a.lo !== b.lo) } : a.hi < b.lo || a.lo > b.hi ? { lo: 1, hi: 1 } : { lo: 0, hi: 1 };
        case "&&": return (a.lo > 0 || a.hi < 0) && (b.lo > 0 || b.hi < 0) ? { lo: 1, hi: 1 } : (a.lo === 0 && a.hi === 0) || (b.lo === 0 && b.hi === 0) ? { lo: 0, hi: 0 } : { lo: 0, hi: 1 };
        case "||": return (a.lo > 0 || a.hi < 0) || (b.lo > 0 || b.hi < 0) ? { lo: 1, hi: 1 } : a.lo === 0 && a.hi === 0 && b.lo === 0 && b.hi === 0 ? { lo: 0, hi: 0 } : { lo: 0, hi: 1 };
        default: return { lo: 0, hi: 1, taint };
      }
    }
    // a cast: the operand's value, with the element size of the pointer type
    if (t[from].text === "(" && this.isCast(from)) {
      const close = this.match[from];
      const v = { ...this.evaluate(close + 1, to, env) };
      const ct = typeOf(t.slice(from + 1, close));
      if (ct.ptr > 0 && v.bytes !== undefined) {
        const el = this.types.elemSize(ct);
        if (el && ct.base !== "void") v.elem = el;
      }
      if (ct.ptr === 0) {
        const r = intRange(ct, t.slice(from + 1, close).some((x) => x.text === "unsigned"));
        if (known(v) && r && (v.lo < r[0] || v.hi > r[1])) return { taint: v.taint };
        // an integer cast truncates
        if (known(v) && r) return { ...v, lo: Math.trunc(v.lo), hi: Math.trunc(v.hi) };
      }
      return v;
    }
    const x = t[from];
    if (x.text === "L" && t[from + 1]?.kind === "chr" && to === from + 2) {
      const c = literalValue(t[from + 1]);
      if (c !== null) return { lo: c, hi: c };
    }
    // unary operators
    if (x.text === "-" && from + 1 < to) {
      const v = this.evaluate(from + 1, to, env);
      return known(v) ? { lo: -v.hi, hi: -v.lo, taint: v.taint } : { taint: v.taint };
    }
    if (x.text === "!") return { lo: 0, hi: 1 };
    if (x.text === "*" || x.text === "&") {
      const v = this.evaluate(from + 1, to, env);
      return v.taint ? { taint: true } : {};
    }
    if (x.text === "sizeof") return this.sizeofValue(from + 1, to);
    const lit = this.stringLiteral(from, to);
    if (lit) return { bytes: (lit.len + 1) * (lit.wide ? 4 : 1), elem: lit.wide ? 4 : 1, slen: lit.len, wide: lit.wide, nul: false };
    if (to === from + 1) {
      const n = literalValue(x);
      if (n !== null) return { lo: n, hi: n };
      if (x.kind === "id") return this.variable(x.text, env);
    }
    if (x.kind === "id" && t[from + 1]?.text === "(" && this.match[from + 1] === to - 1) return this.callValue(from, env);
    // a[i], a->m, a.m
    if (x.kind === "id" && t[from + 1]?.text === "[") {
      const base = this.variable(x.text, env);
      return base.taint ? { taint: true } : {};
    }
    if (x.kind === "id" && (t[from + 1]?.text === "->" || t[from + 1]?.text === ".")) {
      const ct = this.memberType(from, to);
      if (ct) {
        const bytes = this.types.sizeOf(ct);
        const elem = this.types.elemSize(ct);
        if (ct.dims.length > 0 && bytes !== null && elem) return { bytes, elem, wide: this.types.isWide(ct) };
      }
      return {};
    }
    const c = evalConst(t, from, to, this.macros);
    return c !== null ? { lo: c, hi: c } : {};
  }

  private trim(from: number, to: number): [number, number] {
    while (from < to && this.t[from].text === "(" && this.match[from] === to - 1) {
      from++;
      to--;
    }
    return [from, to];
  }

  private findColon(from: number, to: number): number {
    let d = 0;
    for (let k = from; k < to; k++) {
      const x = this.t[k].text;
      if ((x === "(" || x === "[") && this.match[k] > k) k = this.match[k];
      else if (x === "?") d++;
      else if (x === ":") {
        if (d === 0) return k;
        d--;
      }
    }
    return -1;
  }

  /** Index of the lowest-precedence binary operator at depth 0 (rightmost for left-assoc), or -1. */
  private topOperator(from: number, to: number): number {
    const t = this.t;
    const LEVELS = [["?"], ["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", "<=", ">", ">="], ["<<", ">>"], ["+", "-"], ["*", "/", "%"]];
    const at: number[][] = LEVELS.map(() => []);
    for (let k = from; k < to; k++) {
      const x = t[k];
      if ((x.text === "(" || x.text === "[") && this.match[k] > k) {
        k = this.match[k];
        continue;
      }
      if (x.kind !== "op") continue;
      // binary only: a value on the left
      const l = t[k - 1];
      if (k === from || !l || !(l.kind !== "op" || l.text === ")" || l.text === "]" || l.text === "++" || l.text === "--")) continue;
      // a cast's closing parenthesis is not a value: `(char *) -1`
      if (l.text === ")" && this.isCast(this.match[k - 1])) continue;
      const lvl = LEVELS.findIndex((ops) => ops.includes(x.text));
      if (lvl >= 0) at[lvl].push(k);
    }
    for (let lvl = 0; lvl < LEVELS.length; lvl++) {
      if (at[lvl].length === 0) continue;
      return lvl === 0 ? at[lvl][0] : at[lvl][at[lvl].length - 1];
    }
    return -1;
  }

  variable(name: string, env: Env): Val {
    const v = env.get(name);
    const arr = this.arrays.get(name);
    const ct = this.vars.get(name);
    const wide = v?.wide ?? this.types.isWide(ct);
    if (arr) return { ...v, bytes: arr.bytes, elem: arr.elem, nul: false, wide };
    if (v) return { ...v, wide };
    if (name === "NULL" || name === "nullptr") return { lo: 0, hi: 0, nul: true };
    const c = evalConst([{ kind: "id", text: name, line: 0 }], 0, 1, this.macros);
    if (c !== null) return { lo: c, hi: c };
    return wide !== undefined ? { wide } : {};
  }

  private memberType(from: number, to: number): CType | null {
    const t = this.t;
    let ct = this.vars.get(t[from].text) ?? null;
    let k = from + 1;
    while (ct && k + 1 < to && (t[k].text === "->" || t[k].text === ".") && t[k + 1].kind === "id") {
      ct = this.types.member({ ...this.types.resolve(ct), ptr: 0, dims: [] }, t[k + 1].text);
      k += 2;
    }
    return k === to ? ct : null;
  }

  private sizeofValue(from: number, to: number): Val {
    const t = this.t;
    let [s, e] = this.trim(from, to);
    if (t[from].text === "(" && this.match[from] === to - 1) [s, e] = [from + 1, to - 1];
    // sizeof(type)
    const ids = t.slice(s, e);
    if (ids.every((x) => x.kind === "id" || x.text === "*") && ids.length > 0 && ids[0].kind === "id" &&
      (ids.some((x) => TYPE_WORDS.has(x.text) || this.types.typedefs.has(x.text) || x.text === "struct") || !this.vars.has(ids[0].text))) {
      if (ids.length === 1 && this.vars.has(ids[0].text)) return this.sizeofVar(ids[0].text);
      const size = this.types.sizeOf(typeOf(ids));
      return size !== null ? { lo: size, hi: size } : {};
    }
    if (e === s + 1 && t[s].kind === "id") return this.sizeofVar(t[s].text);
    // sizeof(*p), sizeof(p[0])
    if (t[s].text === "*" && e === s + 2 && t[s + 1].kind === "id") {
      const ct = this.vars.get(t[s + 1].text);
      const el = ct ? this.types.elemSize(ct) : null;
      return el ? { lo: el, hi: el } : {};
    }
    if (t[s].kind === "id" && t[s + 1]?.text === "[" && this.match[s + 1] === e - 1) {
      const ct = this.vars.get(t[s].text);
      const el = ct ? this.types.elemSize(ct) : null;
      return el ? { lo: el, hi: el } : {};
    }
    if (t[s].kind === "id" && (t[s + 1]?.text === "->" || t[s + 1]?.text === ".")) {
      const ct = this.memberType(s, e);
      const size = ct ? this.types.sizeOf(ct) : null;
      return size !== null ? { lo: size, hi: size } : {};
    }
    const lit = this.stringLiteral(s, e);
    if (lit) return { lo: (lit.len + 1) * (lit.wide ? 4 : 1), hi: (lit.len + 1) * (lit.wide ? 4 : 1) };
    return {};
  }

  private sizeofVar(name: string): Val {
    const ct = this.vars.get(name);
    const size = ct ? this.types.sizeOf(ct) : null;
    return size !== null ? { lo: size, hi: size } : {};
  }

  /** The value a call returns (allocations, lengths, untrusted sources). */
  callValue(at: number, env: Env): Val {
    const t = this.t;
    const name = t[at].text;
    const args = this.args(at + 1);
    const arg = (n: number) => (args[n] ? this.evaluate(args[n][0], args[n][1], env) : {});
    if (ALLOCATORS.test(name)) {
      let bytes: Val;
      if (name === "calloc" || name === "xcalloc") {
        const a = arg(0);
        const b = arg(1);
        bytes = known(a) && known(b) && a.lo === a.hi && b.lo === b.hi ? { lo: a.lo * b.lo, hi: a.lo * b.lo } : {};
      } else bytes = arg(name === "realloc" ? 1 : 0);
      const v: Val = {};
      if (known(bytes) && bytes.lo === bytes.hi) {
        v.bytes = bytes.lo;
        v.elem = 1;
      }
      if (ZEROING_ALLOC.test(name)) v.zeroed = true;
      // alloca never returns NULL; the others are judged by the NULL rules
      return v;
    }
    if (name === "strlen" || name === "wcslen") {
      const r = args[0] ? this.rootVar(args[0][0], args[0][1]) : null;
      const v = args[0] ? this.evaluate(args[0][0], args[0][1], env) : {};
      if (r?.exact && v.slen !== undefined && (v.wide === undefined || v.wide === (name === "wcslen"))) return { lo: v.slen, hi: v.slen };
      return v.taint ? { taint: true } : {};
    }
    if (TAINTED_RESULT.test(name)) return { taint: true };
    if (/^(abs|labs|llabs|imaxabs|fabs)$/.test(name)) {
      const a = arg(0);
      if (!known(a)) return {};
      return a.lo >= 0 ? { lo: a.lo, hi: a.hi } : a.hi <= 0 ? { lo: -a.hi, hi: -a.lo } : { lo: 0, hi: Math.max(-a.lo, a.hi) };
    }
    if (name === "sqrt" || name === "sqrtl" || name === "sqrtf") {
      const a = arg(0);
      return known(a) && a.lo >= 0 ? { lo: Math.sqrt(a.lo), hi: Math.sqrt(a.hi) } : {};
    }
    return {};
  }

  // ------------------------------------------------------------------------------- statements
  /** Walks statements in [from, to). Returns the environment after them and whether control goes on. */
  block(from: number, to: number, env: Env): { env: Env; dead: boolean } {
    if (unreachable(env)) return { env, dead: true };
    let dead = false;
    let k = from;
    while (k < to) {
      const end = Math.max(k + 1, Math.min(statementExtent(this.t, this.match, k, to), to));
      const r = this.statement(k, end, env);
      env = r.env;
      // code after a jump runs only when reached by a label (handled in statement)
      if (r.dead) dead = true;
      else if (r.label) dead = false;
      k = end;
    }
    return { env, dead };
  }

  private havocAssigned(from: number, to: number, env: Env): Env {
    const out: Env = new Map(env);
    const t = this.t;
    for (let k = from; k < to; k++) {
      if (t[k].kind !== "id") continue;
      const nxt = t[k + 1]?.text ?? "";
      const prev = t[k - 1]?.text ?? "";
      if (prev === "." || prev === "->") continue;
      if (/^([+\-*/%&|^]|<<|>>)?=$/.test(nxt) || nxt === "++" || nxt === "--" || prev === "++" || prev === "--" || prev === "&") {
        const v = out.get(t[k].text);
        if (v) out.set(t[k].text, { taint: v.taint, wide: v.wide, nul: undefined, unterm: v.unterm });
        else out.delete(t[k].text);
      }
      // a buffer written in the loop: its string facts no longer hold
      if (t[k + 1]?.text === "[" || (t[k + 1]?.text === "," || t[k + 1]?.text === ")") && /^(\(|,)$/.test(prev)) {
        const v = out.get(t[k].text);
        if (v && (v.slen !== undefined || v.unterm !== undefined) && t[k + 1]?.text === "[") {
          const close = this.match[k + 1];
          if (/^([+\-*/%&|^]|<<|>>)?=$/.test(t[close + 1]?.text ?? "")) out.set(t[k].text, { ...v, slen: undefined });
        }
      }
    }
    return out;
  }

  private statement(s: number, e: number, env: Env): { env: Env; dead: boolean; label?: boolean } {
    const t = this.t;
    const x = t[s].text;
    if (x === "{") {
      const r = this.block(s + 1, Math.min(this.match[s], e), env);
      return r;
    }
    if (x === ";") return { env, dead: false };
    if (t[s].kind === "id" && t[s + 1]?.text === ":" && !NOT_TYPES.has(x)) {
      // a label: reached by jumps from anywhere, only declared facts hold
      const r = this.block(s + 2, e, this.forget(env));
      return { ...r, label: true };
    }
    if (x === "case" || x === "default") {
      let k = s;
      while (k < e && t[k].text !== ":") k++;
      const r = this.block(k + 1, e, this.forget(env));
      return { ...r, label: true };
    }
    if (x === "if" && t[s + 1]?.text === "(") {
      const close = this.match[s + 1];
      env = this.expression(s + 2, close, env);
      const e1 = statementExtent(t, this.match, close + 1, e);
      const [envT, envF] = this.refine(s + 2, close, env);
      const r1 = this.block(close + 1, e1, envT);
      let r2 = { env: envF, dead: false };
      if (t[e1]?.text === "else") r2 = this.block(e1 + 1, e, envF);
      if (r1.dead && r2.dead) return { env: joinEnv(r1.env, r2.env), dead: true };
      if (r1.dead) return { env: r2.env, dead: false };
      if (r2.dead) return { env: r1.env, dead: false };
      return { env: joinEnv(r1.env, r2.env), dead: false };
    }
    if ((x === "for" || x === "while" || x === "switch") && t[s + 1]?.text === "(") {
      const close = this.match[s + 1];
      const body = close + 1;
      let entry = env;
      let bodyEnv: Env;
      if (x === "for") {
        const parts = this.forParts(s + 1);
        if (parts) {
          entry = this.simple(parts[0][0], parts[0][1], entry);
          const loopEnv = this.havocAssigned(parts[2][0], e, entry);
          bodyEnv = this.expression(parts[1][0], parts[1][1], loopEnv);
          bodyEnv = this.loopRange(parts, entry, bodyEnv);
          bodyEnv = this.refine(parts[1][0], parts[1][1], bodyEnv)[0];
          const r = this.block(body, e, bodyEnv);
          const after = this.havocAssigned(parts[2][0], e, entry);
          return { env: this.loopCopy(parts, body, e, entry, joinEnv(after, this.havocAssigned(parts[2][0], e, r.env))), dead: false };
        }
      }
      const loopEnv = this.havocAssigned(s, e, entry);
      bodyEnv = this.expression(s + 2, close, loopEnv);
      if (x === "while") bodyEnv = this.refine(s + 2, close, bodyEnv)[0];
      const r = this.block(body, e, bodyEnv);
      return { env: joinEnv(loopEnv, this.havocAssigned(s, e, r.env)), dead: false };
    }
    if (x === "do") {
      const bodyEnd = statementExtent(t, this.match, s + 1, e);
      const condOpen = bodyEnd + 1;
      const once = t[condOpen]?.text === "(" && evalConst(t, condOpen + 1, this.match[condOpen], this.macros) === 0;
      const entry = once ? env : this.havocAssigned(s, e, env);
      const r = this.block(s + 1, bodyEnd, entry);
      // `do { ... break; ... } while (0)`: what follows a break may not have run
      return { env: joinEnv(entry, r.env), dead: false };
    }
    if (x === "return" || x === "goto" || x === "break" || x === "continue") {
      this.expression(s + 1, e, env);
      return { env, dead: true };
    }
    if (x === "else") return this.block(s + 1, e, env);
    // a loop macro: `list_for_each(p, head) { ... }`
    if (t[s].kind === "id" && t[s + 1]?.text === "(" && t[this.match[s + 1] + 1]?.text === "{" && this.match[this.match[s + 1] + 1] === e - 1) {
      const loopEnv = this.havocAssigned(s, e, env);
      const r = this.block(this.match[s + 1] + 2, e - 1, this.expression(s + 2, this.match[s + 1], loopEnv));
      return { env: joinEnv(loopEnv, this.havocAssigned(s, e, r.env)), dead: false };
    }
    const r = this.simple(s, e, env);
    // exit(), abort(): no way on
    const dead = /^(exit|abort|_exit|_Exit|longjmp|panic|BUG)$/.test(x) && t[s + 1]?.text === "(";
    return { env: r, dead };
  }

  /** Facts that survive an unknown path (a label): none of the variables' values. */
  private forget(env: Env): Env {
    const out: Env = new Map();
    for (const [k, v] of env) if (v.taint || v.wide !== undefined) out.set(k, { taint: v.taint, wide: v.wide });
    return out;
  }

  /** A declaration or an expression statement. */
  private simple(s: number, e: number, env: Env): Env {
    const t = this.t;
    const end = t[e - 1]?.text === ";" ? e - 1 : e;
    if (end <= s) return env;
    if (t[s].text === "typedef") return env;
    const d = parseDeclaration(t, this.match, s, end, this.types, this.macros);
    if (d) {
      for (const decl of d.decls) {
        this.declare(decl);
        env = new Map(env);
        env.delete(decl.name);
        if (!decl.init) continue;
        const [a, b] = decl.init;
        if (t[a].text === "{") {
          // `{0}`, `{...}`: zero-filled past the listed values; listed tainted values taint it
          env = this.expression(a + 1, b - 1, env);
          const items = this.args(a).map(([p, q]) => this.evaluate(p, q, env));
          const v: Val = { zeroed: true, slen: undefined };
          if (items.some((i) => i.taint)) v.taint = true;
          if (items.length === 1 && known(items[0]) && items[0].lo === 0 && items[0].hi === 0) v.slen = 0;
          env.set(decl.name, v);
          continue;
        }
        env = this.expression(a, b, env);
        env = this.assign(decl.name, decl.nameAt, a, b, env);
        // an array initialised from a shorter string is zero-filled after it
        if (this.arrays.has(decl.name) && this.stringLiteral(...this.strip(a, b))) env.set(decl.name, { ...env.get(decl.name), zeroed: true });
      }
      return env;
    }
    return this.expression(s, end, env);
  }

  /** The three parts of a for header, or null. */
  private forParts(open: number): [number, number][] | null {
    const close = this.match[open];
    const semis: number[] = [];
    for (let k = open + 1; k < close; k++) {
      if ((this.t[k].text === "(" || this.t[k].text === "[") && this.match[k] > k) k = this.match[k];
      else if (this.t[k].text === ";") semis.push(k);
    }
    if (semis.length !== 2) return null;
    return [[open + 1, semis[0]], [semis[0] + 1, semis[1]], [semis[1] + 1, close]];
  }

  /** `for (i = A; i < N; i++)`: the counter's range inside the body. */
  private loopRange(parts: [number, number][], entry: Env, bodyEnv: Env): Env {
    const lc = this.loopCounter(parts, entry);
    if (!lc) return bodyEnv;
    const out = new Map(bodyEnv);
    out.set(lc.name, { lo: lc.lo, hi: lc.hi });
    return out;
  }

  private loopCounter(parts: [number, number][], entry: Env): { name: string; lo: number; hi: number } | null {
    const t = this.t;
    const [c0, c1] = parts[1];
    const [st0, st1] = parts[2];
    const name = t[c0]?.text;
    if (t[c0]?.kind !== "id") return null;
    const step = t.slice(st0, st1).map((x) => x.text).join(" ");
    if (step !== `${name} ++` && step !== `++ ${name}` && step !== `${name} += 1`) return null;
    const op = t[c0 + 1]?.text;
    if (op !== "<" && op !== "<=" && op !== "!=") return null;
    const bound = this.evaluate(c0 + 2, c1, entry);
    // the start: `i = A` in the init part (or a declaration `int i = A`)
    const init = t.slice(parts[0][0], parts[0][1]);
    const eq = init.findIndex((x, n) => x.text === "=" && init[n - 1]?.text === name);
    const start = eq >= 0 ? this.evaluate(parts[0][0] + eq + 1, parts[0][1], entry) : {};
    if (!known(bound) || !known(start) || start.lo !== start.hi) return null;
    const hi = op === "<=" ? bound.hi : bound.hi - 1;
    if (hi < start.lo) return null;
    return { name, lo: start.lo, hi };
  }

  /** `for (i = 0; i < N; i++) dst[i] = src[i];`: a copy of N elements (string facts of dst after the loop). */
  private loopCopy(parts: [number, number][], from: number, to: number, entry: Env, after: Env): Env {
    const t = this.t;
    const lc = this.loopCounter(parts, entry);
    if (!lc || lc.lo !== 0) return after;
    let body = from;
    let end = to;
    if (t[body].text === "{") {
      body++;
      end = this.match[from];
    }
    const out = new Map(after);
    for (let k = body; k < end; k++) {
      if (t[k].kind !== "id" || t[k + 1]?.text !== "[" || t[k + 2]?.text !== lc.name || t[k + 3]?.text !== "]" || t[k + 4]?.text !== "=") continue;
      if (t[k + 5]?.kind !== "id" || t[k + 6]?.text !== "[" || t[k + 7]?.text !== lc.name || t[k + 8]?.text !== "]" || t[k + 9]?.text !== ";") continue;
      const dst = t[k].text;
      // the destination's facts before the loop, the source's as the loop read it
      const before = new Map(out);
      if (entry.has(dst)) before.set(dst, entry.get(dst) as Val);
      this.copiedInto(dst, lc.hi + 1, this.variable(t[k + 5].text, entry), k, before);
      out.set(dst, before.get(dst) as Val);
    }
    return out;
  }

  /** Environments where the condition [from, to) is true and false (NULL tests only). */
  private refine(from: number, to: number, env: Env): [Env, Env] {
    const t = this.t;
    [from, to] = this.trim(from, to);
    if (unreachable(env) || from >= to) return [env, env];
    // a condition whose value is known here
    const whole = this.evaluate(from, to, env);
    if (known(whole) && whole.lo === whole.hi) return whole.lo ? [env, UNREACHED] : [UNREACHED, env];
    if (known(whole) && (whole.lo > 0 || whole.hi < 0)) return [env, UNREACHED];
    const set = (e: Env, name: string, nul: boolean) => {
      const d = e.get(name)?.derefAt;
      if (d !== undefined) {
        this.report("CWE-476", from, "c-null-check-after-deref",
          `'${name}' is tested for NULL after it was dereferenced on line ${t[d].line}`);
      }
      const out = new Map(e);
      out.set(name, { ...(out.get(name) ?? {}), nul, derefAt: undefined });
      return out;
    };
    const isNull = (k: number) => t[k]?.text === "NULL" || t[k]?.text === "0" || t[k]?.text === "nullptr";
    // a && b: both hold when true
    const and = this.splitTop(from, to, "&&");
    if (and.length > 1) {
      let tEnv = env;
      for (const [p, q] of and) tEnv = this.refine(p, q, tEnv)[0];
      return [tEnv, env];
    }
    const or = this.splitTop(from, to, "||");
    if (or.length > 1) {
      let fEnv = env;
      for (const [p, q] of or) fEnv = this.refine(p, q, fEnv)[1];
      return [env, fEnv];
    }
    if (t[from].text === "!" && t[from + 1]?.kind === "id" && to === from + 2) {
      return [set(env, t[from + 1].text, true), set(env, t[from + 1].text, false)];
    }
    if (t[from].text === "!" && t[from + 1]?.text === "(" && this.match[from + 1] === to - 1) {
      const [a, b] = this.refine(from + 2, to - 1, env);
      return [b, a];
    }
    if (t[from].kind === "id" && to === from + 1 && this.isPointer(t[from].text, env)) {
      return [set(env, t[from].text, false), set(env, t[from].text, true)];
    }
    if (to === from + 3 && (t[from + 1].text === "==" || t[from + 1].text === "!=")) {
      const [v, other] = t[from].kind === "id" && isNull(from + 2) ? [from, from + 2] : t[from + 2].kind === "id" && isNull(from) ? [from + 2, from] : [-1, -1];
      if (v >= 0 && other >= 0 && this.isPointer(t[v].text, env)) {
        const eq = t[from + 1].text === "==";
        return [set(env, t[v].text, eq), set(env, t[v].text, !eq)];
      }
    }
    return this.refineRange(from, to, env);
  }

  /** `x < c`, `c >= x`, `x == c`, ...: x's interval on each side (an empty one: unreachable). */
  private refineRange(from: number, to: number, env: Env): [Env, Env] {
    const t = this.t;
    let op = -1;
    for (let k = from; k < to; k++) {
      const x = t[k].text;
      if ((x === "(" || x === "[") && this.match[k] > k) k = this.match[k];
      else if (/^(<|<=|>|>=|==|!=)$/.test(x) && t[k].kind === "op") {
        if (op >= 0) return [env, env];
        op = k;
      }
    }
    if (op < 0) return [env, env];
    const [l0, l1] = this.strip(from, op);
    const [r0, r1] = this.strip(op + 1, to);
    let name: string | null = null;
    let other: Val = {};
    let rel = t[op].text;
    const flip: Record<string, string> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!=" };
    if (l1 === l0 + 1 && t[l0].kind === "id") {
      name = t[l0].text;
      other = this.evaluate(r0, r1, env);
    } else if (r1 === r0 + 1 && t[r0].kind === "id") {
      name = t[r0].text;
      other = this.evaluate(l0, l1, env);
      rel = flip[rel];
    }
    const cur = name ? env.get(name) : undefined;
    if (!name || !known(cur) || !known(other) || other.lo !== other.hi || cur.bytes !== undefined) return [env, env];
    const c = other.lo;
    const range = (lo: number, hi: number): Env => {
      if (lo > hi) return UNREACHED;
      const out = new Map(env);
      out.set(name as string, { ...cur, lo, hi });
      return out;
    };
    switch (rel) {
      case "<": return [range(cur.lo, Math.min(cur.hi, c - 1)), range(Math.max(cur.lo, c), cur.hi)];
      case "<=": return [range(cur.lo, Math.min(cur.hi, c)), range(Math.max(cur.lo, c + 1), cur.hi)];
      case ">": return [range(Math.max(cur.lo, c + 1), cur.hi), range(cur.lo, Math.min(cur.hi, c))];
      case ">=": return [range(Math.max(cur.lo, c), cur.hi), range(cur.lo, Math.min(cur.hi, c - 1))];
      case "==": return [c < cur.lo || c > cur.hi ? UNREACHED : range(c, c), cur.lo === c && cur.hi === c ? UNREACHED : env];
      case "!=": return [cur.lo === c && cur.hi === c ? UNREACHED : env, c < cur.lo || c > cur.hi ? UNREACHED : range(c, c)];
      default: return [env, env];
    }
  }

  private isPointer(name: string, env: Env): boolean {
    const ct = this.vars.get(name);
    if (ct) return this.types.resolve(ct).ptr > 0;
    return env.get(name)?.nul !== undefined;
  }

  private splitTop(from: number, to: number, op: string): [number, number][] {
    const out: [number, number][] = [];
    let s = from;
    for (let k = from; k < to; k++) {
      const x = this.t[k].text;
      if ((x === "(" || x === "[") && this.match[k] > k) k = this.match[k];
      else if (x === op) {
        out.push([s, k]);
        s = k + 1;
      }
    }
    out.push([s, to]);
    return out;
  }

  /**
   * An expression's effects and checks, in evaluation order: calls (copies, inputs, sinks),
   * dereferences, indexes, then the assignments at its top level.
   */
  expression(from: number, to: number, env: Env): Env {
    const t = this.t;
    if (from >= to) return env;
    // comma operator / several expressions
    const parts = this.splitTop(from, to, ",");
    if (parts.length > 1) {
      for (const [p, q] of parts) env = this.expression(p, q, env);
      return env;
    }
    // assignments nested in parentheses (`if (!(p = f()))`) happen first
    for (let k = from; k < to; k++) {
      const x = t[k].text;
      if (t[k].kind !== "op" || !/^([+\-*/%&|^]|<<|>>)?=$/.test(x) || t[k - 1]?.kind !== "id") continue;
      let d = 0;
      let open = -1;
      for (let j = k - 1; j >= from; j--) {
        const y = t[j].text;
        if (y === ")" || y === "]") d++;
        else if (y === "(" || y === "[") {
          if (d === 0) {
            open = j;
            break;
          }
          d--;
        }
      }
      if (open < 0 || t[open].text !== "(" || this.match[open] <= k || this.match[open] > to) continue;
      // the assigned expression starts after the last `(` or `,` before it
      let s0 = k - 1;
      while (s0 > open + 1 && /^(->|\.)$/.test(t[s0 - 1].text)) s0 -= 2;
      env = this.expression(s0, this.match[open], env);
      k = this.match[open];
    }
    // assignment at the top level: the right side first
    for (let k = from; k < to; k++) {
      const x = t[k].text;
      if ((x === "(" || x === "[") && this.match[k] > k) {
        k = this.match[k];
        continue;
      }
      if (t[k].kind === "op" && /^([+\-*/%&|^]|<<|>>)?=$/.test(x)) {
        env = this.expression(k + 1, to, env);
        env = this.checks(from, k, env, true);
        const lhs = this.strip(from, k);
        if (lhs[1] === lhs[0] + 1 && t[lhs[0]].kind === "id") {
          const name = t[lhs[0]].text;
          if (x === "=") return this.assign(name, lhs[0], k + 1, to, env);
          // compound assignment: the new value from the old one
          const old = this.variable(name, env);
          const rhs = this.evaluate(k + 1, to, env);
          const out = new Map(env);
          const op = x.slice(0, -1);
          if (known(old) && known(rhs) && (op === "+" || op === "-" || op === "*")) {
            const f = (p: number, q: number) => (op === "+" ? p + q : op === "-" ? p - q : p * q);
            const vs = [f(old.lo, rhs.lo), f(old.lo, rhs.hi), f(old.hi, rhs.lo), f(old.hi, rhs.hi)];
            const v: Val = { lo: Math.min(...vs), hi: Math.max(...vs), taint: old.taint || rhs.taint };
            this.checkRange(name, v, k, op);
            out.set(name, v);
          } else out.set(name, { taint: old.taint || rhs.taint });
          return out;
        }
        // p[k] = 0: a terminator; p[k] = v: an element written
        if (t[lhs[0]].kind === "id" && t[lhs[0] + 1]?.text === "[" && this.match[lhs[0] + 1] === lhs[1] - 1 && x === "=") {
          return this.elementStore(t[lhs[0]].text, lhs[0] + 2, lhs[1] - 1, k + 1, to, env);
        }
        // *p = v / p->m = v: nothing tracked
        return env;
      }
    }
    env = this.checks(from, to, env, false);
    env = this.effects(from, to, env);
    // x++, --x: the next value, or unknown
    for (let k = from; k < to; k++) {
      if ((t[k].text !== "++" && t[k].text !== "--") || t[k].kind !== "op") continue;
      const at = t[k - 1]?.kind === "id" && t[k - 2]?.text !== "." && t[k - 2]?.text !== "->" ? k - 1 : t[k + 1]?.kind === "id" && t[k + 2]?.text !== "." && t[k + 2]?.text !== "->" && t[k + 2]?.text !== "[" ? k + 1 : -1;
      if (at < 0) continue;
      const name = t[at].text;
      const old = env.get(name);
      const out = new Map(env);
      const d = t[k].text === "++" ? 1 : -1;
      if (known(old) && !this.arrays.has(name) && old.bytes === undefined) {
        const v: Val = { ...old, lo: old.lo + d, hi: old.hi + d };
        this.checkRange(name, v, at, t[k].text);
        out.set(name, v);
      } else if (old) out.set(name, { taint: old.taint, wide: old.wide });
      env = out;
    }
    return env;
  }

  /** x = rhs: the value of x from now on (with overflow, taint and pointer facts). */
  private assign(name: string, nameAt: number, from: number, to: number, env: Env): Env {
    const t = this.t;
    const v = { ...this.evaluate(from, to, env) };
    const ct = this.vars.get(name);
    // `p = (T *) malloc(n)`: elements of p's type
    if (ct && v.bytes !== undefined) {
      const rt = this.types.resolve(ct);
      const el = this.types.elemSize(ct);
      if (rt.ptr > 0 && el && rt.base !== "void" && v.elem === 1 && el !== 1 && !this.arrays.has(name)) {
        // a cast in the initializer already set elem
        const cast = t[from]?.text === "(" && this.isCast(from);
        if (!cast) v.elem = el;
      }
    }
    // a string copied by pointer keeps its facts; an array never changes capacity
    this.checkRange(name, v, nameAt, this.arithmeticIn(from, to));
    const out = new Map(env);
    out.set(name, v);
    return out;
  }

  /** The arithmetic operator an expression computes with at its top level (for messages), or "". */
  private arithmeticIn(from: number, to: number): string {
    const op = this.topOperator(...this.strip(from, to));
    const x = op >= 0 ? this.t[op].text : "";
    return x === "+" || x === "*" || x === "-" || x === "<<" ? x : "";
  }

  /** CWE-190: a computed value that cannot fit the variable's type. */
  private checkRange(name: string, v: Val, at: number, op: string): void {
    if (!op || !known(v)) return;
    const r = intRange(this.vars.get(name), this.unsignedVars.has(name));
    if (!r) return;
    if (v.lo > r[1] || v.hi > r[1] && v.lo === v.hi) {
      this.report("CWE-190", at, "c-constant-overflow", `'${op}' gives ${v.hi}, past the largest value of '${name}' (${r[1]})`);
    } else if (op !== "-" && (v.hi < r[0] || v.lo < r[0] && v.lo === v.hi)) {
      this.report("CWE-190", at, "c-constant-overflow", `'${op}' gives ${v.lo}, below the smallest value of '${name}'`);
    }
  }

  /** p[idx] = value: a terminator when value is 0. */
  private elementStore(name: string, i0: number, i1: number, v0: number, v1: number, env: Env): Env {
    const idx = this.evaluate(i0, i1, env);
    const val = this.evaluate(v0, v1, env);
    const cur = this.variable(name, env);
    const out = new Map(env);
    const next: Val = { ...(env.get(name) ?? {}) };
    if (val.taint) next.taint = true;
    if (known(idx) && idx.lo === idx.hi && known(val) && val.lo === 0 && val.hi === 0) {
      const k = idx.lo;
      // the first NUL is at k when every element before it is known to be non-NUL
      if (cur.slen !== undefined && cur.slen < k) next.slen = cur.slen;
      else if ((cur.fill ?? 0) >= k || cur.slen !== undefined) next.slen = k;
      else next.slen = undefined;
      next.unterm = undefined;
    } else if (!(known(val) && val.lo !== 0)) {
      next.slen = undefined;
    }
    out.set(name, next);
    return out;
  }

  /** Checks on the operands of [from, to): dereferences, indexes, NULL tests, calls' arguments. */
  private checks(from: number, to: number, env: Env, isLhs: boolean): Env {
    const t = this.t;
    let out = env;
    for (let k = from; k < to; k++) {
      const x = t[k];
      // sizeof's operand is never evaluated
      if (x.text === "sizeof") {
        if (t[k + 1]?.text === "(" && this.match[k + 1] > k) k = this.match[k + 1];
        else k++;
        continue;
      }
      if (x.kind !== "id" || t[k - 1]?.text === "." || t[k - 1]?.text === "->") continue;
      const name = x.text;
      const v = env.get(name);
      const next = t[k + 1]?.text;
      // dereferences
      const unaryStar = t[k - 1]?.text === "*" && (k - 1 === from || /^(op)$/.test(t[k - 2]?.kind ?? "") && !/^[)\]]$/.test(t[k - 2]?.text ?? "") || t[k - 2]?.text === "return");
      const deref = next === "->" || next === "[" || unaryStar;
      if (deref && this.isPointer(name, env) && !this.arrays.has(name)) {
        if (v?.nul === true && !this.guardedBefore(from, k, name)) {
          this.report("CWE-476", k, "c-null-deref", `'${name}' is NULL here and is dereferenced`);
        }
        // remembered for a NULL test that comes too late
        if (v?.nul === undefined && v?.derefAt === undefined && !this.guardedBefore(from, k, name)) {
          if (out === env) out = new Map(env);
          out.set(name, { ...(v ?? {}), derefAt: k });
        }
      }
      if (next === "[" && this.match[k + 1] > k + 1) {
        const close = this.match[k + 1];
        this.index(name, k, close, env, isLhs && close + 1 === to);
      }
      // bitwise & / | between a NULL test and a dereference
      if ((next === "!=" || next === "==") && /^(NULL|0|nullptr)$/.test(t[k + 2]?.text ?? "")) this.bitwiseNullTest(k, from, to);
    }
    return out;
  }

  /** `p && p->x`, `p != NULL && p->x`, `!p || p->x` earlier in the same expression. */
  private guardedBefore(from: number, at: number, name: string): boolean {
    const t = this.t;
    for (let k = from; k < at; k++) {
      if (t[k].text !== name) continue;
      const n1 = t[k + 1]?.text;
      const n2 = t[k + 2]?.text;
      const n3 = t[k + 3]?.text;
      const close = (j: number) => (t[j]?.text === ")" ? j + 1 : j);
      if (n1 === "&&" || (n1 === "!=" && /^(NULL|0|nullptr)$/.test(n2 ?? "") && (t[close(k + 3)]?.text === "&&"))) return true;
      if (t[k - 1]?.text === "!" && t[close(k + 1)]?.text === "||") return true;
      if (n1 === "==" && /^(NULL|0|nullptr)$/.test(n2 ?? "") && (n3 === "||" || t[close(k + 3)]?.text === "||")) return true;
      if (n1 === ")" && t[k + 2]?.text === "&&") return true;
    }
    return false;
  }

  private bitwiseNullTest(k: number, from: number, to: number): void {
    const t = this.t;
    const name = t[k].text;
    // the test's operand: `p != NULL` maybe in parentheses
    let end = k + 3;
    if (t[k - 1]?.text === "(" && t[end]?.text === ")") end++;
    const op = t[end]?.text;
    if (op !== "&" && op !== "|") return;
    for (let j = end + 1; j < to; j++) {
      if (t[j].text === name && (t[j + 1]?.text === "->" || t[j + 1]?.text === "[" || t[j - 1]?.text === "*")) {
        this.report("CWE-476", j, "c-null-test-no-short-circuit", `'${t[end].text}' does not short-circuit: '${name}' is dereferenced even when the NULL test fails`);
        return;
      }
    }
  }

  /** CWE-787/125: an index with a known value past a known capacity. */
  private index(name: string, at: number, close: number, env: Env, write: boolean): void {
    const t = this.t;
    const base = this.variable(name, env);
    if (base.bytes === undefined || !base.elem) return;
    const idx = this.evaluate(at + 2, close, env);
    if (!known(idx)) return;
    const count = Math.floor(base.bytes / base.elem);
    const after = t[close + 1]?.text ?? "";
    const isWrite = write || /^([+\-*/%&|^]|<<|>>)?=$/.test(after) && after !== "==" || after === "++" || after === "--";
    if (idx.hi >= count || idx.lo < 0) {
      const cwe = isWrite ? "CWE-787" : "CWE-125";
      this.report(cwe, at, "c-index-past-capacity",
        `'${name}[${idx.lo === idx.hi ? idx.lo : `${idx.lo}..${idx.hi}`}]' is outside its ${count} elements`);
    }
  }

  /** Calls' effects on their arguments (copies, inputs, terminators) and the checks they need. */
  private effects(from: number, to: number, env: Env): Env {
    const t = this.t;
    for (let k = from; k < to; k++) {
      if (t[k].kind !== "id" || t[k + 1]?.text !== "(" || t[k - 1]?.text === "." || t[k - 1]?.text === "->") continue;
      const close = this.match[k + 1];
      if (close <= k + 1) continue;
      // inner calls first
      env = this.effects(k + 2, close, env);
      env = this.call(k, env);
      k = close;
    }
    return env;
  }

  private call(at: number, env: Env): Env {
    const t = this.t;
    const name = t[at].text;
    const args = this.args(at + 1);
    const val = (n: number) => (args[n] ? this.evaluate(args[n][0], args[n][1], env) : {});
    const root = (n: number) => (args[n] ? this.rootVar(args[n][0], args[n][1]) : null);
    const out = new Map(env);
    const update = (n: string, f: (v: Val) => Val) => out.set(n, f({ ...(out.get(n) ?? {}) }));

    // arguments used as strings: unterminated copies, wide/narrow mismatches, NULL arguments
    for (let n = 0; n < args.length; n++) {
      const r = root(n);
      if (!r?.exact) continue;
      const v = this.variable(r.name, env);
      if (v.unterm !== undefined && !RAW_BUFFER_CALLS.test(name)) {
        this.report("CWE-125", at, "c-unterminated-string", `'${r.name}' is not NUL-terminated after the copy on line ${t[v.unterm].line} but ${name}() reads it as a string`);
      }
      if (v.wide === true && NARROW_STRING_CALLS.test(name) && this.narrowArg(name, n)) {
        this.report("CWE-787", at, "c-wide-narrow-mismatch", `${name}() treats the wide string '${r.name}' as a narrow one (wrong length)`);
      }
      if (v.wide === false && WIDE_STRING_CALLS.test(name) && this.narrowArg(name, n)) {
        this.report("CWE-787", at, "c-wide-narrow-mismatch", `${name}() treats the narrow string '${r.name}' as a wide one (wrong length)`);
      }
      if (v.nul === true && /^(strlen|strcpy|strcat|strcmp|strncmp|strncpy|memcpy|memmove|memset|memcmp|wcslen|wcscpy|fputs|puts|strchr|strstr|atoi)$/.test(name) &&
        (n === 0 || /^(strcmp|strncmp|strcpy|strcat|strncpy|memcpy|memmove|memcmp|strstr)$/.test(name))) {
        this.report("CWE-476", at, "c-null-deref", `'${r.name}' is NULL here and ${name}() dereferences it`);
      }
    }

    // CWE-078: untrusted data reaching a command
    if (COMMAND_SINKS.test(name)) {
      // popen's second argument is the mode
      const bad = args.findIndex(([p, q], n) => this.evaluate(p, q, env).taint && !(name === "popen" && n > 0));
      if (bad >= 0) this.report("CWE-078", at, "c-command-injection", `untrusted data reaches ${name}() with no whitelist or escape`);
    }
    // a whitelist test or an escape: what it looked at counts as checked from here on
    if (COMMAND_SANITIZERS.test(name) || /^(strpbrk|strspn|strcspn|wcspbrk|wcsspn|wcscspn)$/.test(name)) {
      for (let n = 0; n < args.length; n++) {
        const r = root(n);
        if (r) update(r.name, (v) => ({ ...v, taint: undefined }));
      }
    }

    // untrusted input into a buffer
    const inArg = INPUT_BUFFER_ARG[name];
    if (inArg !== undefined && inArg >= 0) {
      const r = root(inArg);
      if (r) update(r.name, (v) => ({ ...v, taint: true, slen: undefined, unterm: undefined }));
    }
    if (/scanf$/.test(name)) {
      const first = name === "scanf" || name === "wscanf" ? 1 : 2;
      for (let n = first; n < args.length; n++) {
        const r = root(n);
        if (r) update(r.name, () => ({ taint: true }));
      }
    }
    const copy = COPY_TAINT[name];
    if (copy && copy[0] >= 0) {
      const srcTaint = args.slice(copy[1]).some(([p, q]) => this.evaluate(p, q, env).taint);
      const r = root(copy[0]);
      if (r && srcTaint) update(r.name, (v) => ({ ...v, taint: true }));
    }

    // sizes of copies into and out of known buffers
    if (/^(memcpy|memmove|wmemcpy|wmemmove|memset|wmemset|strncpy|wcsncpy|strncat|wcsncat|fgets|fgetws|snprintf|swprintf|read|recv|fread)$/.test(name)) {
      this.sizedCopy(name, at, args, env, out);
    }
    if (/^(strcpy|wcscpy|strcat|wcscat|stpcpy)$/.test(name) && args.length === 2) {
      const dst = val(0);
      const src = val(1);
      const dr = root(0);
      const cat = /cat$/.test(name);
      const elem = name.startsWith("w") ? 4 : 1;
      const need = src.slen !== undefined ? (src.slen + 1 + (cat ? dst.slen ?? NaN : 0)) * elem : NaN;
      const room = dst.bytes ?? (src.bytes !== undefined ? NaN : NaN);
      if (Number.isFinite(need) && room !== undefined && Number.isFinite(room)) {
        if (need > room) this.report("CWE-787", at, "c-copy-past-capacity", `${name}() writes ${need} bytes into '${dr?.name ?? "buffer"}' of ${room}`);
        else this.safeCopies.add(at);
      } else if (!cat && dst.bytes !== undefined && src.bytes !== undefined && dst.elem === src.elem) {
        // an array copied into one at least as large always fits
        if (src.bytes <= dst.bytes) this.safeCopies.add(at);
        else if (src.slen === undefined && args[1] && this.rootVar(args[1][0], args[1][1])?.exact) {
          this.report("CWE-787", at, "c-copy-past-capacity", `${name}() may copy up to ${src.bytes} bytes into '${dr?.name ?? "buffer"}' of ${dst.bytes}`);
        }
      }
      if (dr?.exact) {
        const cur = this.variable(dr.name, out);
        update(dr.name, (v) => ({
          ...v,
          slen: src.slen !== undefined ? (cat ? (cur.slen !== undefined ? cur.slen + src.slen : undefined) : src.slen) : undefined,
          unterm: undefined,
          taint: v.taint || src.taint,
        }));
      }
    }
    if (/^(sprintf|swprintf|snprintf)$/.test(name)) {
      const r = root(0);
      if (r?.exact) update(r.name, (v) => ({ ...v, slen: undefined, unterm: undefined }));
    }

    // a variable passed by address may be changed by the call
    for (let n = 0; n < args.length; n++) {
      const [p0, q0] = args[n];
      const [p, q] = this.strip(p0, q0);
      if (t[p].text === "&" && t[p + 1]?.kind === "id" && q === p + 2 && !/scanf$/.test(name)) {
        const nm = t[p + 1].text;
        if (!this.arrays.has(nm)) update(nm, (v) => ({ taint: v.taint }));
      }
    }
    return out;
  }

  /** `a.b`, `a->b->c` spanning [from, to) as text, or null. */
  private memberPath(from: number, to: number): string | null {
    const t = this.t;
    if (t[from]?.kind !== "id" || to - from < 3 || (to - from) % 2 === 0) return null;
    for (let k = from + 1; k < to; k += 2) if (!(t[k].text === "->" || t[k].text === ".") || t[k + 1]?.kind !== "id") return null;
    return t.slice(from, to).map((x) => x.text).join("");
  }

  /** Is argument n of a string call a string the call measures or copies (not a count)? */
  private narrowArg(name: string, n: number): boolean {
    if (/^(strlen|wcslen|puts|fputs|fputws|atoi|atol|strtol|strdup|wcsdup)$/.test(name)) return n === 0;
    return n <= 1;
  }

  private sizedCopy(name: string, at: number, args: [number, number][], env: Env, out: Env): void {
    const sizeArg = /^(fgets|fgetws|snprintf|swprintf)$/.test(name) ? 1 : name === "fread" ? -1 : 2;
    const dstArg = /^(read|recv)$/.test(name) ? 1 : 0;
    if (args.length < (name === "fread" ? 3 : Math.max(sizeArg, dstArg) + 1)) return;
    const nv = sizeArg >= 0 && args[sizeArg] ? this.evaluate(args[sizeArg][0], args[sizeArg][1], env)
      : (() => {
        const a = this.evaluate(args[1][0], args[1][1], env);
        const b = this.evaluate(args[2][0], args[2][1], env);
        return known(a) && known(b) ? { lo: a.lo * b.lo, hi: a.hi * b.hi } : {};
      })();
    const dst = args[dstArg] ? this.evaluate(args[dstArg][0], args[dstArg][1], env) : {};
    const dr = args[dstArg] ? this.rootVar(args[dstArg][0], args[dstArg][1]) : null;
    // a member array (`s.buf`, `p->name`) has the capacity its structure declares
    const member = args[dstArg] ? this.memberPath(...this.strip(args[dstArg][0], args[dstArg][1])) : null;
    // element counts (wide functions count wchar_t; str* count the destination's characters)
    const unit = /^(wmem|wcs|fgetws|swprintf)/.test(name) ? 4 : /^(strn|fgets|snprintf)/.test(name) ? (dst.elem ?? 1) : 1;
    if (!known(nv)) return;
    const bytes = nv.hi * unit;
    const dstName = dr?.exact ? dr.name : member;
    if (dstName && dst.bytes !== undefined && bytes > dst.bytes) {
      this.report("CWE-787", at, "c-copy-past-capacity", `${name}() writes ${bytes} bytes into '${dstName}' of ${dst.bytes}`);
    } else if (dstName && dst.bytes !== undefined) this.safeCopies.add(at);
    if (/^(memcpy|memmove|wmemcpy|wmemmove|strncpy|wcsncpy)$/.test(name) && args[1]) {
      const src = this.evaluate(args[1][0], args[1][1], env);
      const sr = this.rootVar(args[1][0], args[1][1]);
      // strncpy stops reading at the source's terminator
      const reads = /ncpy$/.test(name) && src.slen !== undefined ? Math.min(bytes, (src.slen + 1) * unit) : bytes;
      if ((sr?.exact || this.stringLiteral(...this.strip(args[1][0], args[1][1]))) && src.bytes !== undefined && reads > src.bytes) {
        this.report("CWE-125", at, "c-read-past-capacity", `${name}() reads ${reads} bytes from '${sr?.name ?? "a literal"}' of ${src.bytes}`);
      }
      // the destination's string facts after copying `count` elements
      if (dr?.exact && nv.lo === nv.hi) {
        const count = /^(mem)/.test(name) && dst.elem ? Math.floor(bytes / dst.elem) : nv.lo;
        this.copiedInto(dr.name, count, src, at, out);
      }
    }
    if (/^(memset|wmemset)$/.test(name) && dr?.exact && nv.lo === nv.hi) {
      const c = this.evaluate(args[1][0], args[1][1], env);
      const count = name === "memset" && dst.elem ? Math.floor(bytes / dst.elem) : nv.lo;
      const cur = out.get(dr.name) ?? {};
      if (known(c) && c.lo === 0 && c.hi === 0) out.set(dr.name, { ...cur, slen: 0, zeroed: true, unterm: undefined });
      else if (known(c) && c.lo > 0) {
        out.set(dr.name, { ...cur, fill: Math.max(count, cur.fill ?? 0), slen: cur.slen !== undefined && cur.slen >= count ? cur.slen : undefined });
      }
    }
    if (/^(fgets|fgetws|snprintf|swprintf)$/.test(name) && dr?.exact) {
      out.set(dr.name, { ...(out.get(dr.name) ?? {}), slen: undefined, unterm: undefined });
    }
  }

  /** `count` elements of `src` copied to the start of `dst`: is dst still terminated? */
  private copiedInto(dst: string, count: number, src: Val, at: number, out: Env): void {
    const cur = this.variable(dst, out);
    const next: Val = { ...(out.get(dst) ?? {}), taint: out.get(dst)?.taint || src.taint };
    if (src.slen !== undefined && src.slen < count) {
      // the source's terminator was copied
      next.slen = src.slen;
      next.unterm = undefined;
    } else if (src.slen !== undefined) {
      // `count` non-NUL elements: a terminator must already follow them
      next.fill = Math.max(count, cur.fill ?? 0);
      if (cur.slen !== undefined && cur.slen >= count) next.slen = cur.slen;
      else if ((cur.zeroed || this.zeroFilled(dst, out)) && cur.bytes !== undefined && cur.elem && count < cur.bytes / cur.elem) next.slen = count;
      else {
        next.slen = undefined;
        next.unterm = at;
      }
    } else next.slen = undefined;
    out.set(dst, next);
  }

  private zeroFilled(name: string, env: Env): boolean {
    return env.get(name)?.zeroed === true;
  }

}

function unescapedLength(lit: string): number {
  const s = lit.slice(1, -1);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\") {
      i++;
      if (s[i] === "x") while (/[0-9a-fA-F]/.test(s[i + 1] ?? "")) i++;
      else if (/[0-7]/.test(s[i])) {
        let d = 0;
        while (d < 2 && /[0-7]/.test(s[i + 1] ?? "")) {
          i++;
          d++;
        }
      }
    }
    n++;
  }
  return n;
}

/** Program-wide: the types and globals every function sees. */
export interface ProgramFacts {
  types: TypeTable;
  globals: Declarator[];
  macros: Macros;
}

export function programFacts(t: Token[], match: Int32Array, fns: readonly Fn[], macros: Macros, headerToks?: { toks: Token[]; match: Int32Array }): ProgramFacts {
  try {
    return collectProgram(t, match, fns, macros, headerToks);
  } catch {
    return { types: new TypeTable(), globals: [], macros };
  }
}

function collectProgram(t: Token[], match: Int32Array, fns: readonly Fn[], macros: Macros, headerToks?: { toks: Token[]; match: Int32Array }): ProgramFacts {
  const types = new TypeTable();
  if (headerToks) collectTypes(headerToks.toks, headerToks.match, types, macros);
  collectTypes(t, match, types, macros);
  // file-scope declarations outside the functions
  const globals: Declarator[] = [];
  const inFn = new Uint8Array(t.length);
  for (const f of fns) {
    const start = match[f.open - 1] >= 0 ? match[f.open - 1] : f.open;
    for (let k = Math.max(0, start - 1); k <= f.close && k < t.length; k++) inFn[k] = 1;
  }
  let s = 0;
  for (let k = 0; k < t.length; k++) {
    if (inFn[k]) {
      s = k + 1;
      continue;
    }
    if (t[k].text === "{" && match[k] > k) k = match[k];
    else if (t[k].text === ";") {
      if (t[s]?.text !== "typedef") for (const d of parseDeclaration(t, match, s, k, types, macros)?.decls ?? []) globals.push(d);
      s = k + 1;
    }
  }
  return { types, globals, macros };
}

/** Runs the value rules on one function (none when its code is too broken to walk). */
export function valueFacts(t: Token[], match: Int32Array, fn: Fn, program: ProgramFacts): ValueFacts {
  try {
    return walkFunction(t, match, fn, program);
  } catch {
    return { findings: [], safeCopies: new Set() };
  }
}

function walkFunction(t: Token[], match: Int32Array, fn: Fn, program: ProgramFacts): ValueFacts {
  const w = new Walker(t, match, program.types, program.macros);
  for (const g of program.globals) w.declare(g);
  // parameters: their declared types (values unknown); main's argv is untrusted input
  const pOpen = match[fn.open - 1];
  const env: Env = new Map();
  if (pOpen >= 0) {
    let s = pOpen + 1;
    const isMain = t[pOpen - 1]?.text === "main";
    let n = 0;
    for (let k = pOpen + 1; k <= fn.open - 1; k++) {
      if ((t[k].text === "(" || t[k].text === "[") && match[k] > k && k !== fn.open - 1 && match[k] < fn.open - 1) {
        k = match[k];
        continue;
      }
      if (t[k].text !== "," && k !== fn.open - 1) continue;
      const d = parseDeclaration(t, match, s, k, program.types, program.macros);
      for (const decl of d?.decls ?? []) {
        // an array parameter is a pointer
        const type = decl.type.dims.length > 0 ? { ...decl.type, ptr: decl.type.ptr + 1, dims: decl.type.dims.slice(1) } : decl.type;
        w.declare({ ...decl, type });
        if (isMain && n === 1) env.set(decl.name, { taint: true });
      }
      n++;
      s = k + 1;
    }
  }
  w.block(fn.open + 1, fn.close, env);
  return { findings: w.findings, safeCopies: w.safeCopies };
}
