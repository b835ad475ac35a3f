// Dates of the memory recall: reading a turn's time written out in words ("1:56 pm on 8 May,
// 2023", as chat exports and dialogue corpora write session times) into seconds since 1970, and
// finding the periods a query names ("in March 2024", "on May 8, 2023", "в марте 2024 года",
// "2024年3月10日", "2023", "2024-03-17"), which recall turns into a window of turns to prefer.
// Times without a zone are read as UTC, so a turn's time and a query's period compare as
// written (both are local to the conversation).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace longctx::memory {

class TextAnalyzer;

// Seconds since 1970 of a civil date and time (proleptic Gregorian); no range checks.
double unix_seconds(int year, int month, int day, int hour = 0, int minute = 0, int second = 0);

// Seconds since 1970 of a turn's time: ISO 8601 (parse_iso8601), or an English date in words —
// day and month name or month name and day, then the year, commas, ordinals ("8th"), "of" and a
// weekday allowed — with an optional time of day before or after it ("1:56 pm on", "at 14:05").
// nullopt when text is neither.
std::optional<double> parse_time(std::string_view text);

// A period named in a query: [from, to) in seconds since 1970, and the bytes of the query
// naming it.
struct DatePeriod {
  double from = 0, to = 0;
  int begin = 0, end = 0;
};

// The periods a query names, in order: a day or a month with its year (English, Russian or
// Chinese, month names in any case form: "марте", "мая"), an ISO date, or a bare year
// (1900-2100). A month or a day without a year names no period (it would be any year's).
std::vector<DatePeriod> find_periods(const TextAnalyzer& analyzer, std::string_view text);

}  // namespace longctx::memory
