"""cosec trainer: small code LMs (llama / qwen2), GGUF export, distillation and security LoRA."""
