// llamacpp_logits: evaluate a prompt with llama.cpp (CPU only, one batch, logits at every
// position) and write them as float32 .npy [n_tokens, n_vocab], for comparison with longctx.
// Build (llama.cpp commit 0c1e570, built in /tmp/llama-build; not part of the CMake build):
//   L=/tmp/llama_cpp_python-0.3.36/vendor/llama.cpp
//   g++ -std=c++17 -O2 -Wall -Wextra -I$L/include -I$L/ggml/include tools/llamacpp_logits.cpp
//       -o /tmp/llamacpp_logits -L/tmp/llama-build/bin -lllama -lggml -lggml-base
//       -Wl,-rpath,/tmp/llama-build/bin        (one command line)
// Usage: llamacpp_logits -m MODEL.gguf --ids ids.json -o out.npy [--threads 2] [--kv f32|f16]
#include <llama.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Options {
  std::string model, ids, out;
  int threads = 2;
  ggml_type kv_type = GGML_TYPE_F32;
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "llamacpp_logits: %s\n", msg.c_str());
  std::exit(1);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "-m") {
      o.model = value();
    } else if (a == "--ids") {
      o.ids = value();
    } else if (a == "-o") {
      o.out = value();
    } else if (a == "--threads") {
      o.threads = std::atoi(value().c_str());
      if (o.threads < 1) die("--threads must be >= 1");
    } else if (a == "--kv") {
      const std::string kv = value();
      if (kv == "f32") {
        o.kv_type = GGML_TYPE_F32;
      } else if (kv == "f16") {
        o.kv_type = GGML_TYPE_F16;
      } else {
        die("--kv must be f32 or f16, got '" + kv + "'");
      }
    } else {
      die("unknown argument '" + a + "'");
    }
  }
  if (o.model.empty() || o.ids.empty() || o.out.empty()) {
    die("usage: llamacpp_logits -m MODEL.gguf --ids ids.json -o out.npy [--threads N] "
        "[--kv f32|f16]");
  }
  return o;
}

// Reads a flat JSON array of non-negative integers, e.g. "[151644, 872, 198]". Only that shape
// is accepted; anything else is an error naming the offending character.
std::vector<llama_token> read_ids(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  };
  skip_ws();
  if (i >= s.size() || s[i] != '[') die(path + ": expected '[' at offset " + std::to_string(i));
  ++i;
  std::vector<llama_token> ids;
  skip_ws();
  if (i < s.size() && s[i] == ']') return ids;
  while (true) {
    skip_ws();
    size_t start = i;
    int64_t v = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      v = v * 10 + (s[i] - '0');
      if (v > INT32_MAX) die(path + ": token id too large at offset " + std::to_string(start));
      ++i;
    }
    if (i == start) die(path + ": expected a token id at offset " + std::to_string(i));
    ids.push_back(static_cast<llama_token>(v));
    skip_ws();
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == ']') break;
    die(path + ": expected ',' or ']' at offset " + std::to_string(i));
  }
  return ids;
}

// .npy v1.0: magic, version, little-endian u16 header length, then an ASCII dict padded with
// spaces and a final '\n' so that the data starts at a multiple of 64 bytes.
void write_npy_f32(const std::string& path, const float* data, size_t rows, size_t cols) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) +
                     ", " + std::to_string(cols) + "), }";
  const size_t prefix = 10;  // magic(6) + version(2) + header length(2)
  size_t total = prefix + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) die("cannot write " + path);
  const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  const uint16_t hlen = static_cast<uint16_t>(dict.size());
  const unsigned char hl[2] = {static_cast<unsigned char>(hlen & 0xff),
                               static_cast<unsigned char>(hlen >> 8)};
  bool ok = std::fwrite(magic, 1, 8, f) == 8 && std::fwrite(hl, 1, 2, f) == 2 &&
            std::fwrite(dict.data(), 1, dict.size(), f) == dict.size() &&
            std::fwrite(data, sizeof(float), rows * cols, f) == rows * cols;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) die("short write to " + path);
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  const std::vector<llama_token> ids = read_ids(opt.ids);
  if (ids.empty()) die(opt.ids + ": no token ids");

  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  // Repacked weight layouts (e.g. q4_K -> q4_K_8x8) change the kernels used; keep the plain
  // per-type vec_dot path so the comparison is against the documented block formats.
  mp.use_extra_bufts = false;
  llama_model* model = llama_model_load_from_file(opt.model.c_str(), mp);
  if (!model) die("cannot load " + opt.model);

  const llama_vocab* vocab = llama_model_get_vocab(model);
  const int32_t n_vocab = llama_vocab_n_tokens(vocab);
  const int32_t n = static_cast<int32_t>(ids.size());
  for (int32_t i = 0; i < n; ++i) {
    if (ids[i] >= n_vocab) {
      die("token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) + " >= n_vocab " +
          std::to_string(n_vocab));
    }
  }

  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(n);
  cp.n_batch = static_cast<uint32_t>(n);
  cp.n_ubatch = static_cast<uint32_t>(n);
  cp.n_seq_max = 1;
  cp.n_threads = opt.threads;
  cp.n_threads_batch = opt.threads;
  cp.type_k = opt.kv_type;
  cp.type_v = opt.kv_type;
  // Plain softmax(QK^T)V in f32: the flash-attention CPU kernel converts Q to f16.
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  cp.offload_kqv = false;
  cp.op_offload = false;
  cp.no_perf = true;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) die("cannot create a context");

  llama_batch batch = llama_batch_init(n, 0, 1);
  batch.n_tokens = n;
  for (int32_t i = 0; i < n; ++i) {
    batch.token[i] = ids[i];
    batch.pos[i] = i;
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = 0;
    batch.logits[i] = 1;
  }
  const int32_t rc = llama_decode(ctx, batch);
  if (rc != 0) die("llama_decode returned " + std::to_string(rc));

  std::vector<float> logits(static_cast<size_t>(n) * n_vocab);
  for (int32_t i = 0; i < n; ++i) {
    const float* row = llama_get_logits_ith(ctx, i);
    if (!row) die("no logits for position " + std::to_string(i));
    std::memcpy(&logits[static_cast<size_t>(i) * n_vocab], row, sizeof(float) * n_vocab);
  }
  write_npy_f32(opt.out, logits.data(), static_cast<size_t>(n), static_cast<size_t>(n_vocab));
  std::fprintf(stderr, "llamacpp_logits: wrote %s [%d, %d]\n", opt.out.c_str(), n, n_vocab);

  llama_batch_free(batch);
  llama_free(ctx);
  llama_model_free(model);
  llama_backend_free();
  return 0;
}
