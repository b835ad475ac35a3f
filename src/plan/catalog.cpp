// The Qwen3 family's published shapes (config.json of each release).
#include "plan/catalog.h"
#include "plan/names.h"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace longctx {
namespace {

// Columns: name, hf_name, arch, layers, hidden, ffn, heads, kv heads, head_dim, vocab,
// native ctx, rope_theta, rms_eps, tied, experts, experts used, expert ffn, norm_topk_prob.
// clang-format off: one model per line reads as a table.
constexpr ModelShape kCatalog[] = {
    {"qwen3-0.6b", "Qwen3-0.6B", "qwen3", 28, 1024, 3072, 16, 8, 128, 151936, 40960, 1e6, 1e-6,
     true, 0, 0, 0, false},
    {"qwen3-1.7b", "Qwen3-1.7B", "qwen3", 28, 2048, 6144, 16, 8, 128, 151936, 40960, 1e6, 1e-6,
     true, 0, 0, 0, false},
    {"qwen3-4b", "Qwen3-4B", "qwen3", 36, 2560, 9728, 32, 8, 128, 151936, 40960, 1e6, 1e-6, true, 0,
     0, 0, false},
    {"qwen3-4b-2507", "Qwen3-4B-Instruct-2507", "qwen3", 36, 2560, 9728, 32, 8, 128, 151936, 262144,
     5e6, 1e-6, true, 0, 0, 0, false},
    {"qwen3-8b", "Qwen3-8B", "qwen3", 36, 4096, 12288, 32, 8, 128, 151936, 40960, 1e6, 1e-6, false,
     0, 0, 0, false},
    {"qwen3-14b", "Qwen3-14B", "qwen3", 40, 5120, 17408, 40, 8, 128, 151936, 40960, 1e6, 1e-6,
     false, 0, 0, 0, false},
    {"qwen3-32b", "Qwen3-32B", "qwen3", 64, 5120, 25600, 64, 8, 128, 151936, 40960, 1e6, 1e-6,
     false, 0, 0, 0, false},
    {"qwen3-30b-a3b", "Qwen3-30B-A3B", "qwen3moe", 48, 2048, 0, 32, 4, 128, 151936, 40960, 1e6,
     1e-6, false, 128, 8, 768, true},
    {"qwen3-30b-a3b-2507", "Qwen3-30B-A3B-Instruct-2507", "qwen3moe", 48, 2048, 0, 32, 4, 128,
     151936, 262144, 1e7, 1e-6, false, 128, 8, 768, true},
    {"qwen3-coder-30b-a3b", "Qwen3-Coder-30B-A3B-Instruct", "qwen3moe", 48, 2048, 0, 32, 4, 128,
     151936, 262144, 1e7, 1e-6, false, 128, 8, 768, true},
    {"qwen3-235b-a22b", "Qwen3-235B-A22B", "qwen3moe", 94, 4096, 0, 64, 4, 128, 151936, 40960, 1e6,
     1e-6, false, 128, 8, 1536, true},
    {"qwen3-235b-a22b-2507", "Qwen3-235B-A22B-Instruct-2507", "qwen3moe", 94, 4096, 0, 64, 4, 128,
     151936, 262144, 5e6, 1e-6, false, 128, 8, 1536, true},
};
// clang-format on

// Shapes that are not published models: small, with the real vocabulary, for demos and tests.
// Findable by name, but not part of model_catalog().
// clang-format off
constexpr ModelShape kTestShapes[] = {
    {"qwen3-tiny", "Qwen3-tiny (test shape)", "qwen3", 2, 64, 192, 4, 2, 128, 151936, 40960, 1e6, 1e-6, true, 0, 0, 0, false},
    {"qwen3moe-tiny", "Qwen3-MoE-tiny (test shape)", "qwen3moe", 2, 64, 0, 4, 2, 128, 151936, 40960, 1e6, 1e-6, false, 8, 2, 32, true},
};
// clang-format on

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

ModelHparams hparams_from_shape(const ModelShape& s) {
  ModelHparams hp;
  hp.arch = s.arch;
  hp.name = s.hf_name;
  hp.n_layer = s.n_layer;
  hp.n_embd = s.n_embd;
  hp.n_ff = s.n_ff;
  hp.n_head = s.n_head;
  hp.n_head_kv = s.n_head_kv;
  hp.head_dim = hp.head_dim_v = s.head_dim;
  hp.n_vocab = s.n_vocab;
  hp.n_ctx_train = s.n_ctx_train;
  hp.rope_freq_base = s.rope_theta;
  hp.rms_eps = s.rms_eps;
  hp.tied_embeddings = s.tied_embeddings;
  hp.n_expert = s.n_expert;
  hp.n_expert_used = s.n_expert_used;
  hp.n_ff_expert = s.n_ff_expert;
  return hp;
}

std::span<const ModelShape> model_catalog() { return {kCatalog, std::size(kCatalog)}; }

const ModelShape* find_model_shape(std::string_view name) {
  const std::string key = lower(name);
  for (const ModelShape& m : kCatalog) {
    if (key == m.name || key == lower(m.hf_name)) return &m;
  }
  for (const ModelShape& m : kTestShapes) {
    if (key == m.name) return &m;
  }
  return nullptr;
}

std::vector<std::string> nearest_model_names(std::string_view name, size_t max_results) {
  const std::string key = lower(name);
  std::vector<std::pair<size_t, const char*>> scored;
  for (const ModelShape& m : kCatalog) scored.emplace_back(edit_distance(key, m.name), m.name);
  for (const ModelShape& m : kTestShapes) scored.emplace_back(edit_distance(key, m.name), m.name);
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < max_results; ++i) out.emplace_back(scored[i].second);
  return out;
}

}  // namespace longctx
