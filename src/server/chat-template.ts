// Chat history → prompt tokens with the model's own chat template: node-llama-cpp resolves a chat
// wrapper from the GGUF's `tokenizer.chat_template` (a known family or its Jinja template), falling
// back to its general template when the model has none. The rendered LlamaText is tokenized with
// the engine's tokenizer (special-token text parsed as special tokens), and the wrapper's stop
// triggers become stop strings.
import {
  GeneralChatWrapper,
  JinjaTemplateChatWrapper,
  LlamaText,
  SpecialToken,
  SpecialTokensText,
  readGgufFileInfo,
  resolveChatWrapper,
  type ChatHistoryItem,
  type ChatWrapper,
} from "node-llama-cpp";
import { basename } from "node:path";
import type { Tokenizer, Vocabulary } from "../backend/types.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { ChatMessage } from "./schemas.ts";

export interface RenderedChat {
  tokens: number[];
  /** Stop strings from the template (e.g. the turn terminator), to add to the request's. */
  stop: string[];
}

function messageText(m: ChatMessage): string {
  if (m.content === null) return "";
  if (typeof m.content === "string") return m.content;
  return m.content.map((p) => p.text).join("");
}

export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    const text = messageText(m);
    if (m.role === "system" || m.role === "developer") return { type: "system", text };
    if (m.role === "user") return { type: "user", text };
    return { type: "model", response: [text] };
  });
  // The open assistant turn the model writes.
  history.push({ type: "model", response: [] });
  return history;
}

export class ChatRenderer {
  private constructor(
    private readonly wrapper: ChatWrapper,
    private readonly tokenizer: Tokenizer,
    private readonly vocab: Vocabulary,
    private readonly addsBos: boolean,
  ) {}

  /** The template family in use (e.g. "General", "ChatML", "JinjaTemplate"). */
  get name(): string {
    return this.wrapper.wrapperName;
  }

  /**
   * The renderer for a GGUF: `template` (Jinja text) overrides the file's; without either, the
   * general template.
   */
  static async forModel(path: string, tokenizer: Tokenizer, vocab: Vocabulary, template?: string): Promise<ChatRenderer> {
    const probe = tokenizer.tokenize("a");
    const addsBos = probe.length > tokenizer.tokenize("a", { addBos: false }).length;
    let wrapper: ChatWrapper;
    if (template !== undefined) {
      try {
        wrapper = new JinjaTemplateChatWrapper({ template });
        wrapper.generateContextState({ chatHistory: toChatHistory([{ role: "user", content: "hi" }]) });
      } catch (err) {
        throw new InvalidArgumentError("chat-template", `the Jinja template does not render: ${(err as Error).message}`);
      }
    } else {
      const fileInfo = await readGgufFileInfo(path, { logWarnings: false });
      const bos = vocab.special.bos;
      wrapper =
        resolveChatWrapper({
          fileInfo,
          filename: basename(path),
          bosString: bos !== null ? vocab.tokenText(bos) : null,
          warningLogs: false,
        }) ?? new GeneralChatWrapper();
    }
    return new ChatRenderer(wrapper, tokenizer, vocab, addsBos);
  }

  render(messages: readonly ChatMessage[]): RenderedChat {
    const state = this.wrapper.generateContextState({ chatHistory: toChatHistory(messages) });
    const stop = new Set<string>();
    for (const trigger of state.stopGenerationTriggers) {
      const s = this.stopString(trigger);
      if (s) stop.add(s);
    }
    return { tokens: this.tokenize(state.contextText), stop: [...stop] };
  }

  private tokenize(text: LlamaText): number[] {
    const out: number[] = [];
    const special = this.vocab.special;
    for (const v of text.values) {
      if (typeof v === "string") out.push(...this.tokenizer.tokenize(v, { addBos: false, parseSpecial: false }));
      else if (v instanceof SpecialTokensText) out.push(...this.tokenizer.tokenize(v.value, { addBos: false, parseSpecial: true }));
      else if (v instanceof SpecialToken) {
        // BOS only where the model's own tokenizer would add it (GGUF add_bos_token).
        const id =
          v.value === "BOS" ? (this.addsBos ? special.bos : null) : v.value === "EOS" ? special.eos : v.value === "EOT" ? (special.eot ?? special.eos) : null;
        if (id !== null) out.push(id);
        else if (v.value === "NL") out.push(...this.tokenizer.tokenize("\n", { addBos: false }));
      }
    }
    return out;
  }

  /**
   * A trigger as plain text, or null when it is an end-of-generation token (the engine stops on
   * those by itself). Special-token text is trimmed: its trailing newline may never be generated.
   */
  private stopString(trigger: LlamaText): string | null {
    let s = "";
    let special = false;
    for (const v of trigger.values) {
      if (typeof v === "string") s += v;
      else if (v instanceof SpecialTokensText) {
        s += v.value;
        special = true;
      } else return null;
    }
    if (special) s = s.trimEnd();
    return s.length > 0 ? s : null;
  }
}
