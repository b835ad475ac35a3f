// libedit behind LineEditor. Input comes through our own read function so that a SIGINT
// (installed without SA_RESTART by chat) makes el_gets return at once instead of libedit
// retrying the read; the bytes are decoded from the locale's multibyte encoding (UTF-8) here.
#include "cli/line_editor.h"

#include <histedit.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <clocale>
#include <cstdlib>
#include <cwchar>

namespace longctx::cli {
namespace {

// The one editor's prompt and interruption flag (libedit's callbacks carry no user pointer
// to our object in every version).
std::string g_prompt;
bool g_interrupted = false;

const char* prompt_fn(EditLine*) { return g_prompt.c_str(); }

int getc_fn(EditLine*, wchar_t* wc) {
  std::mbstate_t st{};
  for (;;) {
    char c;
    const ssize_t r = ::read(STDIN_FILENO, &c, 1);
    if (r < 0) {
      g_interrupted = errno == EINTR;
      return -1;
    }
    if (r == 0) return 0;
    const size_t k = std::mbrtowc(wc, &c, 1, &st);
    if (k == static_cast<size_t>(-2)) continue;  // a multibyte character not yet complete
    if (k == static_cast<size_t>(-1)) {
      st = std::mbstate_t{};
      *wc = L'?';
    }
    return 1;
  }
}

std::string history_path() {
  std::string dir;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) {
    dir = std::string(x) + "/longctx";
  } else if (const char* h = std::getenv("HOME"); h && *h) {
    ::mkdir((std::string(h) + "/.local").c_str(), 0755);
    ::mkdir((std::string(h) + "/.local/state").c_str(), 0755);
    dir = std::string(h) + "/.local/state/longctx";
  } else {
    return "";
  }
  ::mkdir(dir.c_str(), 0700);
  return dir + "/history";
}

}  // namespace

struct LineEditor::Impl {
  EditLine* el = nullptr;
  History* hist = nullptr;
  std::string path;
};

std::unique_ptr<LineEditor> LineEditor::create() {
  // Multibyte input needs a UTF-8 locale; the C locale would turn every non-ASCII byte into '?'.
  if (std::setlocale(LC_CTYPE, "") == nullptr || MB_CUR_MAX == 1) {
    std::setlocale(LC_CTYPE, "C.UTF-8");
  }
  std::unique_ptr<LineEditor> e(new LineEditor());
  e->impl_ = new Impl();
  Impl& m = *e->impl_;
  m.el = el_init("longctx", stdin, stdout, stderr);
  if (m.el == nullptr) return nullptr;
  m.hist = history_init();
  HistEvent ev;
  history(m.hist, &ev, H_SETSIZE, 2000);
  history(m.hist, &ev, H_SETUNIQUE, 1);
  m.path = history_path();
  if (!m.path.empty()) history(m.hist, &ev, H_LOAD, m.path.c_str());
  el_set(m.el, EL_EDITOR, "emacs");
  el_set(m.el, EL_PROMPT, prompt_fn);
  el_set(m.el, EL_HIST, history, m.hist);
  el_set(m.el, EL_GETCFN, getc_fn);
  el_set(m.el, EL_SIGNAL, 0);
  el_source(m.el, nullptr);  // the user's ~/.editrc, as other libedit programs read it
  return e;
}

LineEditor::~LineEditor() {
  if (impl_ == nullptr) return;
  HistEvent ev;
  if (impl_->hist && !impl_->path.empty()) history(impl_->hist, &ev, H_SAVE, impl_->path.c_str());
  if (impl_->el) el_end(impl_->el);
  if (impl_->hist) history_end(impl_->hist);
  delete impl_;
}

ReadStatus LineEditor::read_line(const std::string& prompt, std::string* line) {
  g_prompt = prompt;
  g_interrupted = false;
  int count = 0;
  const char* s = el_gets(impl_->el, &count);
  if (s == nullptr || count <= 0) {
    if (g_interrupted) {
      el_reset(impl_->el);
      return ReadStatus::kInterrupted;
    }
    return ReadStatus::kEof;
  }
  line->assign(s, static_cast<size_t>(count));
  while (!line->empty() && (line->back() == '\n' || line->back() == '\r')) line->pop_back();
  if (!line->empty()) {
    HistEvent ev;
    history(impl_->hist, &ev, H_ENTER, line->c_str());
  }
  return ReadStatus::kOk;
}

}  // namespace longctx::cli
