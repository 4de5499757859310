// Loads GGUF files with node-llama-cpp (CPU) and prints JSON, one result per job: the next-token
// log-probabilities after `tokens` (optionally with a LoRA adapter) and the tokenization of
// `texts`. The GGUF round-trip tests compare these with PyTorch / Hugging Face.
// usage: node gguf_probs.mjs '[{"model": "a.gguf", "tokens": [..], "lora": "b.gguf", "texts": [".."]}, ...]'
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

async function run(llama, job) {
  const model = await llama.loadModel({ modelPath: job.model });
  const out = { tokenized: [] };
  for (const text of job.texts ?? []) out.tokenized.push(Array.from(model.tokenize(text, true)));
  if (job.tokens?.length) {
    const context = await model.createContext({
      contextSize: 256,
      // F32 KV cache so the comparison measures the export, not F16 cache rounding (~1e-2).
      experimentalKvCacheKeyType: "F32",
      experimentalKvCacheValueType: "F32",
      flashAttention: false,
      ...(job.lora ? { lora: { adapters: [{ filePath: job.lora, scale: job.scale ?? 1 }] } } : {}),
    });
    const last = job.tokens.length - 1;
    const input = job.tokens.map((t, i) =>
      i === last ? [t, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }] : t,
    );
    const res = await context.getSequence().controlledEvaluate(input);
    const probs = res[last].next.probabilities;
    out.logp = new Array(probs.size);
    for (const [tok, p] of probs) out.logp[tok] = Math.log(p);
    await context.dispose();
  }
  await model.dispose();
  return out;
}

const jobs = JSON.parse(process.argv[2]);
const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
const results = [];
for (const job of Array.isArray(jobs) ? jobs : [jobs]) results.push(await run(llama, job));
process.stdout.write(JSON.stringify(Array.isArray(jobs) ? results : results[0]) + "\n");
await llama.dispose();
