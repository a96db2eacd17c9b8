// Generated identifiers, client tokens and timestamps. Every id and token the service hands out
// is 32 lowercase hex characters straight from the OS CSPRNG (getrandom): no generator state that
// an observer of many ids could rebuild. Anything else is rejected before it reaches a store.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "common/text.h"

namespace pastiche::service {

std::string new_id();                            // 128 bits from getrandom, hex
bool is_valid_id(std::string_view id);           // exactly 32 of [0-9a-f]
bool is_valid_client_token(std::string_view t);  // 16-128 of [A-Za-z0-9_-]
// A share link's token: 128 bits from getrandom as 22 characters of base64url (no padding), so
// the public URL stays short. Not derived from anything: a job id does not lead to it.
std::string new_share_token();
bool is_valid_share_token(std::string_view t);  // exactly 22 of [A-Za-z0-9_-]
using pastiche::is_valid_style_name;            // common/text.h

int64_t now_ms();                 // Unix epoch, milliseconds
std::string iso8601(int64_t ms);  // "2024-05-01T12:34:56.789Z"

// Constant-time comparison for secrets.
bool secure_equals(std::string_view a, std::string_view b);

}  // namespace pastiche::service
