// KV caches kept across generations, so that a request sharing a prefix with the previous one
// (an editor's next completion as the user types) evaluates only what changed. One entry: the
// sequences, one per model role, of the last single-sample generation, holding its prompt and the
// tokens it generated. A generation takes the entry when it has every role it needs, rolls it back
// to the longest prefix it shares with the new prompt, and evaluates the rest; it leaves its own
// sequences in their place when it ends. The entry holds one sequence slot per model (the engine
// loads each model with one slot more than its parallel sequences).
import type { ModelSequence } from "../backend/types.ts";
import type { ModelRole } from "./types.ts";

export interface Reused {
  seqs: Map<ModelRole, ModelSequence>;
  /** Prompt tokens already in every sequence. */
  start: number;
}

export class PromptCache {
  private held: Map<ModelRole, ModelSequence> | null = null;
  /** Requests that reused a prefix, and the prompt tokens they did not evaluate. */
  hits = 0;
  reusedTokens = 0;

  /**
   * The held sequences rolled back to the prefix they share with `prompt` (at least one prompt
   * token is left to evaluate: its logits start the generation), or null (none held, another set
   * of roles, nothing shared: then they are freed).
   */
  async take(roles: readonly ModelRole[], prompt: readonly number[]): Promise<Reused | null> {
    const held = this.held;
    this.held = null;
    if (!held) return null;
    let start = prompt.length - 1;
    for (const role of roles) {
      const seq = held.get(role);
      if (!seq) {
        start = 0;
        break;
      }
      start = Math.min(start, sharedPrefix(seq.tokens, prompt));
    }
    if (start <= 0 || roles.length !== held.size) {
      await disposeAll(held);
      return null;
    }
    for (const seq of held.values()) if (seq.length > start) await seq.truncate(start);
    this.hits++;
    this.reusedTokens += start;
    return { seqs: held, start };
  }

  /** Keeps a finished generation's sequences (freeing what was held before; null: frees them). */
  async keep(seqs: Map<ModelRole, ModelSequence> | null): Promise<void> {
    const old = this.held;
    this.held = seqs;
    if (old) await disposeAll(old);
  }

  dispose(): Promise<void> {
    return this.keep(null);
  }
}

function sharedPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

async function disposeAll(seqs: Map<ModelRole, ModelSequence>): Promise<void> {
  await Promise.all([...seqs.values()].map((s) => s.dispose()));
}
