// Conversations as files, for `longctx memory import|export`: a JSON array, or JSON lines, of
// {"role", "content", "name"?, "time"?}. Content may also be an OpenAI content-part array (its
// text parts are joined); time is any string (ISO 8601 is understood where it is one).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "memory/store.h"

namespace longctx::memory {

// Parses a conversation file's text; turns get pos = index in file order and n_tokens = 0.
// Errors name the line (JSON lines) or element (array) and the field.
Result<std::vector<Turn>> parse_conversation(std::string_view text);

// One JSON line of the import format for a turn (no trailing newline).
std::string turn_to_json_line(const Turn& t);

}  // namespace longctx::memory
