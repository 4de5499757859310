// cosec's fast path into llama.cpp: raw logits as Float32Array, batched multi-sequence decoding,
// and KV-cache rollback. node-llama-cpp builds a JS array per position (~30 ms for a 50k vocab);
// this writes straight into a caller-owned typed array (microseconds).
//
// libllama is loaded with dlopen from the folder of the node-llama-cpp binary variant chosen at run
// time (CPU, CUDA, Vulkan), so one build of this addon serves every variant. The headers come from
// the llama.cpp source that node-llama-cpp ships, so struct layouts match its prebuilt libraries.
#include <napi.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "ggml-cpu.h"
#include "llama.h"

namespace {

// ---- the llama.cpp functions we use, resolved with dlsym ----
#define COSEC_LLAMA_FUNCS(X)            \
  X(llama_backend_init)                 \
  X(llama_model_default_params)         \
  X(llama_context_default_params)       \
  X(llama_model_load_from_file)         \
  X(llama_model_free)                   \
  X(llama_init_from_model)              \
  X(llama_free)                         \
  X(llama_model_get_vocab)              \
  X(llama_model_n_ctx_train)            \
  X(llama_model_n_params)               \
  X(llama_model_meta_val_str)           \
  X(llama_vocab_n_tokens)               \
  X(llama_vocab_get_text)               \
  X(llama_vocab_is_eog)                 \
  X(llama_vocab_bos)                    \
  X(llama_vocab_eos)                    \
  X(llama_vocab_eot)                    \
  X(llama_vocab_pad)                    \
  X(llama_vocab_fim_pre)                \
  X(llama_vocab_fim_suf)                \
  X(llama_vocab_fim_mid)                \
  X(llama_vocab_fim_pad)                \
  X(llama_vocab_fim_rep)                \
  X(llama_vocab_fim_sep)                \
  X(llama_vocab_get_add_bos)            \
  X(llama_tokenize)                     \
  X(llama_token_to_piece)               \
  X(llama_adapter_lora_init)            \
  X(llama_adapter_lora_free)            \
  X(llama_set_adapters_lora)            \
  X(llama_get_memory)                   \
  X(llama_memory_seq_rm)                \
  X(llama_memory_clear)                 \
  X(llama_batch_init)                   \
  X(llama_batch_free)                   \
  X(llama_decode)                       \
  X(llama_get_logits_ith)               \
  X(llama_n_ctx)                        \
  X(ggml_backend_reg_by_name)           \
  X(ggml_backend_load_all_from_path)    \
  X(ggml_backend_dev_count)             \
  X(ggml_backend_dev_get)               \
  X(ggml_backend_dev_name)              \
  X(ggml_backend_dev_type)              \
  X(llama_attach_threadpool)            \
  X(llama_set_n_threads)                \
  X(ggml_threadpool_params_default)     \
  X(ggml_backend_reg_get_proc_address)

struct Api {
#define COSEC_DECLARE(name) decltype(&::name) name = nullptr;
  COSEC_LLAMA_FUNCS(COSEC_DECLARE)
#undef COSEC_DECLARE
};

Api api;
void* libHandle = nullptr;
std::string libPath;

Napi::Error err(Napi::Env env, const std::string& msg) { return Napi::Error::New(env, msg); }

void EnsureLoaded(Napi::Env env) {
  if (!libHandle) throw err(env, "cosec addon: init(libDir) was not called");
}

// init(libraryFile, backendDir): dlopen libllama and register the ggml backends of that variant.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string lib = info[0].As<Napi::String>();
  std::string backendDir = info[1].As<Napi::String>();
  if (libHandle) {
    if (lib != libPath) throw err(env, "cosec addon: already initialised with " + libPath);
    return env.Undefined();
  }
  void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!h) throw err(env, std::string("cannot load llama.cpp library: ") + dlerror());
#define COSEC_RESOLVE(name)                                                              \
  api.name = reinterpret_cast<decltype(&::name)>(dlsym(h, #name));                        \
  if (!api.name) throw err(env, "llama.cpp library lacks symbol " #name " (version mismatch?)");
  COSEC_LLAMA_FUNCS(COSEC_RESOLVE)
#undef COSEC_RESOLVE
  libHandle = h;
  libPath = lib;
  // node-llama-cpp may have registered the backends in this process already (same library handle);
  // loading them twice registers duplicate CPU devices.
  if (!api.ggml_backend_reg_by_name("CPU")) api.ggml_backend_load_all_from_path(backendDir.c_str());
  api.llama_backend_init();
  return env.Undefined();
}

Napi::Value Devices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureLoaded(env);
  size_t n = api.ggml_backend_dev_count();
  Napi::Array out = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    ggml_backend_dev_t d = api.ggml_backend_dev_get(i);
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", api.ggml_backend_dev_name(d));
    int t = api.ggml_backend_dev_type(d);
    o.Set("type", t == GGML_BACKEND_DEVICE_TYPE_CPU ? "cpu" : t == GGML_BACKEND_DEVICE_TYPE_GPU ? "gpu" : "other");
    out.Set(i, o);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Model",
                       {InstanceMethod("info", &Model::Info), InstanceMethod("tokenize", &Model::Tokenize),
                        InstanceMethod("tokenBytes", &Model::TokenBytes), InstanceMethod("tokenText", &Model::TokenText),
                        InstanceMethod("isEog", &Model::IsEog), InstanceMethod("dispose", &Model::Dispose)});
  }

  explicit Model(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Model>(info) {
    Napi::Env env = info.Env();
    EnsureLoaded(env);
    std::string path = info[0].As<Napi::String>();
    int gpuLayers = info[1].As<Napi::Number>().Int32Value();
    llama_model_params p = api.llama_model_default_params();
    p.n_gpu_layers = gpuLayers;
    model_ = api.llama_model_load_from_file(path.c_str(), p);
    if (!model_) throw err(env, "llama.cpp could not load the model file " + path);
    vocab_ = api.llama_model_get_vocab(model_);
  }
  ~Model() override { Free(); }

  llama_model* model() const { return model_; }
  const llama_vocab* vocab() const { return vocab_; }

 private:
  void Free() {
    if (model_) api.llama_model_free(model_);
    model_ = nullptr;
  }
  void Check(Napi::Env env) const {
    if (!model_) throw err(env, "model was disposed");
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Check(env);
    Napi::Object o = Napi::Object::New(env);
    char buf[256];
    std::string arch = api.llama_model_meta_val_str(model_, "general.architecture", buf, sizeof buf) >= 0 ? buf : "";
    o.Set("architecture", arch);
    o.Set("vocabSize", api.llama_vocab_n_tokens(vocab_));
    o.Set("trainContextSize", api.llama_model_n_ctx_train(model_));
    o.Set("parameterCount", static_cast<double>(api.llama_model_n_params(model_)));
    o.Set("bos", api.llama_vocab_bos(vocab_));
    o.Set("eos", api.llama_vocab_eos(vocab_));
    o.Set("eot", api.llama_vocab_eot(vocab_));
    o.Set("pad", api.llama_vocab_pad(vocab_));
    // llama.cpp's own FIM detection: GGUF metadata, else the known spellings (Qwen, StarCoder,
    // DeepSeek, CodeLlama, CodeGemma...); -1 where the model has none.
    o.Set("fimPre", api.llama_vocab_fim_pre(vocab_));
    o.Set("fimSuf", api.llama_vocab_fim_suf(vocab_));
    o.Set("fimMid", api.llama_vocab_fim_mid(vocab_));
    o.Set("fimPad", api.llama_vocab_fim_pad(vocab_));
    o.Set("fimRep", api.llama_vocab_fim_rep(vocab_));
    o.Set("fimSep", api.llama_vocab_fim_sep(vocab_));
    o.Set("addBos", api.llama_vocab_get_add_bos(vocab_));
    return o;
  }

  Napi::Value Tokenize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Check(env);
    std::string text = info[0].As<Napi::String>();
    bool addSpecial = info[1].As<Napi::Boolean>();
    bool parseSpecial = info[2].As<Napi::Boolean>();
    std::vector<llama_token> toks(text.size() + 8);
    int n = api.llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), toks.data(),
                               static_cast<int32_t>(toks.size()), addSpecial, parseSpecial);
    if (n < 0) {
      toks.resize(-n);
      n = api.llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), toks.data(),
                             static_cast<int32_t>(toks.size()), addSpecial, parseSpecial);
    }
    if (n < 0) throw err(env, "tokenization failed");
    Napi::Int32Array out = Napi::Int32Array::New(env, n);
    std::memcpy(out.Data(), toks.data(), n * sizeof(llama_token));
    return out;
  }

  // Bytes of a token as decoded text (special tokens rendered too).
  Napi::Value TokenBytes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Check(env);
    int32_t t = info[0].As<Napi::Number>().Int32Value();
    char buf[256];
    int n = api.llama_token_to_piece(vocab_, t, buf, sizeof buf, 0, true);
    std::vector<char> big;
    const char* data = buf;
    if (n < 0) {
      big.resize(-n);
      n = api.llama_token_to_piece(vocab_, t, big.data(), static_cast<int32_t>(big.size()), 0, true);
      data = big.data();
    }
    if (n < 0) n = 0;
    return Napi::Buffer<char>::Copy(env, data, n);
  }

  Napi::Value TokenText(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Check(env);
    int32_t t = info[0].As<Napi::Number>().Int32Value();
    const char* s = api.llama_vocab_get_text(vocab_, t);
    return Napi::Buffer<char>::Copy(env, s ? s : "", s ? std::strlen(s) : 0);
  }

  Napi::Value IsEog(const Napi::CallbackInfo& info) {
    Check(info.Env());
    return Napi::Boolean::New(info.Env(), api.llama_vocab_is_eog(vocab_, info[0].As<Napi::Number>().Int32Value()));
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    Free();
    return info.Env().Undefined();
  }

  llama_model* model_ = nullptr;
  const llama_vocab* vocab_ = nullptr;
};

Napi::FunctionReference* modelCtor = nullptr;

// ---------------------------------------------------------------------------------------------
// One llama_context: several sequences (KV-cache slots), evaluated together in one batch.
class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Context",
                       {InstanceMethod("decode", &Context::Decode), InstanceMethod("decodeSync", &Context::DecodeSync), InstanceMethod("seqRemove", &Context::SeqRemove),
                        InstanceMethod("contextSize", &Context::ContextSize), InstanceMethod("dispose", &Context::Dispose)});
  }

  // new Context(model, {contextSize, sequences, batchSize, threads, lora?: Model-independent path, loraScale})
  explicit Context(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Context>(info) {
    Napi::Env env = info.Env();
    Model* m = Model::Unwrap(info[0].As<Napi::Object>());
    modelRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    Napi::Object o = info[1].As<Napi::Object>();
    llama_context_params p = api.llama_context_default_params();
    p.n_ctx = o.Get("contextSize").As<Napi::Number>().Uint32Value();
    p.n_seq_max = o.Get("sequences").As<Napi::Number>().Uint32Value();
    p.n_batch = o.Get("batchSize").As<Napi::Number>().Uint32Value();
    p.n_ubatch = p.n_batch;
    p.n_threads = o.Get("threads").As<Napi::Number>().Int32Value();
    p.n_threads_batch = o.Get("threadsBatch").IsNumber() ? o.Get("threadsBatch").As<Napi::Number>().Int32Value() : p.n_threads;
    // Flash attention stays off unless asked for (node-llama-cpp's default too): on CPU it rounds
    // queries to F16, which moves logits by ~1e-2 on small models.
    p.flash_attn_type = o.Has("flashAttention") && o.Get("flashAttention").ToBoolean() ? LLAMA_FLASH_ATTN_TYPE_ENABLED
                                                                                      : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    if (o.Has("kvF32") && o.Get("kvF32").ToBoolean()) {
      p.type_k = GGML_TYPE_F32;
      p.type_v = GGML_TYPE_F32;
    }
    // Several sequences share one pool of cells (n_ctx is the total budget, and a batch may mix
    // sequences of any lengths). One sequence needs no sharing, and a unified cache makes
    // llama.cpp check every pair of its 256 possible sequences on every decode (~30 µs).
    p.kv_unified = p.n_seq_max > 1;
    p.no_perf = true;
    ctx_ = api.llama_init_from_model(m->model(), p);
    if (!ctx_) throw err(env, "llama.cpp could not create a context (out of memory?)");
    vocabSize_ = api.llama_vocab_n_tokens(m->vocab());
    batchSize_ = p.n_batch;
    threads_ = p.n_threads;
    threadsBatch_ = p.n_threads_batch;
    int maxThreads = o.Get("maxThreads").IsNumber() ? o.Get("maxThreads").As<Napi::Number>().Int32Value() : 0;
    maxThreads_ = std::max({p.n_threads, p.n_threads_batch, maxThreads, 1});
    CreateThreadpool(maxThreads_);
    if (o.Has("lora") && o.Get("lora").IsString()) {
      std::string lp = o.Get("lora").As<Napi::String>();
      float scale = o.Get("loraScale").As<Napi::Number>().FloatValue();
      lora_ = api.llama_adapter_lora_init(m->model(), lp.c_str());
      if (!lora_) {
        Free();
        throw err(env, "llama.cpp could not load the LoRA adapter " + lp + " (not an adapter GGUF for this model?)");
      }
      if (api.llama_set_adapters_lora(ctx_, &lora_, 1, &scale) != 0) {
        Free();
        throw err(env, "llama.cpp could not apply the LoRA adapter " + lp);
      }
    }
  }
  ~Context() override { Free(); }

 private:
  friend class DecodeWorker;
  friend std::string RunDecode(Context*, const llama_token*, const int32_t*, const int32_t*, const uint8_t*, size_t, float*, int);
  // ggml's own path starts and joins fresh threads on every multi-threaded graph compute, which
  // costs more than the work itself for small models. A persistent pool (created once, sized for
  // the most threads any call may use) avoids that; poll 0 lets idle workers sleep at once instead
  // of spinning on a core that the other model of the pair needs.
  void CreateThreadpool(int threads) {
    if (threads <= 1) return;
    ggml_backend_reg_t cpu = api.ggml_backend_reg_by_name("CPU");
    if (!cpu) return;
    auto poolNew = reinterpret_cast<decltype(&ggml_threadpool_new)>(api.ggml_backend_reg_get_proc_address(cpu, "ggml_threadpool_new"));
    poolFree_ = reinterpret_cast<decltype(&ggml_threadpool_free)>(api.ggml_backend_reg_get_proc_address(cpu, "ggml_threadpool_free"));
    if (!poolNew || !poolFree_) return;
    ggml_threadpool_params tp = api.ggml_threadpool_params_default(threads);
    tp.poll = 0;
    pool_ = poolNew(&tp);
  }
  // Threads of one decode call: the caller's choice, else llama.cpp's rule (n_threads for one
  // token, n_threads_batch for more). One-thread calls skip the pool (no worker to wake).
  void SelectThreads(int requested, size_t tokens) {
    int n = requested > 0 ? requested : tokens > 1 ? threadsBatch_ : threads_;
    // Without a pool (a backend that does not offer one), ggml's own threads still serve.
    n = std::max(1, std::min(n, maxThreads_));
    api.llama_set_n_threads(ctx_, n, n);
    api.llama_attach_threadpool(ctx_, n > 1 ? pool_ : nullptr, n > 1 ? pool_ : nullptr);
  }
  void Free() {
    if (ctx_) api.llama_free(ctx_);
    ctx_ = nullptr;
    if (pool_ && poolFree_) poolFree_(pool_);
    pool_ = nullptr;
    if (lora_) api.llama_adapter_lora_free(lora_);
    lora_ = nullptr;
  }

  Napi::Value ContextSize(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), ctx_ ? api.llama_n_ctx(ctx_) : 0);
  }

  // decode(tokens: Int32Array, seqIds: Int32Array, positions: Int32Array, wantLogits: Uint8Array,
  //        out: Float32Array, threads?: number) -> Promise<void>; rows of `out` follow the order of
  //        wantLogits=1 entries; `threads` overrides the context's thread count for this call.
  Napi::Value Decode(const Napi::CallbackInfo& info);
  Napi::Value DecodeSync(const Napi::CallbackInfo& info);
  struct DecodeArgs {
    Napi::Int32Array tokens, seqs, pos;
    Napi::Uint8Array want;
    Napi::Float32Array out;
    int threads;
  };
  DecodeArgs CheckDecodeArgs(const Napi::CallbackInfo& info);

  Napi::Value SeqRemove(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!ctx_) throw err(env, "context was disposed");
    int32_t seq = info[0].As<Napi::Number>().Int32Value();
    int32_t from = info[1].As<Napi::Number>().Int32Value();
    bool ok = api.llama_memory_seq_rm(api.llama_get_memory(ctx_), seq, from, -1);
    return Napi::Boolean::New(env, ok);
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    if (busy_) throw err(info.Env(), "context is busy decoding");
    Free();
    modelRef_.Reset();
    return info.Env().Undefined();
  }

  llama_context* ctx_ = nullptr;
  llama_adapter_lora* lora_ = nullptr;
  ggml_threadpool_t pool_ = nullptr;
  decltype(&ggml_threadpool_free) poolFree_ = nullptr;
  int maxThreads_ = 1, threads_ = 1, threadsBatch_ = 1;
  Napi::ObjectReference modelRef_;  // keeps the model alive as long as the context
  int32_t vocabSize_ = 0;
  uint32_t batchSize_ = 0;
  bool busy_ = false;
};

// One llama_decode pass (in chunks of the batch size) writing the wanted rows into `out`; returns
// an error message, empty on success. Runs on a worker thread (decode) or inline (decodeSync).
std::string RunDecode(Context* c, const llama_token* tokens, const int32_t* seqs, const int32_t* pos, const uint8_t* want, size_t n,
                      float* out, int threads) {
  const size_t chunk = c->batchSize_;
  const size_t V = static_cast<size_t>(c->vocabSize_);
  c->SelectThreads(threads, std::min(n, chunk));
  llama_batch batch = api.llama_batch_init(static_cast<int32_t>(std::min(n, chunk)), 0, 1);
  size_t row = 0;
  for (size_t start = 0; start < n; start += chunk) {
    size_t m = std::min(chunk, n - start);
    batch.n_tokens = static_cast<int32_t>(m);
    for (size_t i = 0; i < m; i++) {
      batch.token[i] = tokens[start + i];
      batch.pos[i] = pos[start + i];
      batch.n_seq_id[i] = 1;
      batch.seq_id[i][0] = seqs[start + i];
      batch.logits[i] = want[start + i];
    }
    int rc = api.llama_decode(c->ctx_, batch);
    if (rc != 0) {
      api.llama_batch_free(batch);
      return rc == 1 ? "llama_decode: no room in the KV cache (context full)" : "llama_decode failed with code " + std::to_string(rc);
    }
    for (size_t i = 0; i < m; i++) {
      if (!want[start + i]) continue;
      const float* lg = api.llama_get_logits_ith(c->ctx_, static_cast<int32_t>(i));
      if (!lg) {
        api.llama_batch_free(batch);
        return "llama_get_logits_ith returned no logits";
      }
      std::memcpy(out + row * V, lg, V * sizeof(float));
      row++;
    }
  }
  api.llama_batch_free(batch);
  return "";
}

class DecodeWorker : public Napi::AsyncWorker {
 public:
  DecodeWorker(Napi::Env env, Context* c, Napi::Object self, std::vector<llama_token> tokens, std::vector<int32_t> seqs,
               std::vector<int32_t> pos, std::vector<uint8_t> want, Napi::Float32Array out, int threads)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        c_(c),
        tokens_(std::move(tokens)),
        seqs_(std::move(seqs)),
        pos_(std::move(pos)),
        want_(std::move(want)),
        outData_(out.Data()),
        threads_(threads) {
    selfRef_ = Napi::Persistent(self);
    outRef_ = Napi::Persistent(out.As<Napi::Object>());
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::string e = RunDecode(c_, tokens_.data(), seqs_.data(), pos_.data(), want_.data(), tokens_.size(), outData_, threads_);
    if (!e.empty()) SetError(e);
  }
  void OnOK() override {
    c_->busy_ = false;
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override {
    c_->busy_ = false;
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Context* c_;
  std::vector<llama_token> tokens_;
  std::vector<int32_t> seqs_, pos_;
  std::vector<uint8_t> want_;
  float* outData_;
  int threads_;
  Napi::ObjectReference selfRef_, outRef_;
};

Context::DecodeArgs Context::CheckDecodeArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ctx_) throw err(env, "context was disposed");
  if (busy_) throw err(env, "context is busy: one decode at a time");
  DecodeArgs a{info[0].As<Napi::Int32Array>(), info[1].As<Napi::Int32Array>(), info[2].As<Napi::Int32Array>(),
               info[3].As<Napi::Uint8Array>(), info[4].As<Napi::Float32Array>(), 0};
  size_t n = a.tokens.ElementLength();
  if (a.seqs.ElementLength() != n || a.pos.ElementLength() != n || a.want.ElementLength() != n)
    throw err(env, "decode: array lengths differ");
  if (n == 0) throw err(env, "decode: no tokens");
  size_t rows = 0;
  for (size_t i = 0; i < n; i++) {
    if (a.tokens[i] < 0 || a.tokens[i] >= vocabSize_) throw err(env, "decode: token id " + std::to_string(a.tokens[i]) + " is outside the vocabulary");
    rows += a.want[i] ? 1 : 0;
  }
  if (a.out.ElementLength() < rows * static_cast<size_t>(vocabSize_)) throw err(env, "decode: output buffer too small");
  a.threads = info.Length() > 5 && info[5].IsNumber() ? info[5].As<Napi::Number>().Int32Value() : 0;
  return a;
}

Napi::Value Context::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DecodeArgs a = CheckDecodeArgs(info);
  size_t n = a.tokens.ElementLength();
  busy_ = true;
  auto* w = new DecodeWorker(env, this, info.This().As<Napi::Object>(), std::vector<llama_token>(a.tokens.Data(), a.tokens.Data() + n),
                             std::vector<int32_t>(a.seqs.Data(), a.seqs.Data() + n), std::vector<int32_t>(a.pos.Data(), a.pos.Data() + n),
                             std::vector<uint8_t>(a.want.Data(), a.want.Data() + n), a.out, a.threads);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// The same pass on the calling (JS) thread: for passes shorter than a hop to a worker thread and
// back (~0.15 ms here), which a small expert's one-token steps are. Blocks the event loop meanwhile.
Napi::Value Context::DecodeSync(const Napi::CallbackInfo& info) {
  DecodeArgs a = CheckDecodeArgs(info);
  std::string e = RunDecode(this, a.tokens.Data(), a.seqs.Data(), a.pos.Data(), a.want.Data(), a.tokens.ElementLength(), a.out.Data(), a.threads);
  if (!e.empty()) throw err(info.Env(), e);
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------------------------
// Distribution kernels over one logits row. They run once or more per generated token over the
// whole vocabulary, where JS Math.exp costs ~1 ms for 50k entries.

const float* RowData(const Napi::Value& v, size_t* n) {
  auto a = v.As<Napi::Float32Array>();
  *n = a.ElementLength();
  return a.Data();
}

// The whole-vocabulary loops below run once or more per token. Built for baseline x86-64 (SSE2)
// they cost 15 us (log-sum-exp) and 35 us (Gumbel-max) over a 4k vocabulary on this project's CPU:
// SSE2 has no 32-bit vector multiply for the hash nor a vector blend. GCC and clang also compile an
// AVX2 copy (3x faster here) and an x86-64-v3 one (AVX2 with FMA: the exp polynomial in half the
// instructions) and pick one when the addon loads, through glibc's ifunc; other targets get the
// plain loop.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__GLIBC__)  // ifunc: glibc only
#define COSEC_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "avx2", "default")))
#else
#define COSEC_VECTOR_CLONES
#endif

// exp for x <= 0 (arguments are always shifted by the maximum), relative error < 2e-7: a
// branch-free Cephes-style polynomial the compiler vectorises, unlike libm's expf.
static inline float FastExpNonPositive(float x) {
  x = x < -87.0f ? -87.0f : x;
  const float t = x * 1.44269504088896341f;  // x / ln 2
  const float fi = t - 0.5f;
  const int i = static_cast<int>(fi < 0 ? fi - 0.5f : fi + 0.5f);  // round(t - 0.5) = floor(t)
  const float f = (x - static_cast<float>(i) * 0.693359375f) + static_cast<float>(i) * 2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * f + 1.3981999507E-3f;
  p = p * f + 8.3334519073E-3f;
  p = p * f + 4.1665795894E-2f;
  p = p * f + 1.6666665459E-1f;
  p = p * f + 5.0000001201E-1f;
  p = p * f * f + f + 1.0f;
  int32_t bits = (i + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// The largest value (NaN ignored; -inf for none). One running maximum is a chain of dependent
// maxss (4 cycles each: 4 us over 4k tokens), and compilers keep it scalar since max is not
// associative for NaN; sixteen independent lanes are elementwise, which they turn into vmaxps.
COSEC_VECTOR_CLONES static float MaxRow(const float* x, size_t n) {
  constexpr size_t L = 16;
  float lane[L];
  for (size_t j = 0; j < L; j++) lane[j] = -INFINITY;
  size_t i = 0;
  for (; i + L <= n; i += L)
    for (size_t j = 0; j < L; j++) lane[j] = x[i + j] > lane[j] ? x[i + j] : lane[j];
  float mx = -INFINITY;
  for (size_t j = 0; j < L; j++) mx = lane[j] > mx ? lane[j] : mx;
  for (; i < n; i++) mx = x[i] > mx ? x[i] : mx;
  return mx;
}

// log sum exp(scale * x)
COSEC_VECTOR_CLONES static double LogSumExpRow(const float* x, size_t n, float scale) {
  const float mx = MaxRow(x, n);
  if (mx == -INFINITY) return -INFINITY;
  const float m = mx * scale;
  // Blocked float sums (vectorised) folded into a double: exact enough for 10^5 terms.
  double sum = 0;
  constexpr size_t B = 256;
  for (size_t s = 0; s < n; s += B) {
    const size_t e = std::min(n, s + B);
    float part = 0;
    for (size_t i = s; i < e; i++) part += FastExpNonPositive(x[i] * scale - m);
    sum += part;
  }
  return static_cast<double>(m) + std::log(sum);
}

// lse(row, scale) = log sum exp(scale * row)
Napi::Value KLogSumExp(const Napi::CallbackInfo& info) {
  size_t n;
  const float* x = RowData(info[0], &n);
  const float scale = static_cast<float>(info[1].As<Napi::Number>().DoubleValue());
  return Napi::Number::New(info.Env(), LogSumExpRow(x, n, scale));
}

// sampleFull(row, scale, lse, u) -> token: inverse CDF of softmax(scale*row) in index order.
Napi::Value KSampleFull(const Napi::CallbackInfo& info) {
  size_t n;
  const float* x = RowData(info[0], &n);
  double scale = info[1].As<Napi::Number>().DoubleValue();
  double lse = info[2].As<Napi::Number>().DoubleValue();
  double u = info[3].As<Napi::Number>().DoubleValue();
  // The same exp as KLogSumExp, so the cumulative mass reaches the normaliser it was built with.
  const float fs = static_cast<float>(scale);
  const float fl = static_cast<float>(lse);
  double cum = 0;
  int64_t last = 0;
  for (size_t i = 0; i < n; i++) {
    if (x[i] == -INFINITY) continue;
    cum += FastExpNonPositive(std::min(0.0f, x[i] * fs - fl));
    last = static_cast<int64_t>(i);
    if (cum > u) return Napi::Number::New(info.Env(), static_cast<double>(i));
  }
  return Napi::Number::New(info.Env(), static_cast<double>(last));
}

// argmax(row): the first index of the maximum (0 when nothing beats -inf). The maximum first, in
// vector lanes, then its first index: a running (value, index) pair does not vectorise.
Napi::Value KArgmax(const Napi::CallbackInfo& info) {
  size_t n;
  const float* x = RowData(info[0], &n);
  const float mx = MaxRow(x, n);
  size_t best = 0;
  if (mx > -INFINITY)
    while (x[best] != mx) best++;
  return Napi::Number::New(info.Env(), static_cast<double>(best));
}

// Lane-wise maxima of a row laid out as rows of `lanes` values: lane j holds the largest of x[j],
// x[j + lanes], x[j + 2 lanes], ... (NaN ignored). Elementwise, so it runs in vector registers.
COSEC_VECTOR_CLONES static void LaneMaxima(const float* x, size_t n, float* lane, size_t lanes) {
  for (size_t j = 0; j < lanes; j++) lane[j] = -INFINITY;
  size_t s = 0;
  for (; s + lanes <= n; s += lanes)
    for (size_t j = 0; j < lanes; j++) lane[j] = x[s + j] > lane[j] ? x[s + j] : lane[j];
  for (size_t j = 0; s + j < n; j++) lane[j] = x[s + j] > lane[j] ? x[s + j] : lane[j];
}

// The k best ids of a long row by a bound: each lane's maximum is a distinct element, so the k-th
// largest lane maximum is at most the k-th largest element, and every one of the k best is at least
// it. Only the lanes that reach it are read again, and only their elements that do are sorted.
// A heap over the whole row costs about k ln(n/k) insertions of log k steps each (6 us over a 4k
// vocabulary, more than the rest of a proposal); this reads the row once in vector registers.
static size_t TopKByLanes(const float* x, size_t n, size_t k, int32_t* out) {
  constexpr size_t kLanes = 256;
  static thread_local std::vector<float> lane(kLanes), sorted(kLanes);
  static thread_local std::vector<int32_t> found;
  LaneMaxima(x, n, lane.data(), kLanes);
  sorted = lane;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(k - 1), sorted.end(), std::greater<float>());
  const float bound = sorted[k - 1];
  found.clear();
  for (size_t j = 0; j < kLanes; j++) {
    if (!(lane[j] >= bound)) continue;
    for (size_t i = j; i < n; i += kLanes)
      if (x[i] >= bound) found.push_back(static_cast<int32_t>(i));
  }
  auto better = [x](int32_t a, int32_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); };
  const size_t m = std::min(k, found.size());
  std::partial_sort(found.begin(), found.begin() + static_cast<long>(m), found.end(), better);
  std::copy(found.begin(), found.begin() + static_cast<long>(m), out);
  return m;
}

// topK(row, k, out: Int32Array) -> count: the k largest, by value desc then index asc.
Napi::Value KTopK(const Napi::CallbackInfo& info) {
  size_t n;
  const float* x = RowData(info[0], &n);
  size_t k = std::min<size_t>(info[1].As<Napi::Number>().Uint32Value(), n);
  auto out = info[2].As<Napi::Int32Array>();
  if (out.ElementLength() < k) throw err(info.Env(), "topK: output too small");
  // Rows long enough for the lanes to hold several elements each, and k well under their count.
  if (k > 0 && k <= 64 && n >= 4 * 256) return Napi::Number::New(info.Env(), static_cast<double>(TopKByLanes(x, n, k, out.Data())));
  auto better = [x](int32_t a, int32_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); };
  // Min-heap (by `better`) of the best k seen so far; reused, so a call allocates nothing.
  static thread_local std::vector<int32_t> heap;
  heap.clear();
  heap.reserve(k);
  auto cmp = [&](int32_t a, int32_t b) { return better(a, b); };  // heap top = worst kept
  size_t i = 0;
  for (; i < n && heap.size() < k; i++) {
    heap.push_back(static_cast<int32_t>(i));
    std::push_heap(heap.begin(), heap.end(), cmp);
  }
  // Ids come in increasing order, so a later id beats the worst kept only by a larger value (a tie
  // goes to the smaller id): one float comparison per token, against a value kept in a register.
  float worst = k > 0 ? x[heap.front()] : INFINITY;
  for (; i < n; i++) {
    if (!(x[i] > worst)) continue;
    std::pop_heap(heap.begin(), heap.end(), cmp);
    heap.back() = static_cast<int32_t>(i);
    std::push_heap(heap.begin(), heap.end(), cmp);
    worst = x[heap.front()];
  }
  std::sort(heap.begin(), heap.end(), better);
  std::copy(heap.begin(), heap.end(), out.Data());
  return Napi::Number::New(info.Env(), static_cast<double>(heap.size()));
}

// atLeast(row, threshold, out: Int32Array) -> count: ids with row[i] >= threshold, sorted desc.
Napi::Value KAtLeast(const Napi::CallbackInfo& info) {
  size_t n;
  const float* x = RowData(info[0], &n);
  float th = info[1].As<Napi::Number>().FloatValue();
  auto out = info[2].As<Napi::Int32Array>();
  std::vector<int32_t> ids;
  for (size_t i = 0; i < n; i++)
    if (x[i] >= th) ids.push_back(static_cast<int32_t>(i));
  std::sort(ids.begin(), ids.end(), [x](int32_t a, int32_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); });
  size_t m = std::min(ids.size(), out.ElementLength());
  std::copy(ids.begin(), ids.begin() + m, out.Data());
  return Napi::Number::New(info.Env(), static_cast<double>(ids.size()));
}

// ---- Gumbel-max sampling. token = argmax_i(scale*row[i] + g_i), g_i Gumbel noise keyed by
// (key, i). Unlike an inverse CDF, whose boundaries move when float noise in the logits changes a
// running sum (nearly certain somewhere in a flat 50k distribution), the argmax moves only when two
// perturbed values tie to within that noise: outputs survive different batch shapes.
static inline uint32_t Fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// log for x > 0 (float), relative error ~1e-7: exponent split + atanh series.
static inline float FastLog(float x) {
  int32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int32_t e = ((bits >> 23) & 0xff) - 127;
  bits = (bits & 0x007fffff) | 0x3f800000;  // mantissa in [1, 2)
  float m;
  std::memcpy(&m, &bits, sizeof m);
  if (m > 1.41421356f) {
    m *= 0.5f;
    e += 1;
  }
  const float t = (m - 1.0f) / (m + 1.0f);
  const float t2 = t * t;
  const float series = t * (2.0f + t2 * (0.666666667f + t2 * (0.4f + t2 * (0.285714286f + t2 * 0.222222222f))));
  return series + static_cast<float>(e) * 0.693147181f;
}

// The noise from a 24-bit uniform lies in [-2.86, 17.33]: a token whose scaled logit is more than
// 20.19 below the largest one cannot beat that token's perturbed value. The margin covers FastLog.
constexpr float kGumbelSpan = 20.5f;

// argmax_i(scale * x[i] + g_i) with g_i keyed by (key, i)
COSEC_VECTOR_CLONES static size_t GumbelArgmax(const float* x, size_t n, float scale, uint32_t key) {
  // In blocks: the perturbed values in a branch-free loop the compiler vectorises, then the first
  // index of the maximum. A -inf logit stays -inf and is never chosen (strict >), as when skipped.
  // A block whose largest logit is too far below the row's cannot hold the winner and is skipped
  // without hashing: after a confident model most of the vocabulary is.
  constexpr size_t B = 64;
  float v[B];
  size_t best = 0;
  float bv = -INFINITY;
  const float top = MaxRow(x, n) * scale;
  const bool prune = scale > 0 && top > -INFINITY && top < INFINITY;
  const float floor = top - kGumbelSpan;
  for (size_t s = 0; s < n; s += B) {
    const size_t m = std::min(B, n - s);
    if (prune && MaxRow(x + s, m) * scale < floor) continue;
    for (size_t j = 0; j < m; j++) {
      const uint32_t i = static_cast<uint32_t>(s + j);
      const uint32_t h = Fmix32(key ^ Fmix32(i * 0x9e3779b1u + 0x7f4a7c15u));
      const float u = (static_cast<float>(h >> 8) + 0.5f) * (1.0f / 16777216.0f);  // (0, 1)
      v[j] = x[s + j] * scale - FastLog(-FastLog(u));
    }
    for (size_t j = 0; j < m; j++) {
      if (v[j] > bv) {
        bv = v[j];
        best = s + j;
      }
    }
  }
  return best;
}

// gumbelMax(row, scale, key) -> token
Napi::Value KGumbelMax(const Napi::CallbackInfo& info) {
  size_t n;
  const float* x = RowData(info[0], &n);
  const float scale = static_cast<float>(info[1].As<Napi::Number>().DoubleValue());
  const uint32_t key = info[2].As<Napi::Number>().Uint32Value();
  return Napi::Number::New(info.Env(), static_cast<double>(GumbelArgmax(x, n, scale, key)));
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("devices", Napi::Function::New(env, Devices));
  exports.Set("logSumExp", Napi::Function::New(env, KLogSumExp));
  exports.Set("sampleFull", Napi::Function::New(env, KSampleFull));
  exports.Set("argmax", Napi::Function::New(env, KArgmax));
  exports.Set("gumbelMax", Napi::Function::New(env, KGumbelMax));
  exports.Set("topK", Napi::Function::New(env, KTopK));
  exports.Set("atLeast", Napi::Function::New(env, KAtLeast));
  Napi::Function model = Model::Define(env);
  modelCtor = new Napi::FunctionReference(Napi::Persistent(model));
  exports.Set("Model", model);
  exports.Set("Context", Context::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(cosec_addon, InitModule)
