# Sources of src/model/: hyperparameters and tensor lists (the forward pass comes with its issue).
list(APPEND LONGCTX_LIB_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/hparams.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tensors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/synth.cpp
)
