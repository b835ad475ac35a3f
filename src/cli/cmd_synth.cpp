// `longctx synth (--shape NAME | --config config.json) --type TYPE [--layers N] -o FILE`: writes
// a random-weight GGUF of a Qwen3-family shape (from the catalog or a Hugging Face config.json)
// with the real Qwen3 tokenizer, for demos, tests and benchmarks. TYPE is a
// llama.cpp preset (Q4_K_M, Q8_0, ...: per-tensor types as llama-quantize picks them) or a plain
// tensor type (q4_K, q5_K: every 2-D weight in that type).
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "model/hf_config.h"
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

// A model name for general.name from a config path: ".../Qwen3-8B/config.json" -> "Qwen3-8B",
// "qwen3-tiny.json" -> "qwen3-tiny".
std::string name_from_config_path(const std::string& path) {
  const std::filesystem::path p(path);
  if (p.filename() == "config.json" && p.has_parent_path() && p.parent_path().has_filename()) {
    return p.parent_path().filename().string();
  }
  return p.stem().string();
}

// The hyperparameters to write, from exactly one of --shape and --config, plus a label for the
// summary line. Returns an error message instead when neither or an unknown one is given.
struct ModelSource {
  ModelHparams hparams;
  std::string label;
};

Result<ModelSource> resolve_model(const std::string& shape_name, const std::string& config) {
  if (shape_name.empty() == config.empty()) {
    return invalid_argument("exactly one of --shape and --config is required");
  }
  if (!config.empty()) {
    auto hp = hparams_from_hf_config_file(config);
    if (!hp) return hp.status();
    ModelSource src{std::move(hp).value(), config};
    src.hparams.name = name_from_config_path(config);
    return src;
  }
  const ModelShape* shape = find_model_shape(shape_name);
  if (!shape) {
    std::string near;
    for (const std::string& n : nearest_model_names(shape_name))
      near += (near.empty() ? "" : ", ") + n;
    return invalid_argument("unknown shape '" + shape_name + "' (nearest: " + near + ")");
  }
  return ModelSource{hparams_from_shape(*shape), shape->name};
}

}  // namespace

CommandFn add_synth_command(CLI::App& app) {
  struct Args {
    std::string shape, config, type = "f16", out,
                               tokenizer = std::string(LONGCTX_DATA_DIR) + "/qwen3-tokenizer";
    uint32_t layers = 0;
    uint64_t seed = 42;
    float weight_std = 0.02f;
    uint32_t k_outliers = 0;
    float k_outlier_gain = 16.0f;
    bool quiet = false, random_blocks = false;
    int threads = 0;
  };
  auto a = std::make_shared<Args>();
  auto* shape_opt = app.add_option("--shape", a->shape,
                                   "Catalog shape, e.g. qwen3-0.6b, qwen3-30b-a3b, qwen3-tiny");
  app.add_option("--config", a->config,
                 "Hugging Face config.json of a Qwen3, Qwen3-MoE or Qwen2 model (instead of "
                 "--shape)")
      ->excludes(shape_opt);
  app.add_option("--type", a->type,
                 "Preset (Q4_K_M Q4_K_S Q5_K_M Q5_K_S Q6_K Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 BF16 F16 "
                 "F32) or uniform type (q4_K q5_K)")
      ->capture_default_str();
  app.add_option("--layers", a->layers, "Keep only the first N layers (a cut-down copy)");
  app.add_option("--seed", a->seed, "Random seed")->capture_default_str();
  app.add_option("--weight-std", a->weight_std,
                 "Standard deviation of the random weights (larger: a wider logit spread)")
      ->check(CLI::Range(1e-6f, 10.0f))
      ->check(CLI::Validator(
          [](const std::string& v) {
            // CLI::Range lets NaN through (every comparison with NaN is false).
            return std::isfinite(std::strtof(v.c_str(), nullptr)) ? std::string()
                                                                  : "must be a finite number";
          },
          "FINITE"))
      ->capture_default_str();
  app.add_option("--tokenizer", a->tokenizer,
                 "Hugging Face tokenizer directory to embed ('none': no tokenizer metadata, a "
                 "smaller file for tools that only read shapes, such as llama-quantize)");
  app.add_option("--k-outliers", a->k_outliers,
                 "Plant this many Qwen3-like outlier channels in every layer's keys (large "
                 "attn_k_norm gains on low-frequency RoPE pairs; an even number), e.g. 4");
  app.add_option("--k-outlier-gain", a->k_outlier_gain, "Gain of the planted key channels")
      ->capture_default_str();
  app.add_flag("--random-blocks", a->random_blocks,
               "Write quantized weights as random blocks with bounded scales instead of "
               "quantizing random floats: a full-size model in about the time the disk takes "
               "(the values are still zero-mean with --weight-std spread)");
  app.add_option("-t,--threads", a->threads, "Threads (default: every core; the file is the same)")
      ->check(CLI::Range(0, 4096));
  app.add_option("-o,--output", a->out, "Output GGUF file")->required();
  app.add_flag("-q,--quiet", a->quiet, "No progress output");
  return [a] {
    auto model = resolve_model(a->shape, a->config);
    if (!model) return fail(model.status().message());
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
    opt.hparams = model->hparams;
    if (a->layers > 0) {
      if (a->layers > opt.hparams.n_layer) {
        return fail("--layers " + std::to_string(a->layers) + " exceeds the model's " +
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
    opt.random_blocks = a->random_blocks;
    opt.n_threads = a->threads;
    opt.weight_std = a->weight_std;
    opt.k_outlier_channels = a->k_outliers;
    opt.k_outlier_gain = a->k_outlier_gain;
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
    std::fprintf(stderr, "wrote %s (%s, %u layers, %s%s) in %.1f s\n", a->out.c_str(),
                 model->label.c_str(), opt.hparams.n_layer,
                 preset.is_ok() ? preset_name(*preset) : type_name(*type),
                 a->random_blocks ? ", random blocks" : "", secs);
    return 0;
  };
}

}  // namespace longctx::cli
