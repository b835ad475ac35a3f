// Error handling for bad input, I/O and out-of-memory: Status (ok or an error message) and
// Result<T> (a value or a Status). Programmer invariants use LONGCTX_CHECK instead, which aborts.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace longctx {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // bad flag, bad request
  kInvalidFormat,    // corrupt or unsupported file contents
  kNotFound,         // missing file, key or tensor
  kIo,               // read/write/mmap failure
  kOutOfMemory,
  kUnsupported,
};

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy with "context: " prepended, for adding where an error happened.
  Status with_context(const std::string& context) const {
    if (is_ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) {
  return {ErrorCode::kInvalidArgument, std::move(m)};
}
inline Status invalid_format(std::string m) { return {ErrorCode::kInvalidFormat, std::move(m)}; }
inline Status not_found(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
inline Status io_error(std::string m) { return {ErrorCode::kIo, std::move(m)}; }
inline Status unsupported(std::string m) { return {ErrorCode::kUnsupported, std::move(m)}; }

// A value of type T or the Status explaining why there is none.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {    // NOLINT: implicit by design
    if (std::get<Status>(v_).is_ok()) std::abort();  // an ok Status carries no value
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace longctx

// Always-on check of a programmer invariant (never of input): prints and aborts.
#define LONGCTX_CHECK(cond)                                                         \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

// Propagate a non-ok Status from an expression returning Status.
#define LONGCTX_RETURN_IF_ERROR(expr) \
  do {                                \
    ::longctx::Status _st = (expr);   \
    if (!_st.is_ok()) return _st;     \
  } while (0)
