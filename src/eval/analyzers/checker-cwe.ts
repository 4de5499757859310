// One table: which CWE each external tool's checker or test id is judged as. Every analyzer that
// wraps a tool (bandit, cppcheck, clang, gcc) maps its ids here, so a reader sees in one place what
// counts as a finding of which weakness. Ids a tool reports that name no weakness of the code
// (style, imports, portability) are absent: they are not findings.

/**
 * Bandit test id -> CWE. Tests that flag an import or any use of a module (B4xx, B603 "subprocess
 * without shell", B607 "partial path") are left out. Bandit files hard-coded passwords under CWE-259,
 * a child of CWE-798.
 */
export const BANDIT_CWE: Readonly<Record<string, string>> = {
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
};

/** cppcheck message id -> CWE. Out-of-bounds ids (CPPCHECK_OOB_IDS) are split into read/write by the line. */
export const CPPCHECK_CWE: Readonly<Record<string, string>> = {
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
};

export const CPPCHECK_OOB_IDS: ReadonlySet<string> = new Set([
  "arrayIndexOutOfBounds", "arrayIndexOutOfBoundsCond", "bufferAccessOutOfBounds", "outOfBounds", "negativeIndex",
  "negativeArraySize", "pointerOutOfBounds", "ctuArrayIndex", "insecureCmdLineArgs", "bufferNotZeroTerminated",
]);
