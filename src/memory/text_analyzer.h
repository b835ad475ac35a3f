// Text analysis for the memory loop's full-text recall: splits a turn (or a query) into search
// terms. Case folding and compatibility normalisation (utf8proc), Snowball stemming (libstemmer:
// English for Latin script, Russian for Cyrillic), stop words dropped, CJK text as single
// characters and overlapping character bigrams (Chinese has no spaces; a bigram is the usual unit
// of Chinese full-text search, single characters catch related words), numbers kept, and ISO 8601
// dates expanded into the words a question would use for them ("March", "2024", "марте", "3月").
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct sb_stemmer;

namespace longctx::memory {

// One word of the input before stemming: its folded surface form and its byte range.
struct Word {
  std::string folded;  // case-folded, NFKC, "ё" as "е"
  int begin = 0;       // byte offsets into the analysed text
  int end = 0;
  enum Kind { kLatin, kCyrillic, kCjk, kNumber, kOther } kind = kOther;
};

class TextAnalyzer {
 public:
  TextAnalyzer();
  ~TextAnalyzer();
  TextAnalyzer(const TextAnalyzer&) = delete;
  TextAnalyzer& operator=(const TextAnalyzer&) = delete;

  // Splits text into words: letter/digit runs (apostrophes inside Latin words kept), CJK runs
  // cut into characters and overlapping bigrams (a number followed by 年/月/日/号 is one word,
  // "3月"). Invalid UTF-8 bytes separate words.
  std::vector<Word> words(std::string_view text) const;

  // Calls emit(term, begin, end) for each index term of a document: stop words dropped, stems
  // for Latin and Cyrillic words, and the expansion of each ISO 8601 date "YYYY-MM-DD" into its
  // year, month names (English, Russian) and "N月".
  void index_terms(std::string_view text,
                   const std::function<void(std::string_view, int, int)>& emit) const;

  // The words of a query to search for, each as it may be written in an FTS5 query string
  // (quoted by the caller): query stop words ("what", "tell", "remember", ...) left out and
  // duplicates removed, in first-seen order. Words are returned unstemmed; the FTS5 tokenizer
  // stems them as it stems documents.
  std::vector<std::string> query_words(std::string_view text) const;

  // The stem of one folded word (what index_terms emits for it).
  std::string stem(const Word& w) const;

  // Whether index_terms (query: false) or query_words (query: true) leaves the word out.
  static bool is_dropped(const Word& w, bool query);

  static bool is_stop_word(std::string_view folded);        // document + query stop words
  static bool is_query_stop_word(std::string_view folded);  // extra words only queries drop

 private:
  sb_stemmer* english_ = nullptr;
  sb_stemmer* russian_ = nullptr;
};

}  // namespace longctx::memory
