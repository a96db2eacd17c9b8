#include "common/secure_random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace pastiche {

void secure_random_bytes(void* buf, size_t size) {
  auto* out = static_cast<unsigned char*>(buf);
  while (size > 0) {
    ssize_t n = getrandom(out, size, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
    }
    out += n;
    size -= static_cast<size_t>(n);
  }
}

std::string secure_random_hex(size_t bytes) {
  static const char* kHex = "0123456789abcdef";
  std::vector<unsigned char> raw(bytes);
  secure_random_bytes(raw.data(), raw.size());
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char b : raw) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace pastiche
