# Sources of src/memory/: the memory loop's SQLite store, full-text recall (FTS5 with Snowball
# stemming and CJK bigrams), conversation files.
list(APPEND LONGCTX_LIB_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/text_analyzer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stop_words.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fts_tokenizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fts_rank.cpp
  ${CMAKE_CURRENT_LIST_DIR}/store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/recall.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dates.cpp
  ${CMAKE_CURRENT_LIST_DIR}/recall_eval.cpp
  ${CMAKE_CURRENT_LIST_DIR}/conversation_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/summary_prompt.cpp
  ${CMAKE_CURRENT_LIST_DIR}/memory_loop.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_summarizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/history_sync.cpp
)
