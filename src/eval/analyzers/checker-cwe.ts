// One table: which CWE each external tool's checker or test id is judged as. Every analyzer that
// wraps a tool (bandit, cppcheck, clang, gcc) maps its ids here, so a reader sees in one place what
// counts as a finding of which weakness. Ids a tool reports that name no weakness of the code
// (style, imports, portability) are absent: they are not findings.
import { lookupTable } from "../../lookup-table.ts";

/**
 * Bandit test id -> CWE. Tests that flag an import or any use of a module (B4xx, B603 "subprocess
 * without shell", B607 "partial path") are left out. Bandit files hard-coded passwords under CWE-259,
 * a child of CWE-798.
 */
export const BANDIT_CWE: Readonly<Record<string, string>> = lookupTable<string>({
  B102: "CWE-078", // exec used
  B103: "CWE-732", // set_bad_file_permissions
  B104: "CWE-605", // binding to all interfaces
  B105: "CWE-798", B106: "CWE-798", B107: "CWE-798", // hard-coded password string / argument / default
  B108: "CWE-377", // hard-coded temporary file
  B201: "CWE-094", // flask debug=True
  B202: "CWE-022", // tarfile extractall without member checks (bandit >= 1.7.5)
  B301: "CWE-502", B302: "CWE-502", // pickle, marshal
  B303: "CWE-327", B304: "CWE-327", B305: "CWE-327", B324: "CWE-327",
  B306: "CWE-377", // mktemp
  B307: "CWE-078", // eval
  B308: "CWE-079", // mark_safe
  B310: "CWE-022", // urlopen of arbitrary schemes (file://)
  B311: "CWE-330",
  B312: "CWE-319", B321: "CWE-319",
  B313: "CWE-611", B314: "CWE-611", B315: "CWE-611", B316: "CWE-611", B317: "CWE-611", B318: "CWE-611",
  B319: "CWE-611", B320: "CWE-611",
  B323: "CWE-295", B501: "CWE-295",
  B502: "CWE-327", B503: "CWE-327", B504: "CWE-327", B505: "CWE-326",
  B506: "CWE-502", // yaml.load
  B507: "CWE-295",
  B601: "CWE-078", B602: "CWE-078", B604: "CWE-078", B605: "CWE-078", B609: "CWE-078",
  B608: "CWE-089", B610: "CWE-089", B611: "CWE-089",
  B701: "CWE-079", B702: "CWE-079", B703: "CWE-079", B704: "CWE-079",
});

/** cppcheck message id -> CWE. Out-of-bounds ids (CPPCHECK_OOB_IDS) are split into read/write by the line. */
export const CPPCHECK_CWE: Readonly<Record<string, string>> = lookupTable<string>({
  nullPointer: "CWE-476",
  nullPointerOutOfMemory: "CWE-476",
  nullPointerRedundantCheck: "CWE-476",
  nullPointerArithmetic: "CWE-476",
  ctunullpointer: "CWE-476",
  deallocuse: "CWE-416",
  doubleFree: "CWE-416",
  deallocret: "CWE-416",
  useClosedFile: "CWE-416",
  integerOverflow: "CWE-190",
  integerOverflowCond: "CWE-190",
});

export const CPPCHECK_OOB_IDS: ReadonlySet<string> = new Set([
  "arrayIndexOutOfBounds", "arrayIndexOutOfBoundsCond", "bufferAccessOutOfBounds", "outOfBounds", "negativeIndex",
  "negativeArraySize", "pointerOutOfBounds", "ctuArrayIndex", "insecureCmdLineArgs", "bufferNotZeroTerminated",
]);

/**
 * Clang Static Analyzer checker -> CWE (clang 16 ids). Checkers whose one id covers several
 * weaknesses are split by message in clangCwe(); out-of-bounds accesses by the access at the
 * reported place (accessIsWrite) or, without one, on the line (outOfBoundsCwe).
 */
export const CLANG_CWE: Readonly<Record<string, string>> = lookupTable<string>({
  "core.NullDereference": "CWE-476",
  "core.NonNullParamChecker": "CWE-476",
  "unix.cstring.NullArg": "CWE-476",
  "alpha.core.NullDereference": "CWE-476",
  "unix.Malloc": "CWE-416", // use after free, double free (leaks are split off by message)
  "cplusplus.NewDelete": "CWE-416",
  "alpha.security.ArrayBoundV2": "out-of-bounds",
  "alpha.security.ArrayBound": "out-of-bounds",
  "core.uninitialized.ArraySubscript": "out-of-bounds",
  "alpha.unix.cstring.OutOfBounds": "out-of-bounds",
  "unix.cstring.BadSizeArg": "CWE-787",
  "alpha.security.ReturnPtrRange": "CWE-125",
  "alpha.security.MallocOverflow": "CWE-190",
  "alpha.security.taint.TaintPropagation": "taint", // split by message: sizes (190), commands (078)
  // the value stored no longer fits its type (the checker reports known values only): the wrapped
  // result of an overflowing computation; a lost sign is CWE-195
  "alpha.core.Conversion": "conversion",
  "core.DivideZero": "CWE-369",
  "core.uninitialized.Assign": "CWE-457",
  "core.uninitialized.Branch": "CWE-457",
  "core.uninitialized.UndefReturn": "CWE-457",
  "core.CallAndMessage": "CWE-457",
  "core.StackAddressEscape": "CWE-562",
});

/**
 * gcc warning option -> CWE: -fanalyzer's checkers (gcc also names a CWE in its metadata; this
 * table decides) and the middle end's memory-safety warnings of gcc.ts's -O2 pass. Options are
 * looked up without their `=LEVEL` (gcc reports `-Wstringop-overflow=`).
 */
export const GCC_CWE: Readonly<Record<string, string>> = lookupTable<string>({
  "-Wanalyzer-null-dereference": "CWE-476",
  "-Wanalyzer-possible-null-dereference": "CWE-476",
  "-Wanalyzer-null-argument": "CWE-476",
  "-Wanalyzer-possible-null-argument": "CWE-476",
  "-Wanalyzer-deref-before-check": "CWE-476",
  "-Wanalyzer-use-after-free": "CWE-416",
  "-Wanalyzer-double-free": "CWE-416", // CWE-415, judged as a use of freed memory like cppcheck's doubleFree
  "-Wanalyzer-use-of-pointer-in-stale-stack-frame": "CWE-416",
  "-Wanalyzer-out-of-bounds": "out-of-bounds",
  "-Wanalyzer-tainted-array-index": "out-of-bounds",
  "-Wanalyzer-tainted-offset": "out-of-bounds",
  "-Wanalyzer-tainted-size": "CWE-190",
  "-Wanalyzer-tainted-allocation-size": "CWE-789",
  "-Wanalyzer-shift-count-overflow": "CWE-190",
  "-Wanalyzer-free-of-non-heap": "CWE-590",
  "-Wanalyzer-use-of-uninitialized-value": "CWE-457",
  "-Wanalyzer-tainted-divisor": "CWE-369",
  // the middle end, on the optimised program
  "-Wuse-after-free": "CWE-416",
  "-Wnull-dereference": "CWE-476",
  "-Wnonnull": "CWE-476",
  "-Warray-bounds": "out-of-bounds",
  "-Wstringop-overflow": "CWE-787", // "writing N bytes into a region of size M"
  "-Wformat-overflow": "CWE-787",
  "-Wstringop-overread": "CWE-125", // "reading N bytes from a region of size M"
  "-Wfree-nonheap-object": "CWE-590",
  "-Wmismatched-dealloc": "CWE-762",
  "-Wreturn-local-addr": "CWE-562",
});

const WRITE_ON_LINE = /\]\s*([+\-*/%&|^]|<<|>>)?=(?!=)|\b(strcpy|strncpy|strcat|strncat|sprintf|snprintf|memcpy|memmove|memset|gets|fgets|read|wcscpy|wcsncpy|wcscat|wcsncat|wmemcpy|wmemset)\s*\(/;

/** An out-of-bounds access is a write (CWE-787) when the line stores through an index or copies into a buffer, else a read (CWE-125). */
export function outOfBoundsCwe(lineText: string, message = ""): string {
  if (/overflows? (the )?dest|write|store/i.test(message)) return "CWE-787";
  return WRITE_ON_LINE.test(lineText) ? "CWE-787" : "CWE-125";
}

/** Where on its line a tool reports an access: 1-based columns, `end` exclusive (absent: a point). */
export interface Place {
  start: number;
  end?: number;
}

const ASSIGN_AHEAD = /^\s*([+\-*/%&|^]|<<|>>)?=(?!=)/;

/**
 * Whether the access reported at `place` on `lineText` writes the element: the place is an
 * assignment operator (clang reports a store there), or the accessed expression there is assigned,
 * incremented or decremented. Anything else (an operand, an argument, a returned value) is a read.
 */
export function accessIsWrite(lineText: string, place: Place): boolean {
  const s = Math.max(0, place.start - 1);
  const e = Math.max(s, (place.end ?? place.start) - 1);
  const inside = lineText.slice(s, e);
  if (/^\s*(([+\-*/%&|^]|<<|>>)?=)?\s*$/.test(inside) && ASSIGN_AHEAD.test(lineText.slice(s))) return true;
  const after = lineText.slice(e);
  if (/^\s*(\+\+|--)|(\+\+|--)\s*$/.test(inside) || /^\s*(\+\+|--)/.test(after)) return true;
  return inside.trim() !== "" && ASSIGN_AHEAD.test(after);
}

function splitOutOfBounds(lineText: string, message: string, place?: Place): string {
  // the string and memory functions' messages name the access: the destination written, the source read
  if (/overflows? (the )?dest/i.test(message)) return "CWE-787";
  if (/function accesses out-of-bound/i.test(message)) return "CWE-125";
  return place ? (accessIsWrite(lineText, place) ? "CWE-787" : "CWE-125") : outOfBoundsCwe(lineText, message);
}

/** The CWE of one Clang finding, or null when it names no weakness we judge (a leak, dead store). */
export function clangCwe(checker: string, message: string, lineText: string, place?: Place): string | null {
  const mapped = CLANG_CWE[checker];
  if (!mapped) return null;
  if (checker === "unix.Malloc" || checker === "cplusplus.NewDelete") {
    if (/leak/i.test(message)) return "CWE-401";
    if (/released|freed|after it is|double|deallocated/i.test(message)) return "CWE-416";
    return null;
  }
  if (mapped === "out-of-bounds") return splitOutOfBounds(lineText, message, place);
  if (mapped === "taint") {
    if (/system call|command|exec/i.test(message)) return "CWE-078";
    if (/size|alloc|index|bound/i.test(message)) return "CWE-190";
    return null;
  }
  if (mapped === "conversion") {
    if (/loss of precision/i.test(message)) return "CWE-190";
    if (/loss of sign/i.test(message)) return "CWE-195";
    return null;
  }
  return mapped;
}

/** The CWE of one gcc diagnostic (its option with or without `=LEVEL`), or null. */
export function gccCwe(option: string, lineText: string, message = "", place?: Place): string | null {
  const mapped = GCC_CWE[option.replace(/=.*$/, "")];
  if (!mapped) return null;
  return mapped === "out-of-bounds" ? splitOutOfBounds(lineText, message, place) : mapped;
}
