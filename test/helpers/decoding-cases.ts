// Decoding settings exercised against outputs recorded before the decoding-settings module existed
// (test/fixtures/decoding-golden.json): every strategy, several samplings, both schedules.
export interface DecodingCase {
  name: string;
  /** Flat decoding parameters, as `resolveDecodingSettings` takes them. */
  decoding: Record<string, string | number>;
  seed: number;
}

export const DECODING_CASES: DecodingCase[] = [
  { name: "target", decoding: { strategy: "target" }, seed: 1 },
  { name: "expert", decoding: { strategy: "expert" }, seed: 2 },
  { name: "cosec-plus", decoding: { strategy: "cosec-plus" }, seed: 3 },
  { name: "cosec-plus warped", decoding: { strategy: "cosec-plus", mode: "warped", threshold: 0.6, expertTemperature: 0.7, expertTopK: 5 }, seed: 4 },
  { name: "cosec-plus full softmax", decoding: { strategy: "cosec-plus", temperature: 1, topK: 0, topP: 1 }, seed: 5 },
  { name: "cosec-plus greedy", decoding: { strategy: "cosec-plus", temperature: 0 }, seed: 6 },
  { name: "weighted", decoding: { strategy: "weighted", alpha: 0.3, temperature: 1, topK: 0, topP: 0.8 }, seed: 7 },
  { name: "proxy", decoding: { strategy: "proxy", temperature: 0.9, topK: 10 }, seed: 8 },
  { name: "target top-p", decoding: { strategy: "target", temperature: 1.2, topK: 0, topP: 0.9 }, seed: 9 },
];

/** The schedules each case runs under: sequential, speculative with adaptive and with fixed drafts. */
export const SCHEDULES = [
  { name: "sequential", decoding: { speculative: false } },
  { name: "speculative", decoding: { speculative: true } },
  { name: "speculative k=3", decoding: { speculative: true, draftMax: 3 } },
] as const;

export const RUN = { n: 2, maxTokens: 20, prompt: "defabc" } as const;
