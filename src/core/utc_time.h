// The current time in UTC as text, for records that carry a timestamp (bench results, memory
// turns and summaries).
#pragma once

#include <string>

namespace longctx {

// Now in UTC as ISO 8601 with seconds ("2026-12-07T09:30:00Z").
std::string utc_now_iso8601();

}  // namespace longctx
