#include "pagoda_bench/model_info.hpp"

#include <vector>

#include "pagoda/model/config.hpp"
#include "pagoda_bench/roofline.hpp"

namespace pagoda::bench {

ModelInfo describe_model(const gguf::File& file, std::string path) {
  const model::ModelConfig config = model::read_config(file);
  ModelInfo info;
  info.name = config.name;
  info.path = std::move(path);
  info.vocab = config.vocab_size;
  std::vector<TensorBytes> tensors;
  tensors.reserve(file.tensors().size());
  for (const gguf::TensorInfo& t : file.tensors()) {
    info.size_bytes += t.byte_size;
    info.params += t.element_count;
    tensors.push_back({t.name, t.byte_size, t.rows() == 0 ? t.byte_size : t.row_bytes()});
  }
  info.weight_bytes_per_token = weight_bytes_per_token(tensors);
  info.kv_bytes_per_position = kv_bytes_per_position(config.n_layers, config.kv_dim());
  return info;
}

}  // namespace pagoda::bench
