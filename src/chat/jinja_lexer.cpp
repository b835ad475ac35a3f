// Jinja2 lexer (see jinja_lexer.h). The whitespace rules follow jinja2's lexer: "{%-" strips all
// whitespace before the tag, "-%}" all whitespace after it; otherwise lstrip_blocks removes the
// blanks between the start of the line and a block/comment tag when only blanks are there, and
// trim_blocks removes one "\n" right after a block or comment tag.
#include "chat/jinja_lexer.h"

#include <cctype>
#include <cstdint>

#include "chat/value.h"

namespace longctx::chat {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string line_error(int line, const std::string& msg) {
  return "template syntax error at line " + std::to_string(line) + ": " + msg;
}

class Lexer {
 public:
  Lexer(std::string_view src, const LexerOptions& o) : src_(src), opt_(o) {}

  Result<std::vector<Token>> run() {
    while (pos_ < src_.size()) {
      size_t at = find_tag(pos_);
      std::string text(
          src_.substr(pos_, at == std::string_view::npos ? std::string_view::npos : at - pos_));
      if (at == std::string_view::npos) {
        emit_text(text, line_);
        break;
      }
      char type = src_[at + 1];  // '{', '%' or '#'
      char sign = at + 2 < src_.size() ? src_[at + 2] : '\0';
      if (sign == '-') {
        while (!text.empty() && is_blank(text.back())) text.pop_back();
      } else if (sign != '+' && opt_.lstrip_blocks && type != '{') {
        size_t l_pos = text.rfind('\n');
        l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
        if ((l_pos > 0 || line_starting_) && l_pos < text.size()) {
          bool blank = true;
          for (size_t k = l_pos; k < text.size(); ++k)
            blank = blank && text[k] != '\n' && is_blank(text[k]);
          if (blank) text.resize(l_pos);
        }
      }
      int text_line = line_;
      advance_to(at);
      emit_text(text, text_line);
      size_t body = at + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
      Status st = type == '#' ? lex_comment(body) : lex_tag(type, body);
      if (!st.is_ok()) return st;
    }
    tokens_.push_back({TokenKind::kEof, "", line_});
    return std::move(tokens_);
  }

 private:
  size_t find_tag(size_t from) const {
    for (size_t k = from; k + 1 < src_.size(); ++k) {
      if (src_[k] == '{' && (src_[k + 1] == '{' || src_[k + 1] == '%' || src_[k + 1] == '#'))
        return k;
    }
    return std::string_view::npos;
  }

  void advance_to(size_t p) {
    for (; pos_ < p; ++pos_) {
      if (src_[pos_] == '\n') ++line_;
    }
  }

  void emit_text(const std::string& text, int line) {
    if (!text.empty()) tokens_.push_back({TokenKind::kText, text, line});
  }

  // After a tag end: "-" strips all following whitespace; trim_blocks eats one newline after
  // block and comment tags (never after "}}", nor after "+%}").
  void finish_tag(size_t end, size_t end_len, char strip, bool is_block) {
    advance_to(end + end_len);
    if (strip == '-') {
      while (pos_ < src_.size() && is_blank(src_[pos_])) advance_to(pos_ + 1);
    } else if (strip != '+' && is_block && opt_.trim_blocks && pos_ < src_.size() &&
               src_[pos_] == '\n') {
      advance_to(pos_ + 1);
    }
    line_starting_ = pos_ > 0 && src_[pos_ - 1] == '\n';
  }

  Status lex_comment(size_t body) {
    size_t end = src_.find("#}", body);
    if (end == std::string_view::npos)
      return invalid_format(line_error(line_, "unterminated comment"));
    char strip = end > body && src_[end - 1] == '-' ? '-' : '\0';
    finish_tag(end, 2, strip, true);
    return Status::ok();
  }

  Status lex_tag(char type, size_t body) {
    const int start_line = line_;
    advance_to(body);
    if (type == '%' && try_raw()) return raw_status_;
    tokens_.push_back(
        {type == '{' ? TokenKind::kVarBegin : TokenKind::kBlockBegin, "", start_line});
    const char close = type == '{' ? '}' : '%';
    while (true) {
      while (pos_ < src_.size() && is_blank(src_[pos_])) advance_to(pos_ + 1);
      if (pos_ >= src_.size()) {
        return invalid_format(
            line_error(start_line, std::string("unterminated tag, expected '") + close + "}'"));
      }
      // Tag end, with an optional "-"/"+" marker before it.
      for (char marker : {'-', '+', '\0'}) {
        size_t p = pos_ + (marker ? 1 : 0);
        if ((marker == 0 || src_[pos_] == marker) && p + 1 < src_.size() + 0 && src_[p] == close &&
            src_[p + 1] == '}') {
          tokens_.push_back({type == '{' ? TokenKind::kVarEnd : TokenKind::kBlockEnd, "", line_});
          finish_tag(pos_, p + 2 - pos_, marker, type == '%');
          return Status::ok();
        }
      }
      LONGCTX_RETURN_IF_ERROR(lex_token());
    }
  }

  // {% raw %}...{% endraw %}: the body is text, verbatim.
  bool try_raw() {
    size_t p = pos_;
    while (p < src_.size() && is_blank(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0) return false;
    p += 3;
    while (p < src_.size() && is_blank(src_[p])) ++p;
    char strip = '\0';
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) strip = src_[p++];
    if (src_.compare(p, 2, "%}") != 0) return false;
    raw_status_ = Status::ok();
    const int line = line_;
    finish_tag(p - (strip ? 1 : 0), 2 + (strip ? 1 : 0), strip, true);
    // Find "{%[-+]? endraw [-+]?%}".
    for (size_t k = pos_; k + 1 < src_.size(); ++k) {
      if (src_.compare(k, 2, "{%") != 0) continue;
      size_t q = k + 2;
      char open_sign = q < src_.size() ? src_[q] : '\0';
      if (open_sign == '-' || open_sign == '+') ++q;
      while (q < src_.size() && is_blank(src_[q])) ++q;
      if (src_.compare(q, 6, "endraw") != 0) continue;
      q += 6;
      while (q < src_.size() && is_blank(src_[q])) ++q;
      char end_sign = '\0';
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) end_sign = src_[q++];
      if (src_.compare(q, 2, "%}") != 0) continue;
      std::string text(src_.substr(pos_, k - pos_));
      if (open_sign == '-') {
        while (!text.empty() && is_blank(text.back())) text.pop_back();
      }
      emit_text(text, line_);
      finish_tag(q - (end_sign ? 1 : 0), 2 + (end_sign ? 1 : 0), end_sign, true);
      return true;
    }
    raw_status_ = invalid_format(line_error(line, "missing {% endraw %}"));
    return true;
  }

  Status lex_token() {
    const char c = src_[pos_];
    const int line = line_;
    if (c == '\'' || c == '"') return lex_string(c);
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t p = pos_;
      bool is_float = false;
      while (p < src_.size() &&
             (std::isdigit(static_cast<unsigned char>(src_[p])) || src_[p] == '_'))
        ++p;
      if (p + 1 < src_.size() && src_[p] == '.' &&
          std::isdigit(static_cast<unsigned char>(src_[p + 1]))) {
        is_float = true;
        ++p;
        while (p < src_.size() &&
               (std::isdigit(static_cast<unsigned char>(src_[p])) || src_[p] == '_'))
          ++p;
      }
      if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
        size_t q = p + 1;
        if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
        if (q < src_.size() && std::isdigit(static_cast<unsigned char>(src_[q]))) {
          is_float = true;
          p = q;
          while (p < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p]))) ++p;
        }
      }
      std::string num;
      for (size_t k = pos_; k < p; ++k) {
        if (src_[k] != '_') num += src_[k];
      }
      tokens_.push_back({is_float ? TokenKind::kFloat : TokenKind::kInt, num, line});
      advance_to(p);
      return Status::ok();
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t p = pos_;
      while (p < src_.size() &&
             (std::isalnum(static_cast<unsigned char>(src_[p])) || src_[p] == '_'))
        ++p;
      tokens_.push_back({TokenKind::kName, std::string(src_.substr(pos_, p - pos_)), line});
      advance_to(p);
      return Status::ok();
    }
    static const char* kTwoCharOps[] = {"**", "//", "==", "!=", "<=", ">="};
    for (const char* op : kTwoCharOps) {
      if (src_.compare(pos_, 2, op) == 0) {
        tokens_.push_back({TokenKind::kOp, op, line});
        advance_to(pos_ + 2);
        return Status::ok();
      }
    }
    if (std::string_view("+-*/%~<>=()[]{}.,:|").find(c) != std::string_view::npos) {
      tokens_.push_back({TokenKind::kOp, std::string(1, c), line});
      advance_to(pos_ + 1);
      return Status::ok();
    }
    return invalid_format(line_error(line, std::string("unexpected character '") + c + "'"));
  }

  // String literals decode Python escapes, as jinja2 does with "unicode-escape".
  Status lex_string(char quote) {
    const int line = line_;
    std::string out;
    size_t p = pos_ + 1;
    while (true) {
      if (p >= src_.size()) return invalid_format(line_error(line, "unterminated string literal"));
      char c = src_[p];
      if (c == quote) break;
      if (c != '\\') {
        out += c;
        ++p;
        continue;
      }
      if (p + 1 >= src_.size())
        return invalid_format(line_error(line, "unterminated string literal"));
      char e = src_[p + 1];
      p += 2;
      auto hex = [&](int n) -> int64_t {
        if (p + n > src_.size()) return -1;
        uint32_t v = 0;
        for (int k = 0; k < n; ++k) {
          char h = src_[p + k];
          if (!std::isxdigit(static_cast<unsigned char>(h))) return -1;
          v = v * 16 + (std::isdigit(static_cast<unsigned char>(h)) ? h - '0'
                                                                    : (std::tolower(h) - 'a' + 10));
        }
        p += n;
        return v;
      };
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'v':
          out += '\v';
          break;
        case 'a':
          out += '\a';
          break;
        case '0':
          out += '\0';
          break;
        case '\\':
          out += '\\';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case '\n':
          break;  // a backslash-newline continues the line
        case 'x':
        case 'u':
        case 'U': {
          int64_t v = hex(e == 'x' ? 2 : e == 'u' ? 4 : 8);
          if (v < 0 || v > 0x10FFFF)
            return invalid_format(
                line_error(line, std::string("bad \\") + e + " escape in string literal"));
          utf8_append(out, static_cast<uint32_t>(v));
          break;
        }
        default:  // unknown escapes stay as written, as in Python
          out += '\\';
          out += e;
      }
    }
    tokens_.push_back({TokenKind::kString, out, line});
    advance_to(p + 1);
    return Status::ok();
  }

  std::string_view src_;
  LexerOptions opt_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  Status raw_status_;
  std::vector<Token> tokens_;
};

}  // namespace

Result<std::vector<Token>> lex_template(std::string_view source, const LexerOptions& options) {
  // jinja2 normalises "\r\n" and "\r" to "\n" and drops one trailing newline of the source
  // (keep_trailing_newline is off in Hugging Face's environment).
  std::string text;
  text.reserve(source.size());
  for (size_t k = 0; k < source.size(); ++k) {
    if (source[k] == '\r') {
      text += '\n';
      if (k + 1 < source.size() && source[k + 1] == '\n') ++k;
    } else {
      text += source[k];
    }
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return Lexer(text, options).run();
}

}  // namespace longctx::chat
