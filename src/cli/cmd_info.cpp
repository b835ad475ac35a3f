// `longctx info FILE [--tensors]`: prints a GGUF file's header, metadata, parameter count and
// bytes per tensor type (formatting lives in gguf/gguf_info.h so it is unit-tested).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "gguf/gguf.h"
#include "gguf/gguf_info.h"
#include "model/model_summary.h"

namespace longctx::cli {

CommandFn add_info_command(CLI::App& app) {
  struct Args {
    std::string path;
    GgufInfoOptions opts;
  };
  auto args = std::make_shared<Args>();
  app.add_option("file", args->path, "GGUF model file")->required();
  app.add_flag("--tensors", args->opts.list_tensors,
               "Also print every tensor (name, type, dims, bytes, offset)");
  app.add_option("--max-array", args->opts.max_array_elems,
                 "Array elements shown before abbreviating")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  return [args] {
    auto f = GgufFile::open(args->path);
    if (!f) {
      std::fprintf(stderr, "longctx info: %s\n", f.status().message().c_str());
      return 1;
    }
    std::printf("file:          %s\n%s", args->path.c_str(),
                format_gguf_info(f.value(), f->file_size(), args->opts).c_str());
    // The model view (the tensor list visited against the file), for supported architectures.
    auto summary = summarize_model(f.value());
    if (summary) {
      std::printf("%s", format_model_summary(*summary).c_str());
    } else {
      std::printf("model:         not runnable by longctx: %s\n",
                  summary.status().message().c_str());
    }
    return 0;
  };
}

}  // namespace longctx::cli
