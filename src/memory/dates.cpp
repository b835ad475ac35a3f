// Dates in words: turn times and the periods queries name (see dates.h).
#include "memory/dates.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdlib>
#include <string>

#include "memory/store.h"
#include "memory/text_analyzer.h"

namespace longctx::memory {
namespace {

constexpr std::array<std::string_view, 12> kMonthsEn = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};
// Russian month names without their case endings: "март" + "", "а", "е"; "ма" only with "й",
// "я", "е" (May).
constexpr std::array<std::string_view, 12> kMonthStemsRu = {"январ",   "феврал", "март",  "апрел",
                                                            "ма",      "июн",    "июл",   "август",
                                                            "сентябр", "октябр", "ноябр", "декабр"};
constexpr std::array<std::string_view, 7> kWeekdaysEn = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};

// 1..12 for an English month name or its three-letter abbreviation ("sept" too), else 0.
int month_en(std::string_view w) {
  for (int m = 0; m < 12; ++m) {
    if (w == kMonthsEn[m] || (w.size() == 3 && kMonthsEn[m].substr(0, 3) == w)) return m + 1;
  }
  return w == "sept" ? 9 : 0;
}

// 1..12 for a Russian month name in any case ("март", "марта", "марте", "мая"), else 0.
int month_ru(std::string_view w) {
  for (int m = 0; m < 12; ++m) {
    const std::string_view s = kMonthStemsRu[m];
    if (w.substr(0, s.size()) != s) continue;
    const std::string_view end = w.substr(s.size());
    if (m == 4 ? (end == "й" || end == "я" || end == "е")
               : (end.empty() || end == "ь" || end == "я" || end == "а" || end == "е")) {
      return m + 1;
    }
  }
  return 0;
}

int month_name(const Word& w) {
  if (w.kind == Word::kLatin) return month_en(w.folded);
  if (w.kind == Word::kCyrillic) return month_ru(w.folded);
  return 0;
}

int number(const Word& w) {
  return w.kind == Word::kNumber && w.folded.size() <= 4 ? std::atoi(w.folded.c_str()) : -1;
}
bool is_year(const Word& w) {
  const int y = number(w);
  return w.end - w.begin == 4 && y >= 1900 && y <= 2100;
}
bool is_day(const Word& w) {
  const int d = number(w);
  return w.end - w.begin <= 2 && d >= 1 && d <= 31;
}

// A CJK date word: a number with its unit ("2024年", "3月", "10日"); the number, or -1.
int cjk_part(const Word& w, std::string_view unit) {
  if (w.kind != Word::kCjk || w.folded.size() <= unit.size()) return -1;
  const std::string_view f = w.folded;
  if (f.substr(f.size() - unit.size()) != unit) return -1;
  const std::string_view digits = f.substr(0, f.size() - unit.size());
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
  }
  return std::atoi(std::string(digits).c_str());
}

// Words that may sit inside a written date: ordinal endings ("8th"), "of", "the", and in
// Russian "года" / "г" after the year.
bool is_filler(const Word& w) {
  static constexpr std::array<std::string_view, 8> kFill = {"st", "nd",  "rd",   "th",
                                                            "of", "the", "года", "г"};
  for (std::string_view f : kFill) {
    if (w.folded == f) return true;
  }
  return false;
}

DatePeriod period(int y, int m, int d, int begin, int end) {
  DatePeriod p;
  p.begin = begin;
  p.end = end;
  if (m == 0) {
    p.from = unix_seconds(y, 1, 1);
    p.to = unix_seconds(y + 1, 1, 1);
  } else if (d == 0) {
    p.from = unix_seconds(y, m, 1);
    p.to = m == 12 ? unix_seconds(y + 1, 1, 1) : unix_seconds(y, m + 1, 1);
  } else {
    p.from = unix_seconds(y, m, d);
    p.to = p.from + 86400;
  }
  return p;
}

// The words of a text without fillers, so that "8th of May, 2023" reads as "8 May 2023".
std::vector<Word> content_words(const TextAnalyzer& analyzer, std::string_view text) {
  std::vector<Word> out;
  for (Word& w : analyzer.words(text)) {
    if (!is_filler(w)) out.push_back(std::move(w));
  }
  return out;
}

// A date in words at ws[i]: [day] month [day] year. Sets *n to the words it spans.
std::optional<DatePeriod> written_date(const std::vector<Word>& ws, size_t i, size_t* n) {
  size_t j = i;
  int day = 0;
  if (is_day(ws[j]) && j + 1 < ws.size() && month_name(ws[j + 1])) day = number(ws[j++]);
  const int month = month_name(ws[j]);
  if (!month) return std::nullopt;
  ++j;
  if (day == 0 && j < ws.size() && is_day(ws[j])) day = number(ws[j++]);
  if (j >= ws.size() || !is_year(ws[j])) return std::nullopt;
  *n = j + 1 - i;
  return period(number(ws[j]), month, day, ws[i].begin, ws[j].end);
}

// "2024年3月10日", "2024年3月", "2024年".
std::optional<DatePeriod> cjk_date(const std::vector<Word>& ws, size_t i, size_t* n) {
  const int y = cjk_part(ws[i], "年");
  if (y < 1900 || y > 2100) return std::nullopt;
  size_t j = i + 1;
  int m = 0, d = 0;
  if (j < ws.size() && (m = cjk_part(ws[j], "月")) >= 1 && m <= 12) {
    ++j;
    if (j < ws.size()) d = std::max(cjk_part(ws[j], "日"), cjk_part(ws[j], "号"));
    if (d >= 1 && d <= 31) {
      ++j;
    } else {
      d = 0;
    }
  } else {
    m = 0;
  }
  *n = j - i;
  return period(y, m, d, ws[i].begin, ws[j - 1].end);
}

// "2024-03-17": three numbers joined by single hyphens.
std::optional<DatePeriod> iso_date(std::string_view text, const std::vector<Word>& ws, size_t i,
                                   size_t* n) {
  if (i + 2 >= ws.size() || !is_year(ws[i])) return std::nullopt;
  const Word &mo = ws[i + 1], &d = ws[i + 2];
  if (mo.begin != ws[i].end + 1 || d.begin != mo.end + 1 || text[ws[i].end] != '-' ||
      text[mo.end] != '-' || mo.end - mo.begin != 2 || d.end - d.begin != 2) {
    return std::nullopt;
  }
  const int m = number(mo), day = number(d);
  if (m < 1 || m > 12 || day < 1 || day > 31) return std::nullopt;
  *n = 3;
  return period(number(ws[i]), m, day, ws[i].begin, d.end);
}

// Lower-case ASCII tokens of a written time: letter runs, digit runs and ':' (other characters
// separate); nullopt for a non-ASCII byte.
std::optional<std::vector<std::string>> time_tokens(std::string_view text) {
  std::vector<std::string> out;
  auto kind = [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c >= '0' && c <= '9' ? 1 : c < 0x80 && std::isalpha(c) ? 2 : 0;
  };
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) return std::nullopt;
    const int k = kind(text[i]);
    if (k == 0) {
      if (text[i] == ':') out.emplace_back(":");
      ++i;
      continue;
    }
    size_t j = i;
    std::string t;
    while (j < text.size() && kind(text[j]) == k) {
      t += static_cast<char>(std::tolower(static_cast<unsigned char>(text[j++])));
    }
    out.push_back(std::move(t));
    i = j;
  }
  return out;
}

bool all_digits(const std::string& t) {
  return !t.empty() && t.find_first_not_of("0123456789") == std::string::npos;
}

// Takes "H:MM[:SS] [am|pm|a.m.]" or "H am" out of toks; false when a part is out of range.
bool take_time_of_day(std::vector<std::string>* toks, int* hms) {
  std::vector<std::string>& t = *toks;
  for (size_t i = 0; i < t.size(); ++i) {
    if (!all_digits(t[i]) || t[i].size() > 2) continue;
    size_t j = i + 1;
    int h = std::atoi(t[i].c_str()), m = 0, s = 0;
    const bool colon = j + 1 < t.size() && t[j] == ":" && all_digits(t[j + 1]);
    if (colon) {
      m = std::atoi(t[j + 1].c_str());
      j += 2;
      if (j + 1 < t.size() && t[j] == ":" && all_digits(t[j + 1])) {
        s = std::atoi(t[j + 1].c_str());
        j += 2;
      }
    }
    int half = 0;  // 1 am, 2 pm
    if (j < t.size() && (t[j] == "am" || t[j] == "pm")) {
      half = t[j++] == "am" ? 1 : 2;
    } else if (j + 1 < t.size() && (t[j] == "a" || t[j] == "p") && t[j + 1] == "m") {
      half = t[j] == "a" ? 1 : 2;
      j += 2;
    }
    if (!colon && !half) continue;
    if (half && (h < 1 || h > 12)) return false;
    if (half) h = h % 12 + (half == 2 ? 12 : 0);
    if (h > 23 || m > 59 || s > 60) return false;
    hms[0] = h, hms[1] = m, hms[2] = s;
    t.erase(t.begin() + static_cast<std::ptrdiff_t>(i), t.begin() + static_cast<std::ptrdiff_t>(j));
    return true;
  }
  return true;
}

bool is_time_filler(const std::string& t) {
  static constexpr std::array<std::string_view, 8> kFill = {"on", "at", "of", "the",
                                                            "st", "nd", "rd", "th"};
  for (std::string_view f : kFill) {
    if (t == f) return true;
  }
  for (std::string_view d : kWeekdaysEn) {
    if (t == d || (t.size() == 3 && d.substr(0, 3) == t)) return true;
  }
  return false;
}

}  // namespace

std::optional<double> parse_time(std::string_view text) {
  if (auto iso = parse_iso8601(text)) return iso;
  std::optional<std::vector<std::string>> toks = time_tokens(text);
  if (!toks) return std::nullopt;
  int hms[3] = {0, 0, 0};
  if (!take_time_of_day(&*toks, hms)) return std::nullopt;
  std::vector<std::string> rest;  // day, month, year in some order
  for (std::string& t : *toks) {
    if (!is_time_filler(t)) rest.push_back(std::move(t));
  }
  if (rest.size() != 3 || !all_digits(rest[2]) || rest[2].size() != 4) return std::nullopt;
  int month = month_en(rest[0]), day = 0;
  if (month && all_digits(rest[1]) && rest[1].size() <= 2) {
    day = std::atoi(rest[1].c_str());
  } else if (all_digits(rest[0]) && rest[0].size() <= 2 && (month = month_en(rest[1]))) {
    day = std::atoi(rest[0].c_str());
  }
  if (!month || day < 1 || day > 31) return std::nullopt;
  return unix_seconds(std::atoi(rest[2].c_str()), month, day, hms[0], hms[1], hms[2]);
}

double unix_seconds(int y, int mo, int d, int h, int mi, int sec) {
  // Days from the civil date (proleptic Gregorian), as in H. Hinnant's days_from_civil.
  const int yy = y - (mo <= 2);
  const int era = (yy >= 0 ? yy : yy - 399) / 400;
  const int yoe = yy - era * 400;
  const int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const double days = era * 146097.0 + doe - 719468.0;
  return days * 86400.0 + h * 3600.0 + mi * 60.0 + sec;
}

std::vector<DatePeriod> find_periods(const TextAnalyzer& analyzer, std::string_view text) {
  const std::vector<Word> ws = content_words(analyzer, text);
  std::vector<DatePeriod> out;
  for (size_t i = 0; i < ws.size();) {
    size_t n = 1;
    std::optional<DatePeriod> p = iso_date(text, ws, i, &n);
    if (!p) p = written_date(ws, i, &n);
    if (!p) p = cjk_date(ws, i, &n);
    if (!p && is_year(ws[i])) p = period(number(ws[i]), 0, 0, ws[i].begin, ws[i].end);
    if (p) out.push_back(*p);
    i += p ? n : 1;
  }
  return out;
}

}  // namespace longctx::memory
