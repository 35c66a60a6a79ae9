// pagoda as a library: load a GGUF, print what load decided, stream a greedy
// answer through Model::generate, then take the same steps one level down
// (AnyEngine::prefill/decode) and check they give the same tokens.
//   pagoda-consumer [model.gguf] [question]     (model default: $PAGODA_MODEL_PATH)
// Without a GPU, pagoda::load runs the CPU reference engine and says so in its
// report; the kernel check of q8_1_gemv.cu is then skipped, visibly.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <pagoda/pagoda.hpp>

#if PAGODA_HAS_CUDA
#include "q8_1_gemv.hpp"
#endif

int main(int argc, char** argv) {
  const char* model_path = argc > 1 ? argv[1] : std::getenv("PAGODA_MODEL_PATH");
  if (model_path == nullptr) {
    std::fprintf(stderr, "usage: pagoda-consumer MODEL.gguf [QUESTION] (or set PAGODA_MODEL_PATH)\n");
    return 2;
  }
  const std::string question = argc > 2 ? argv[2] : "What is the capital of France? Answer in one sentence.";
  try {
    pagoda::LoadOptions options;             // mapping "auto"; no GPU: the CPU reference engine
    options.engine.context_size = 512;
    options.engine.sampling.temperature = 0;  // greedy: the same answer on every run and engine
    auto model = pagoda::load(model_path, options);
    for (const auto& line : model.load_report()) std::fprintf(stderr, "load: %s\n", line.c_str());
    if (const auto report = model.placement_report())
      std::fprintf(stderr, "placement: %llu tensor bytes, %llu of them in VRAM\n",
                   static_cast<unsigned long long>(report->tensor_bytes),
                   static_cast<unsigned long long>(report->vram_bytes));

    const std::vector<pagoda::text::ChatMessage> messages{{"user", question}};
    const auto prompt = model.chat_prompt(messages);
    const auto stats = model.generate(prompt, 48, [](std::string_view text) {
      std::cout << text << std::flush;
      return true;  // false would stop the generation here
    });
    std::cout << '\n';
    std::fprintf(stderr, "generated %zu tokens on the %s\n", stats.generated_tokens,
                 model.engine().on_gpu() ? "GPU" : "CPU reference path");

    // One level down: prefill returns the next token, decode feeds one and
    // returns the next. generate fed its tokens the same way, so the cache
    // holds them after the prompt.
    const std::vector<std::int32_t> generated(model.cached_tokens().begin() + std::ptrdiff_t(prompt.size()),
                                              model.cached_tokens().end());
    model.reset();
    auto& engine = model.engine();
    std::vector<std::int32_t> stepped;
    if (!generated.empty()) stepped.push_back(engine.prefill(prompt));
    while (stepped.size() < generated.size()) stepped.push_back(engine.decode(stepped.back()));
    if (stepped != generated) {
      std::fprintf(stderr, "prefill/decode gave \"%s\", generate gave \"%s\"\n",
                   model.tokenizer().decode(stepped).c_str(), model.tokenizer().decode(generated).c_str());
      return 1;
    }
    std::fprintf(stderr, "prefill/decode: the same %zu tokens as generate\n", stepped.size());

#if PAGODA_HAS_CUDA
    if (consumer::check_q8_1_gemv() == consumer::KernelCheck::failed) return 1;
#endif
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pagoda-consumer: %s\n", e.what());
    return 1;
  }
}
