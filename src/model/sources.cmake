# Sources of src/model/: hyperparameters, tensor list, loading, the forward pass (shared blocks
# plus one file per architecture), synth writer, quantization presets.
list(APPEND LONGCTX_LIB_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/hparams.cpp
  ${CMAKE_CURRENT_LIST_DIR}/hf_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tensors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_summary.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model.cpp
  ${CMAKE_CURRENT_LIST_DIR}/forward.cpp
  ${CMAKE_CURRENT_LIST_DIR}/forward_cuda.cpp
  ${CMAKE_CURRENT_LIST_DIR}/blocks.cpp
  ${CMAKE_CURRENT_LIST_DIR}/qwen3.cpp
  ${CMAKE_CURRENT_LIST_DIR}/qwen3_moe.cpp
  ${CMAKE_CURRENT_LIST_DIR}/qwen2.cpp
  ${CMAKE_CURRENT_LIST_DIR}/synth.cpp
  ${CMAKE_CURRENT_LIST_DIR}/quant_preset.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_identity.cpp
)
