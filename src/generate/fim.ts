// Fill-in-the-middle prompts, built from the target's own FIM control tokens (found by llama.cpp:
// GGUF metadata, else the known spellings: Qwen2.5-Coder's <|fim_prefix|>, StarCoder's
// <fim_prefix>, DeepSeek-Coder's <｜fim▁begin｜>, CodeLlama's <PRE>...). The layout follows
// llama.cpp's server (format_infill), so an editor gets the same prompt from cosec as from
// llama-server: [BOS] [extra files] PRE prefix SUF suffix MID middle-so-far (prefix-suffix-middle),
// or SUF suffix PRE prefix MID ... (suffix-prefix-middle). Target and expert share the vocabulary
// (checked at load), so both decode the same token ids.
import { FIM_ORDERS, type FimOrder, type Tokenizer, type Vocabulary } from "../backend/types.ts";
import { CosecError } from "../errors.ts";

export { FIM_ORDERS, type FimOrder };

export interface FimInput {
  /** Code before the cursor. */
  prefix: string;
  /** Code after the cursor. */
  suffix: string;
  /** Text of the middle already typed (llama.cpp's /infill `prompt`): the fill continues it. */
  middle?: string;
  /** Other files for repo-level context (llama.cpp's `input_extra`). */
  extra?: readonly { filename: string; text: string }[];
  /** Default psm (prefix-suffix-middle); Engine.fimPrompt fills in the layout the target's GGUF records (cosec.fim.order). */
  order?: FimOrder;
}

/** The model has no FIM control tokens: it was not trained to fill in the middle. */
export class FimUnsupportedError extends CosecError {}

/** llama.cpp's separator between extra chunks of a model without a file-separator token. */
const CHUNK_SEPARATOR = "\n\n--- snippet ---\n\n";

/** Whether the model can fill in the middle (has prefix, suffix and middle tokens). */
export function supportsFim(vocab: Vocabulary): boolean {
  const s = vocab.special;
  return s.fimPrefix !== null && s.fimSuffix !== null && s.fimMiddle !== null;
}

export function fimPrompt(vocab: Vocabulary, tokenizer: Tokenizer, input: FimInput, model = "the target model"): number[] {
  const { fimPrefix: pre, fimSuffix: suf, fimMiddle: mid, fimRepo: repo, fimSeparator: sep } = vocab.special;
  if (pre === null || suf === null || mid === null) {
    throw new FimUnsupportedError(`${model} has no fill-in-the-middle tokens (FIM prefix/suffix/middle); use a code model trained for infilling (Qwen2.5-Coder, StarCoder, DeepSeek-Coder, CodeLlama)`);
  }
  const text = (s: string) => (s ? tokenizer.tokenize(s, { addBos: false, parseSpecial: false }) : []);
  const out: number[] = [...tokenizer.tokenize("", { parseSpecial: false })]; // the BOS, where the model adds one
  if (input.extra?.length) {
    if (repo !== null) out.push(repo, ...text("myproject\n"));
    for (const chunk of input.extra) {
      if (sep !== null) out.push(sep, ...text(`${chunk.filename}\n`));
      else out.push(...text(CHUNK_SEPARATOR));
      out.push(...text(chunk.text));
    }
    if (sep !== null) out.push(sep, ...text("filename\n"));
  }
  const prefix = [pre, ...text(input.prefix)];
  const suffix = [suf, ...text(input.suffix)];
  out.push(...((input.order ?? "psm") === "spm" ? [...suffix, ...prefix] : [...prefix, ...suffix]), mid, ...text(input.middle ?? ""));
  return out;
}
