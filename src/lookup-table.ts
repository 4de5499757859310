// Constant tables looked up by names that come from outside: identifiers in analysed code, file
// extensions, tool rule ids. A plain object literal also answers for `toString`, `constructor` and
// every other name on Object.prototype, so a generated C call `toString(a, b)` was taken for a
// table entry and crashed the analyzer in the middle of an evaluation. These tables have no
// prototype, and are frozen.
export function lookupTable<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}
