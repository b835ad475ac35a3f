// `longctx synth --shape NAME --type TYPE [--layers N] -o FILE`: writes a random-weight GGUF of
// a Qwen3-family shape with the real Qwen3 tokenizer, for demos, tests and benchmarks. TYPE is a
// llama.cpp preset (Q4_K_M, Q8_0, ...: per-tensor types as llama-quantize picks them) or a plain
// tensor type (q4_K, q5_K: every 2-D weight in that type).
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "model/quant_preset.h"
#include "model/synth.h"
#include "plan/catalog.h"
#include "quant/quantize.h"
#include "tokenizer/gguf_export.h"

namespace longctx::cli {
namespace {

int fail(const std::string& msg) {
  std::fprintf(stderr, "longctx synth: %s\n", msg.c_str());
  return 1;
}

}  // namespace

CommandFn add_synth_command(CLI::App& app) {
  struct Args {
    std::string shape, type = "f16", out,
                       tokenizer = std::string(LONGCTX_DATA_DIR) + "/qwen3-tokenizer";
    uint32_t layers = 0;
    uint64_t seed = 42;
    bool quiet = false;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--shape", a->shape, "Catalog shape, e.g. qwen3-0.6b, qwen3-30b-a3b, qwen3-tiny")
      ->required();
  app.add_option("--type", a->type,
                 "Preset (Q4_K_M Q4_K_S Q5_K_M Q5_K_S Q6_K Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 BF16 F16 "
                 "F32) or uniform type (q4_K q5_K)")
      ->capture_default_str();
  app.add_option("--layers", a->layers, "Keep only the first N layers (a cut-down copy)");
  app.add_option("--seed", a->seed, "Random seed")->capture_default_str();
  app.add_option("--tokenizer", a->tokenizer,
                 "Hugging Face tokenizer directory to embed ('none': no tokenizer metadata, a "
                 "smaller file for tools that only read shapes, such as llama-quantize)");
  app.add_option("-o,--output", a->out, "Output GGUF file")->required();
  app.add_flag("-q,--quiet", a->quiet, "No progress output");
  return [a] {
    const ModelShape* shape = find_model_shape(a->shape);
    if (!shape) {
      std::string near;
      for (const std::string& n : nearest_model_names(a->shape))
        near += (near.empty() ? "" : ", ") + n;
      return fail("unknown shape '" + a->shape + "' (nearest: " + near + ")");
    }
    // A preset name wins over the plain type of the same name (Q4_0 keeps a q6_K output head, as
    // llama-quantize does); names that are only tensor types (q4_K, q5_K) write one uniform type.
    auto preset = parse_preset(a->type);
    auto type = parse_type_name(a->type);
    if (!preset.is_ok() && (!type || !has_quantizer(*type))) {
      return fail("cannot write weights of type '" + a->type +
                  "' (supported: presets Q4_K_M Q4_K_S Q5_K_M Q5_K_S Q6_K Q8_0 Q4_0 Q4_1 Q5_0 "
                  "Q5_1 BF16 F16 F32, types q4_K q5_K)");
    }
    SynthOptions opt;
    opt.hparams = hparams_from_shape(*shape);
    if (a->layers > 0) {
      if (a->layers > opt.hparams.n_layer) {
        return fail("--layers " + std::to_string(a->layers) + " exceeds the shape's " +
                    std::to_string(opt.hparams.n_layer) + " layers");
      }
      opt.hparams.n_layer = a->layers;
    }
    if (preset.is_ok()) {
      opt.preset = *preset;
    } else {
      opt.type = *type;
    }
    opt.seed = a->seed;
    if (a->tokenizer != "none") {
      auto tok = gguf_tokenizer_metadata(a->tokenizer, opt.hparams.n_vocab);
      if (!tok) return fail(tok.status().message());
      opt.tokenizer_metadata = std::move(tok).value();
    }
    const auto t0 = std::chrono::steady_clock::now();
    int last_pct = -1;
    const bool show_progress = !a->quiet && ::isatty(STDERR_FILENO);
    if (show_progress) {
      opt.progress = [&last_pct](uint64_t done, uint64_t total) {
        const int pct = total ? int(100 * done / total) : 100;
        if (pct != last_pct) {
          std::fprintf(stderr, "\rwriting tensors: %3d%% (%.1f / %.1f MiB)", pct, done / 1048576.0,
                       total / 1048576.0);
          last_pct = pct;
        }
      };
    }
    Status st = write_synth_model(opt, a->out);
    if (show_progress) std::fprintf(stderr, "\n");
    if (!st) return fail(st.message());
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "wrote %s (%s, %u layers, %s) in %.1f s\n", a->out.c_str(), shape->name,
                 opt.hparams.n_layer, preset.is_ok() ? preset_name(*preset) : type_name(*type),
                 secs);
    return 0;
  };
}

}  // namespace longctx::cli
