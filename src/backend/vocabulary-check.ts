// Two models co-decode only when a token id means the same text in both: every token string and
// the special ids must match, or a co-decoded token would be misread by one of them.
import { VocabularyMismatchError } from "../errors.ts";
import type { Vocabulary } from "./types.ts";

export function assertSameVocabulary(a: Vocabulary, b: Vocabulary, names: [string, string]): void {
  const [na, nb] = names;
  if (a.size !== b.size) {
    throw new VocabularyMismatchError(
      `${na} has ${a.size} tokens but ${nb} has ${b.size}: models with different vocabularies cannot be co-decoded`,
      Math.min(a.size, b.size),
    );
  }
  for (let id = 0; id < a.size; id++) {
    const ta = a.tokenText(id);
    const tb = b.tokenText(id);
    if (ta !== tb) {
      throw new VocabularyMismatchError(
        `vocabularies differ first at token id ${id}: ${na} has ${JSON.stringify(ta)}, ${nb} has ${JSON.stringify(tb)}`,
        id,
      );
    }
  }
  for (const key of ["bos", "eos", "eot", "fimPrefix", "fimSuffix", "fimMiddle"] as const) {
    if (a.special[key] !== b.special[key]) {
      throw new VocabularyMismatchError(
        `special token ${key.toUpperCase()} differs: ${na} uses id ${a.special[key]}, ${nb} uses id ${b.special[key]}`,
        a.special[key] ?? b.special[key],
      );
    }
  }
}
