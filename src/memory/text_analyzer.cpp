// Text analysis for full-text recall: words, folding, stemming, CJK bigrams, date expansion.
#include "memory/text_analyzer.h"

#include <libstemmer.h>
#include <utf8proc.h>

#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include "tokenizer/utf8.h"

namespace longctx::memory {

bool is_cjk_stop_char(std::string_view c);  // stop_words.cpp

namespace {

bool is_cjk(int32_t cp) {
  return (cp >= 0x3040 && cp <= 0x30FF) ||  // Hiragana, Katakana
         (cp >= 0x3100 && cp <= 0x312F) ||  // Bopomofo
         (cp >= 0x3400 && cp <= 0x4DBF) ||  // CJK Extension A
         (cp >= 0x4E00 && cp <= 0x9FFF) ||  // CJK Unified Ideographs
         (cp >= 0xAC00 && cp <= 0xD7AF) ||  // Hangul syllables
         (cp >= 0xF900 && cp <= 0xFAFF) ||  // CJK Compatibility Ideographs
         (cp >= 0x20000 && cp <= 0x3134F);  // Extensions B..G
}
bool is_cyrillic(int32_t cp) { return cp >= 0x0400 && cp <= 0x052F; }

enum class CharClass { kSeparator, kLetter, kDigit, kMark, kApostrophe, kCjk };

CharClass classify(int32_t cp) {
  if (cp < 0x80) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return CharClass::kLetter;
    if (cp >= '0' && cp <= '9') return CharClass::kDigit;
    if (cp == '\'') return CharClass::kApostrophe;
    return CharClass::kSeparator;
  }
  if (cp == 0x2019) return CharClass::kApostrophe;  // right single quotation mark
  if (is_cjk(cp)) return CharClass::kCjk;
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return CharClass::kLetter;
    case UTF8PROC_CATEGORY_ND:
      return CharClass::kDigit;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return CharClass::kMark;
    default:
      return CharClass::kSeparator;
  }
}

// Case fold + NFKC (fullwidth Latin to ASCII, ligatures split), "ё" to "е".
std::string fold(std::string_view s) {
  std::string out;
  if (tok::is_ascii(s)) {
    out.assign(s);
    for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return out;
  }
  utf8proc_uint8_t* res = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
      &res,
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                     UTF8PROC_CASEFOLD | UTF8PROC_IGNORE));
  if (n < 0) return std::string(s);
  out.assign(reinterpret_cast<const char*>(res), static_cast<size_t>(n));
  std::free(res);
  // "ё" (U+0451, D1 91) is written as "е" (U+0435, D0 B5) in most Russian text.
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    if (static_cast<unsigned char>(out[i]) == 0xD1 &&
        static_cast<unsigned char>(out[i + 1]) == 0x91) {
      out[i] = static_cast<char>(0xD0);
      out[i + 1] = static_cast<char>(0xB5);
    }
  }
  return out;
}

// Decodes the code point at s[i] (valid UTF-8 of length len).
int32_t decode(std::string_view s, size_t i, size_t len) {
  utf8proc_int32_t cp = 0;
  utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                   static_cast<utf8proc_ssize_t>(len), &cp);
  return cp;
}

bool is_cjk_unit(std::string_view c) { return c == "年" || c == "月" || c == "日" || c == "号"; }

// Numbers are compared without leading zeros ("08" in a date is the "8" of "8 May").
std::string strip_zeros(const std::string& digits) {
  size_t i = 0;
  while (i + 1 < digits.size() && digits[i] == '0') ++i;
  return digits.substr(i);
}

const char* const kMonthsEn[12] = {"january",   "february", "march",    "april",
                                   "may",       "june",     "july",     "august",
                                   "september", "october",  "november", "december"};
const char* const kMonthsRu[12] = {"январь", "февраль", "март",     "апрель",  "май",    "июнь",
                                   "июль",   "август",  "сентябрь", "октябрь", "ноябрь", "декабрь"};

}  // namespace

TextAnalyzer::TextAnalyzer()
    : english_(sb_stemmer_new("english", "UTF_8")), russian_(sb_stemmer_new("russian", "UTF_8")) {}

TextAnalyzer::~TextAnalyzer() {
  if (english_) sb_stemmer_delete(english_);
  if (russian_) sb_stemmer_delete(russian_);
}

std::vector<Word> TextAnalyzer::words(std::string_view text) const {
  std::vector<Word> out;
  // Pending non-CJK word, by byte range; pending CJK run, by character offsets.
  size_t word_begin = 0, word_end = 0;
  bool in_word = false;
  CharClass word_last = CharClass::kSeparator;
  std::vector<std::pair<int, int>> cjk;  // byte ranges of the run's characters

  auto flush_word = [&]() {
    if (!in_word) return;
    in_word = false;
    // A trailing apostrophe is not part of the word.
    size_t e = word_end;
    while (e > word_begin &&
           (text[e - 1] == '\'' || (e - word_begin >= 3 && text.substr(e - 3, 3) == "\u2019"))) {
      e -= text[e - 1] == '\'' ? 1 : 3;
    }
    if (e == word_begin) return;
    Word w;
    w.begin = static_cast<int>(word_begin);
    w.end = static_cast<int>(e);
    // Typographic apostrophes as ASCII ones, so "don’t" is "don't".
    std::string raw;
    const std::string_view span = text.substr(word_begin, e - word_begin);
    for (size_t k = 0; k < span.size(); ++k) {
      if (span.substr(k, 3) == "\u2019") {
        raw += '\'';
        k += 2;
      } else {
        raw += span[k];
      }
    }
    w.folded = fold(raw);
    bool digits = true;
    for (char c : w.folded) digits = digits && c >= '0' && c <= '9';
    if (digits) {
      w.kind = Word::kNumber;
      w.folded = strip_zeros(w.folded);
    } else {
      size_t n0 = 0;
      const int32_t cp0 = decode(w.folded, 0, tok::utf8_sequence_length(w.folded, &n0));
      w.kind = cp0 < 0x250 || (cp0 >= 0x1E00 && cp0 <= 0x1EFF) ? Word::kLatin
               : is_cyrillic(cp0)                              ? Word::kCyrillic
                                                               : Word::kOther;
    }
    out.push_back(std::move(w));
  };
  // Each character of a CJK run is a word, and so is each pair of neighbours: pairs match the
  // two-character words most Chinese words are, single characters match a word written with
  // another second character (搬到 "move to" and 搬家 "move house" share 搬), as Lucene's CJK
  // analyzer does with unigrams on.
  auto flush_cjk = [&]() {
    for (size_t i = 0; i < cjk.size(); ++i) {
      for (size_t n : {size_t{1}, size_t{2}}) {
        if (i + n > cjk.size()) break;
        Word w;
        w.begin = cjk[i].first;
        w.end = cjk[i + n - 1].second;
        w.folded = fold(text.substr(w.begin, w.end - w.begin));
        w.kind = Word::kCjk;
        out.push_back(std::move(w));
      }
    }
    cjk.clear();
  };

  size_t i = 0;
  while (i < text.size()) {
    size_t bad = 0;
    const size_t len = tok::utf8_sequence_length(text.substr(i), &bad);
    if (len == 0) {  // invalid bytes separate words
      flush_word();
      flush_cjk();
      i += bad;
      continue;
    }
    const int32_t cp = decode(text, i, len);
    const CharClass cls = classify(cp);
    if (cls == CharClass::kCjk) {
      // A number right before 年/月/日/号 is one word with it: "3月", "2024年".
      const std::string_view ch = text.substr(i, len);
      if (in_word && word_last == CharClass::kDigit && is_cjk_unit(ch) && cjk.empty()) {
        word_end = i + len;
        flush_word();
        out.back().kind = Word::kCjk;
        i += len;
        continue;
      }
      flush_word();
      cjk.emplace_back(static_cast<int>(i), static_cast<int>(i + len));
      i += len;
      continue;
    }
    flush_cjk();
    const bool letter_like = cls == CharClass::kLetter || cls == CharClass::kMark;
    if (letter_like || cls == CharClass::kDigit) {
      // A change between digits and letters starts a new word ("3pm", "17T18").
      const bool was_digit = word_last == CharClass::kDigit;
      if (in_word && word_last != CharClass::kApostrophe && cls != CharClass::kMark &&
          was_digit != (cls == CharClass::kDigit)) {
        flush_word();
      }
      if (!in_word) {
        in_word = true;
        word_begin = i;
      }
      word_end = i + len;
      if (cls != CharClass::kMark) word_last = cls;
      i += len;
      continue;
    }
    if (cls == CharClass::kApostrophe && in_word && word_last == CharClass::kLetter) {
      word_end = i + len;  // kept only if a letter follows (see flush_word)
      word_last = CharClass::kApostrophe;
      i += len;
      continue;
    }
    flush_word();
    word_last = CharClass::kSeparator;
    i += len;
  }
  flush_word();
  flush_cjk();
  return out;
}

std::string TextAnalyzer::stem(const Word& w) const {
  sb_stemmer* st = w.kind == Word::kLatin      ? english_
                   : w.kind == Word::kCyrillic ? russian_
                                               : nullptr;
  if (st == nullptr || w.folded.size() < 3) return w.folded;
  const sb_symbol* r = sb_stemmer_stem(st, reinterpret_cast<const sb_symbol*>(w.folded.data()),
                                       static_cast<int>(w.folded.size()));
  if (r == nullptr) return w.folded;
  return std::string(reinterpret_cast<const char*>(r), static_cast<size_t>(sb_stemmer_length(st)));
}

namespace {

bool dropped(const Word& w, bool query) {
  if (w.kind == Word::kCjk) {
    // A bigram of two function characters, or a lone function character.
    const std::string& s = w.folded;
    size_t n0 = 0;
    const size_t l0 = tok::utf8_sequence_length(s, &n0);
    if (l0 == 0) return false;
    if (l0 == s.size()) return is_cjk_stop_char(s);
    const std::string_view a(s.data(), l0), b(s.data() + l0, s.size() - l0);
    return is_cjk_stop_char(a) && is_cjk_stop_char(b);
  }
  if (w.kind == Word::kLatin && w.folded.size() == 1) return true;  // stray letters
  return TextAnalyzer::is_stop_word(w.folded) ||
         (query && TextAnalyzer::is_query_stop_word(w.folded));
}

}  // namespace

bool TextAnalyzer::is_dropped(const Word& w, bool query) { return dropped(w, query); }

void TextAnalyzer::index_terms(std::string_view text,
                               const std::function<void(std::string_view, int, int)>& emit) const {
  const std::vector<Word> ws = words(text);
  for (size_t i = 0; i < ws.size(); ++i) {
    const Word& w = ws[i];
    // An ISO 8601 date: YYYY-MM-DD with single hyphens between, optionally followed by
    // THH:MM[:SS]. Its parts are emitted as numbers and as the names a question uses.
    if (w.kind == Word::kNumber && w.end - w.begin == 4 && i + 2 < ws.size() &&
        ws[i + 1].kind == Word::kNumber && ws[i + 2].kind == Word::kNumber &&
        ws[i + 1].begin == w.end + 1 && ws[i + 2].begin == ws[i + 1].end + 1 &&
        text[w.end] == '-' && text[ws[i + 1].end] == '-' && ws[i + 1].end - ws[i + 1].begin == 2 &&
        ws[i + 2].end - ws[i + 2].begin == 2) {
      const int month = std::atoi(ws[i + 1].folded.c_str());
      if (month >= 1 && month <= 12) {
        const int b = w.begin, e = ws[i + 2].end;
        emit(w.folded, b, e);
        emit(w.folded + "年", b, e);
        Word en{kMonthsEn[month - 1], b, e, Word::kLatin};
        Word ru{kMonthsRu[month - 1], b, e, Word::kCyrillic};
        emit(stem(en), b, e);
        emit(stem(ru), b, e);
        emit(std::to_string(month) + "月", b, e);
        emit(ws[i + 2].folded, b, e);
        emit(ws[i + 2].folded + "日", b, e);
        i += 2;
        // The time of day ("T18:42:00") is not a search term.
        size_t j = i + 1;
        if (j < ws.size() && ws[j].folded == "t" && ws[j].begin == e) {
          ++j;
          while (j < ws.size() && ws[j].kind == Word::kNumber && ws[j].end - ws[j].begin == 2 &&
                 ws[j].begin - ws[j - 1].end <= 1) {
            ++j;
          }
          i = j - 1;
        }
        continue;
      }
    }
    if (dropped(w, /*query=*/false)) continue;
    emit(stem(w), w.begin, w.end);
  }
}

std::vector<std::string> TextAnalyzer::query_words(std::string_view text) const {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const Word& w : words(text)) {
    if (dropped(w, /*query=*/true)) continue;
    if (seen.insert(w.folded).second) out.push_back(w.folded);
  }
  return out;
}

}  // namespace longctx::memory
