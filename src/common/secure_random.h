// Randomness for anything an attacker must not guess (session tokens, job and style ids): read
// from the operating system's CSPRNG (getrandom(2)) on every call, with no user-space generator
// whose state could be rebuilt from its outputs.
#pragma once
#include <cstddef>
#include <string>

namespace pastiche {

// Fills `buf` from getrandom(2); throws std::runtime_error if the kernel cannot provide bytes.
void secure_random_bytes(void* buf, size_t size);

// `bytes` random bytes as lowercase hex (2 * bytes characters).
std::string secure_random_hex(size_t bytes);

}  // namespace pastiche
