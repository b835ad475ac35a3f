// GBNF grammars (runtime/gbnf.h) against independent oracles: regular grammars against the same
// language written as a std::regex, over every string up to a length on a small alphabet;
// a recursive grammar (balanced brackets) against a counter; masks against brute force (each
// token's bytes fed to a copy of the matcher); UTF-8 split across tokens; and the parser's
// errors for bad grammars.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "runtime/gbnf.h"

namespace longctx {
namespace {

std::shared_ptr<const GbnfGrammar> parse_ok(const std::string& text) {
  auto g = GbnfGrammar::parse(text);
  EXPECT_TRUE(g.is_ok()) << text << "\n" << g.status().message();
  return g.is_ok() ? *g : nullptr;
}

// Whole-sentence acceptance: every byte accepted and the end complete.
bool accepts(const std::shared_ptr<const GbnfGrammar>& g, const std::string& s) {
  GbnfMatcher m(g, std::make_shared<GbnfVocab>(std::vector<std::string>{}));
  return m.accept_bytes(s) && m.is_complete();
}

// Prefix acceptance: the bytes can still be continued to (or are) a sentence.
bool viable(const std::shared_ptr<const GbnfGrammar>& g, const std::string& s) {
  GbnfMatcher m(g, std::make_shared<GbnfVocab>(std::vector<std::string>{}));
  return m.accept_bytes(s);
}

void all_strings(const std::string& alphabet, size_t max_len,
                 const std::function<void(const std::string&)>& fn) {
  std::vector<std::string> level{""};
  fn("");
  for (size_t len = 1; len <= max_len; ++len) {
    std::vector<std::string> next;
    for (const std::string& p : level) {
      for (char c : alphabet) next.push_back(p + c);
    }
    for (const std::string& s : next) fn(s);
    level = std::move(next);
  }
}

struct RegularCase {
  const char* grammar;
  const char* regex;  // the same language, ECMAScript syntax
  const char* alphabet;
};

// The same language two ways: GBNF (ours) and std::regex (the oracle), on every string up to 6
// characters (7 for the binary alphabets); a prefix is viable exactly when some extension up to
// the bound matches.
TEST(Gbnf, RegularGrammarsMatchTheirRegex) {
  const RegularCase cases[] = {
      {R"(root ::= "ab" | "b")", "ab|b", "ab"},
      {R"(root ::= "a"* "b")", "a*b", "ab"},
      {R"(root ::= ("ab")+ )", "(ab)+", "ab"},
      {R"(root ::= "a"? "b"?)", "a?b?", "ab"},
      {R"(root ::= "a"{2,4})", "a{2,4}", "ab"},
      {R"(root ::= "a"{3})", "a{3}", "ab"},
      {R"(root ::= "a"{2,} "b")", "a{2,}b", "ab"},
      {R"(root ::= [a-c]+ [^a-c])", "[a-c]+[^a-c]", "abcd"},
      {"root ::= x y\nx ::= \"a\" | \"b\" x\ny ::= [cd]{0,2}", "b*a[cd]{0,2}", "abcd"},
      {R"(root ::= ( "a" | "bc" ){1,3} "d"?)", "(a|bc){1,3}d?", "abcd"},
      {"# comment\nroot ::= w (\" \" w)*  # words\nw ::= [a-b]+", "[ab]+( [ab]+)*", "ab "},
      {R"(root ::= . "b")", "[\\s\\S]b", "ab\n"},
      {R"(root ::= "\x61" "\u0062"+)", "ab+", "ab"},
      {"root ::= \"a\"\n  | \"b\" \"c\"\n  | [d]", "a|bc|d", "abcd"},
  };
  for (const RegularCase& c : cases) {
    auto g = parse_ok(c.grammar);
    ASSERT_TRUE(g);
    const std::regex re(c.regex);
    const size_t max_len = std::string(c.alphabet).size() <= 2 ? 7 : 6;
    std::vector<std::string> matching;
    all_strings(c.alphabet, max_len, [&](const std::string& s) {
      const bool want = std::regex_match(s, re);
      EXPECT_EQ(accepts(g, s), want) << c.grammar << " on '" << s << "'";
      if (want) matching.push_back(s);
    });
    // Prefix viability, bounded: only claim "not viable" checks (a viable prefix may need a
    // longer extension than the bound); every prefix of a match must be viable.
    for (const std::string& m : matching) {
      for (size_t k = 0; k <= m.size(); ++k) {
        EXPECT_TRUE(viable(g, m.substr(0, k)))
            << c.grammar << " on prefix '" << m.substr(0, k) << "'";
      }
    }
  }
}

// Recursion (not regular): balanced brackets, nested lists, right recursion deep enough that a
// stack per repetition would show.
TEST(Gbnf, RecursiveGrammars) {
  auto g = parse_ok("root ::= (\"(\" root \")\")*");
  ASSERT_TRUE(g);
  all_strings("()", 10, [&](const std::string& s) {
    int depth = 0;
    bool ok = true;
    for (char c : s) {
      depth += c == '(' ? 1 : -1;
      ok = ok && depth >= 0;
    }
    EXPECT_EQ(accepts(g, s), ok && depth == 0) << s;
    EXPECT_EQ(viable(g, s), ok) << s;
  });
  auto list = parse_ok(R"(root ::= "[" (item ("," item)*)? "]"
item ::= [0-9]+ | root)");
  ASSERT_TRUE(list);
  EXPECT_TRUE(accepts(list, "[]"));
  EXPECT_TRUE(accepts(list, "[1,[2,[]],34]"));
  EXPECT_FALSE(accepts(list, "[1,]"));
  EXPECT_FALSE(accepts(list, "[[1]"));
  EXPECT_TRUE(viable(list, "[[1]"));
  auto many = parse_ok(R"(root ::= "a"* "b")");
  EXPECT_TRUE(accepts(many, std::string(100000, 'a') + "b"));
}

// UTF-8: a class of code points takes multi-byte characters, also split over several calls; a
// byte sequence that is not UTF-8 is refused; a partial character is viable only while some
// class can still take it.
TEST(Gbnf, Utf8CodePoints) {
  auto g = parse_ok(R"(root ::= [à-ÿ]+ "€")");
  ASSERT_TRUE(g);
  EXPECT_TRUE(accepts(g, "éü€"));
  EXPECT_FALSE(accepts(g, "e€"));
  GbnfMatcher m(g, std::make_shared<GbnfVocab>(std::vector<std::string>{}));
  EXPECT_TRUE(m.accept_bytes("\xC3"));  // first byte of é
  EXPECT_FALSE(m.is_complete());
  EXPECT_TRUE(m.accept_bytes("\xA9\xE2\x82"));  // rest of é, two bytes of €
  EXPECT_FALSE(m.accept_bytes("\x41"));         // not a continuation byte
  EXPECT_TRUE(m.accept_bytes("\xAC"));
  EXPECT_TRUE(m.is_complete());
  EXPECT_FALSE(viable(g, "\xC2"));      // U+0080..U+00BF: below the class
  EXPECT_FALSE(viable(g, "\xC0\x80"));  // overlong
  EXPECT_FALSE(viable(g, "\xFF"));
  // A lead byte alone is not an overlong form of an ASCII or 2-byte code point.
  auto ascii = parse_ok(R"(root ::= "a"+ [é])");
  EXPECT_FALSE(viable(ascii, "\xE0"));
  EXPECT_FALSE(viable(ascii, "\xF0"));
  EXPECT_FALSE(viable(ascii, "a\xE0\x83"));
  EXPECT_TRUE(viable(ascii, "a\xC3"));
  auto any = parse_ok("root ::= [^a]*");
  EXPECT_FALSE(accepts(any, "\xED\xA0\x80"));  // a surrogate is not a code point
  EXPECT_TRUE(accepts(any, "\xF0\x9F\x98\x80"));
}

// The mask equals brute force: a token is allowed exactly when a copy of the matcher accepts its
// bytes; checked at every step of a walk through a sentence.
TEST(Gbnf, MaskEqualsBruteForce) {
  std::vector<std::string> vocab;
  for (int c = 0; c < 128; ++c) vocab.emplace_back(1, static_cast<char>(c));
  for (const char* t :
       {"ab",   "abc",  "ba",   "(a",   "a)",       "))",   "12", "1,",  ",2", "[1",   "]",   "é",
        "\xC3", "\xA9", "\xE0", "\xF0", "\xE2\x82", "\xAC", "€",  "xyz", "",   "null", "true"}) {
    vocab.emplace_back(t);
  }
  auto v = std::make_shared<GbnfVocab>(vocab);
  for (const char* text :
       {R"(root ::= "[" (num ("," num)*)? "]"
num ::= [0-9]+)",
        R"g(root ::= ("(" root ")" | "a" | "é€")*)g", R"(root ::= "true" | "null" | [a-c]{2,5})"}) {
    auto g = parse_ok(text);
    ASSERT_TRUE(g);
    for (const std::string walk : {"[12,1,2]", "(a(é€)a)", "abc", "null"}) {
      GbnfMatcher m(g, v);
      for (size_t at = 0; at <= walk.size(); ++at) {
        std::vector<uint8_t> mask;
        m.fill_mask(&mask);
        ASSERT_EQ(mask.size(), vocab.size());
        for (size_t id = 0; id < vocab.size(); ++id) {
          GbnfMatcher copy = m;
          const bool want = !vocab[id].empty() && copy.accept_token(static_cast<int32_t>(id));
          EXPECT_EQ(mask[id] != 0, want) << text << " at " << at << " token '" << vocab[id] << "'";
        }
        if (at == walk.size() || !m.accept_bytes(walk.substr(at, 1))) break;
      }
    }
  }
}

// D (fewest bytes to a sentence) against breadth-first search over bytes from the same state,
// at every prefix of a sentence; and the budget: with k tokens left, every allowed token leaves
// D <= k - 1, unless no token can (then only the closest ones).
TEST(Gbnf, DistanceAndBudget) {
  const std::string alphabet = "ab(),.x\xC3\xA9";
  const std::pair<const char*, const char*> cases[] = {
      {R"(root ::= "a"+ ".")", "aaa."},
      {R"g(root ::= ("(" root ")")* "x")g", "((x)(x)x)x"},
      {R"(root ::= [a-b]{2,4} ("," [a-b]{2,4})* ".")", "ab,ba,bbb."},
      {R"(root ::= ("é" | "ab") "x"{2})", "\xC3\xA9xx"},
  };
  for (const auto& [text, sentence] : cases) {
    auto g = parse_ok(text);
    ASSERT_TRUE(g);
    const std::string s = sentence;
    for (size_t k = 0; k <= s.size(); ++k) {
      GbnfMatcher m(g, std::make_shared<GbnfVocab>(std::vector<std::string>{}));
      ASSERT_TRUE(m.accept_bytes(s.substr(0, k))) << text << " prefix " << k;
      // Breadth-first over byte strings from this state: the length of the first complete one.
      std::vector<GbnfMatcher> level{m};
      uint32_t want = GbnfGrammar::kInf;
      for (uint32_t len = 0; len <= 8 && want == GbnfGrammar::kInf && !level.empty(); ++len) {
        std::vector<GbnfMatcher> next;
        for (const GbnfMatcher& x : level) {
          if (x.is_complete()) want = len;
          for (char c : alphabet) {
            GbnfMatcher y = x;
            if (y.accept_bytes(std::string(1, c))) next.push_back(std::move(y));
          }
        }
        if (next.size() > 20000) next.erase(next.begin() + 20000, next.end());
        level = std::move(next);
      }
      EXPECT_EQ(m.min_bytes_to_complete(), want) << text << " after '" << s.substr(0, k) << "'";
    }
  }
  // The budget over a vocabulary of single bytes and longer pieces.
  std::vector<std::string> vocab;
  for (char c : alphabet) vocab.emplace_back(1, c);
  for (const char* t : {"aa", "aaa", "a.", "ab,", "ba.", "((", "))", "x)", "\xC3\xA9x"}) {
    vocab.emplace_back(t);
  }
  auto v = std::make_shared<GbnfVocab>(vocab);
  for (const auto& [text, sentence] : cases) {
    auto g = parse_ok(text);
    const std::string s = sentence;
    for (int64_t left : {1, 2, 3, 6}) {
      GbnfMatcher m(g, v);
      for (size_t k = 0; k < s.size(); ++k) {
        std::vector<uint8_t> mask;
        m.fill_mask(&mask, left);
        uint32_t closest = GbnfGrammar::kInf + 1;
        std::vector<uint32_t> after(vocab.size(), GbnfGrammar::kInf + 1);
        for (size_t id = 0; id < vocab.size(); ++id) {
          GbnfMatcher y = m;
          if (!y.accept_token(static_cast<int32_t>(id))) continue;
          after[id] = y.min_bytes_to_complete();
          closest = std::min(closest, after[id]);
        }
        const uint32_t limit = std::max<uint32_t>(static_cast<uint32_t>(left - 1), closest);
        for (size_t id = 0; id < vocab.size(); ++id) {
          EXPECT_EQ(mask[id] != 0, after[id] <= limit)
              << text << " left " << left << " at " << k << " token '" << vocab[id] << "'";
        }
        ASSERT_TRUE(m.accept_bytes(s.substr(k, 1)));
      }
    }
  }
}

// A state no token can extend (the sentence is whole) allows nothing, with a budget or without
// (found by fuzz_gbnf: the budget's fallback had let every token through).
TEST(Gbnf, NothingIsAllowedAfterAClosedSentence) {
  auto g = parse_ok(R"(root ::= "[")");
  std::vector<std::string> vocab{"[", "a", "[a", "]"};
  GbnfMatcher m(g, std::make_shared<GbnfVocab>(vocab));
  ASSERT_TRUE(m.accept_bytes("["));
  for (int64_t left : {-1, 0, 1, 5}) {
    std::vector<uint8_t> mask;
    m.fill_mask(&mask, left);
    EXPECT_EQ(std::count(mask.begin(), mask.end(), 1), 0) << "left " << left;
  }
}

// Found in review: a surrogate's bytes (ED A0..BF) are never a way into a class, whatever the
// class; surrogate escapes are refused; a parse that can never end stays "never" mid-character;
// long rule names and long chains of empty rules cost linear work (these ran to hundreds of MB
// and to quadratic time).
TEST(Gbnf, SurrogatesNamesAndChains) {
  auto any = parse_ok(R"(root ::= [^"]*)");
  EXPECT_TRUE(viable(any, "\xED"));
  EXPECT_FALSE(viable(any, "\xED\xA0"));
  EXPECT_TRUE(viable(any, "\xED\x9F\xBF"));  // U+D7FF
  std::vector<std::string> vocab{"\xED", "\xA0", "\x9F", "a"};
  GbnfMatcher m(any, std::make_shared<GbnfVocab>(vocab));
  ASSERT_TRUE(m.accept_bytes("\xED"));
  std::vector<uint8_t> mask;
  m.fill_mask(&mask);
  EXPECT_EQ(mask, (std::vector<uint8_t>{0, 0, 1, 0}));
  EXPECT_FALSE(GbnfGrammar::parse(R"(root ::= "\uD800")").is_ok());
  EXPECT_FALSE(GbnfGrammar::parse(R"(root ::= [\uD800-\uDFFF])").is_ok());

  auto endless = parse_ok(R"(root ::= [\u0800-\uFFFF] root)");
  GbnfMatcher e(endless, std::make_shared<GbnfVocab>(std::vector<std::string>{}));
  EXPECT_EQ(e.min_bytes_to_complete(), GbnfGrammar::kInf);
  ASSERT_TRUE(e.accept_bytes("\xE0"));
  EXPECT_EQ(e.min_bytes_to_complete(), GbnfGrammar::kInf);

  const std::string name(20000, 'n');
  std::string named_text = "root ::= ";
  named_text.append(name).append("\n").append(name).append(" ::= \"a\"{0,10000}");
  auto named = GbnfGrammar::parse(named_text);
  ASSERT_TRUE(named.is_ok()) << named.status().message();
  EXPECT_GT((*named)->rule_count(), 10000u);
  std::string chain = "root ::= r0 \"x\"\n";
  for (int i = 0; i < 20000; ++i) {
    chain.append("r").append(std::to_string(i)).append(" ::= r");
    chain.append(std::to_string(i + 1)).append("\n");
  }
  chain += "r20000 ::= \"\"\n";
  auto chained = GbnfGrammar::parse(chain);
  ASSERT_TRUE(chained.is_ok()) << chained.status().message();
  EXPECT_TRUE(accepts(*chained, "x"));
}

// Bad grammars are refused with a message naming the place and the problem; a failed accept
// leaves the state unchanged.
TEST(Gbnf, ErrorsNameThePlaceAndTheProblem) {
  const std::pair<const char*, const char*> bad[] = {
      {"root ::= \"a", "unterminated literal"},
      {"root ::= [a-", "unterminated character class"},
      {"root ::= [z-a]", "goes backwards"},
      {"root ::= x", "rule 'x' is not defined"},
      {"x ::= \"a\"", "no 'root' rule"},
      {"root ::= root \"a\" | \"b\"", "left recursion"},
      {"root ::= x\nx ::= \"b\"? root", "left recursion"},
      {"root ::= (\"a\"?)*", "left recursion"},
      {"root ::= \"a\"{3,2}", "n < m"},
      {"root ::= \"a\"{100000}", "count up to"},
      {"root ::= (\"a\"", "unclosed '('"},
      {"root ::= \"\\q\"", "unknown escape"},
      {"root ::= \"a\"\nroot ::= \"b\"", "defined twice"},
      {"root ::= <[1000]>", "token references"},
      {"root ::= [^\\x00-\\U0010FFFF]", "matches nothing"},
      {"root ::= \"a\" )", "unexpected ')'"},
  };
  std::string huge = "root ::=";
  for (int i = 0; i < 400; ++i) huge += " \"a\"{0,10000}";
  auto h = GbnfGrammar::parse(huge);
  ASSERT_FALSE(h.is_ok());
  EXPECT_NE(h.status().message().find("elements"), std::string::npos) << h.status().message();
  for (const auto& [text, want] : bad) {
    auto g = GbnfGrammar::parse(text);
    ASSERT_FALSE(g.is_ok()) << text;
    EXPECT_NE(g.status().message().find(want), std::string::npos)
        << text << " -> " << g.status().message();
  }
  EXPECT_NE(GbnfGrammar::parse("root ::= \"a\"\n  x").status().message().find("line 2"),
            std::string::npos);
  auto g = parse_ok(R"(root ::= "ab")");
  GbnfMatcher m(g, std::make_shared<GbnfVocab>(std::vector<std::string>{}));
  EXPECT_TRUE(m.accept_bytes("a"));
  EXPECT_FALSE(m.accept_bytes("c"));
  EXPECT_TRUE(m.accept_bytes("b"));
  EXPECT_TRUE(m.is_complete());
  EXPECT_FALSE(m.can_continue());
}

// A prefix (the blank line after a think block) goes before every sentence.
TEST(Gbnf, PrefixComesFirst) {
  auto g = GbnfGrammar::parse(R"(root ::= "yes" | "no")", "\n\n");
  ASSERT_TRUE(g.is_ok());
  EXPECT_TRUE(accepts(*g, "\n\nyes"));
  EXPECT_FALSE(accepts(*g, "yes"));
}

}  // namespace
}  // namespace longctx
