#include "http/exchange.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <strings.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace pastiche::http {

namespace {

std::string address_of(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (!sa) return {};
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  } else if (sa->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

bool header_safe(const std::string& s) {
  return s.find_first_of("\r\n", 0) == std::string::npos && s.find('\0') == std::string::npos;
}

MHD_Result collect_header(void* cls, MHD_ValueKind kind, const char* key, size_t key_size,
                          const char* value, size_t value_size) {
  auto* req = static_cast<Request*>(cls);
  std::string k(key, key_size), v(value ? std::string(value, value_size) : std::string());
  if (kind == MHD_HEADER_KIND) {
    req->headers.emplace(std::move(k), std::move(v));
  } else if (kind == MHD_GET_ARGUMENT_KIND) {
    req->params.emplace(std::move(k), std::move(v));
  }
  return MHD_YES;
}

bool has_control_byte(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// An unnamed file: nothing is left behind whatever happens to the process.
int open_spill_file(const std::string& dir_option) {
  std::string dir = dir_option;
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    dir = tmp && *tmp ? tmp : "/tmp";
  }
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string path = dir + "/pastiche-upload-XXXXXX";
  fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd >= 0) ::unlink(path.c_str());
  return fd;
}

// The size of the part being filled, in memory or spilled.
size_t current_part_size(const RequestState& rs) {
  if (!rs.spilled.empty() && rs.spilled.back().part == rs.part) {
    return static_cast<size_t>(rs.spilled.back().size);
  }
  return rs.part->second.content.size();
}

// Appends to the part being filled; past options.spill_bytes it moves to a temporary file.
bool append_part(RequestState& rs, const char* data, size_t size) {
  if (!data || size == 0) return true;
  std::string& content = rs.part->second.content;
  bool spilling = !rs.spilled.empty() && rs.spilled.back().part == rs.part;
  if (!spilling && content.size() + size > rs.options->spill_bytes) {
    int fd = open_spill_file(rs.options->spill_dir);
    if (fd < 0 || !write_all(fd, content.data(), content.size())) {
      if (fd >= 0) ::close(fd);
      return false;
    }
    rs.spilled.push_back({rs.part, fd, static_cast<int64_t>(content.size())});
    std::string().swap(content);
    spilling = true;
  }
  if (!spilling) {
    content.append(data, size);
    return true;
  }
  SpilledPart& spill = rs.spilled.back();
  if (!write_all(spill.fd, data, size)) return false;
  spill.size += static_cast<int64_t>(size);
  return true;
}

MHD_Result on_form_data(void* cls, MHD_ValueKind, const char* key, const char* filename,
                        const char* content_type, const char*, const char* data, uint64_t off,
                        size_t size) {
  auto* rs = static_cast<RequestState*>(cls);
  std::string name = key ? key : "";
  // Each field costs a map node beyond its bytes: a body of many tiny fields is refused.
  auto count_field = [rs] {
    if (++rs->fields <= rs->options->max_form_fields) return true;
    rs->bad_form = true;
    return false;
  };
  if (rs->multipart) {
    // A call continues the current part when it starts where that part ends; libmicrohttpd
    // may announce a part with an empty chunk at offset 0 and then send its first bytes at
    // offset 0 again.
    if (!rs->have_part || rs->part->first != name || off != current_part_size(*rs)) {
      if (!count_field()) return MHD_NO;
      FilePart part;
      part.filename = filename ? filename : "";
      part.content_type = content_type ? content_type : "";
      rs->part = rs->req.files.emplace(name, std::move(part));
      rs->have_part = true;
    }
    if (!append_part(*rs, data, size)) {
      rs->over_budget = true;  // no room for the temporary file: like a full budget
      return MHD_NO;
    }
  } else {
    if (!rs->have_param || rs->param->first != name || off != rs->param->second.size()) {
      if (!count_field()) return MHD_NO;
      rs->param = rs->req.params.emplace(name, std::string());
      rs->have_param = true;
    }
    rs->param->second.append(data ? data : "", data ? size : 0);
  }
  return MHD_YES;
}

}  // namespace

RequestState::~RequestState() {
  if (form) MHD_destroy_post_processor(form);
  for (auto& s : spilled) {
    if (s.fd >= 0) ::close(s.fd);
  }
}

size_t unescape_url(char* s, bool* bad) {
  char* r = s;
  char* w = s;
  while (*r) {
    int hi = r[0] == '%' ? hex_value(r[1]) : -1;
    int lo = hi >= 0 ? hex_value(r[2]) : -1;
    if (lo < 0) {
      *w++ = *r++;
      continue;
    }
    const int v = hi * 16 + lo;
    if (v < 0x20 || v == 0x7f) {
      *bad = true;
      *w++ = *r++;  // left escaped: the request is refused anyway
      continue;
    }
    *w++ = static_cast<char>(v);
    r += 3;
  }
  *w = '\0';
  return static_cast<size_t>(w - s);
}

bool load_spilled(RequestState& rs, bool keep_files) {
  bool ok = true;
  for (auto& s : rs.spilled) {
    if (keep_files && !s.part->second.filename.empty()) {
      s.part->second.file = std::make_shared<PartFile>(s.fd, s.size);
      s.fd = -1;
      continue;
    }
    std::string& content = s.part->second.content;
    content.resize(static_cast<size_t>(s.size));
    size_t done = 0;
    while (ok && done < content.size()) {
      ssize_t n =
          ::pread(s.fd, content.data() + done, content.size() - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ok = false;
      if (n > 0) done += static_cast<size_t>(n);
    }
    ::close(s.fd);
    s.fd = -1;
  }
  rs.spilled.clear();
  return ok;
}

Refusal read_head(MHD_Connection* connection, const char* url, const char* method,
                  const ServerOptions& options, InflightBudget& budget, bool bad_url,
                  RequestState& rs) {
  rs.options = &options;
  Request& req = rs.req;
  req.method = method ? method : "";
  req.path = url ? url : "";
  const MHD_ConnectionInfo* addr =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  req.remote_addr = addr ? address_of(addr->client_addr) : "";
  MHD_get_connection_values_n(connection, MHD_HEADER_KIND, &collect_header, &req);
  MHD_get_connection_values_n(connection, MHD_GET_ARGUMENT_KIND, &collect_header, &req);

  if (req.path.size() > options.max_path_bytes) return {414, "the URL is too long"};
  bool control = bad_url || has_control_byte(req.path);
  for (const auto& [k, v] : req.params) control = control || has_control_byte(k + v);
  if (control) return {400, "the URL contains control characters"};
  std::string type = req.get_header_value("Content-Type");
  rs.multipart = req.is_multipart_form_data();
  bool urlencoded = strncasecmp(type.c_str(), "application/x-www-form-urlencoded", 33) == 0;
  // Images travel as multipart (spilled to disk while they arrive); any other body is parsed in
  // memory, so it has a small limit of its own.
  const auto by_path = options.max_body_bytes_by_path.find(req.path);
  rs.body_limit = !rs.multipart ? options.max_form_bytes
                  : by_path != options.max_body_bytes_by_path.end()
                      ? std::max(by_path->second, options.max_body_bytes)
                      : options.max_body_bytes;
  const auto limit = static_cast<unsigned long long>(rs.body_limit);
  rs.budget.bind(&budget, req.remote_addr);
  const Refusal busy{503, "the server is holding too much at once; try again shortly", 5};
  std::string length = req.get_header_value("Content-Length");
  if (!length.empty()) {
    char* end = nullptr;
    unsigned long long n = std::strtoull(length.c_str(), &end, 10);
    if (n > limit) {
      // A modest excess is read and discarded so the client sees the 413 (closing while it
      // still sends makes many clients report a reset instead); a huge one is refused now.
      if (n > limit * 4) return {413, "the request is too large"};
      rs.too_large = true;
    } else if (n > 0) {
      if (!rs.budget.try_take(static_cast<int64_t>(n))) return busy;
      rs.reserved_whole = true;
    }
  }
  // Slow readers hold their responses: once the budget is full, new requests wait too.
  if (!rs.reserved_whole && budget.full(req.remote_addr) &&
      std::find(options.always_served.begin(), options.always_served.end(), req.path) ==
          options.always_served.end()) {
    return busy;
  }
  if (rs.multipart || urlencoded) {
    rs.form = MHD_create_post_processor(connection, 64 * 1024, &on_form_data, &rs);
    if (!rs.form) rs.bad_form = true;  // e.g. multipart without a boundary
  }
  return {};
}

void read_body(RequestState& rs, const char* data, size_t size) {
  rs.received += static_cast<int64_t>(size);
  if (rs.too_large || rs.bad_form || rs.over_budget) return;
  if (rs.received > rs.body_limit) {
    rs.too_large = true;
    return;
  }
  // A body without Content-Length (chunked) reserves as it arrives.
  if (!rs.reserved_whole && !rs.budget.try_take(static_cast<int64_t>(size))) {
    rs.over_budget = true;
    return;
  }
  if (rs.form) {
    if (MHD_post_process(rs.form, data, size) != MHD_YES && !rs.over_budget) rs.bad_form = true;
  } else {
    rs.req.body.append(data, size);
  }
}

MHD_Response* make_response(MHD_Connection* connection, Response& res, StreamRegistry& streams) {
  MHD_Response* response = nullptr;
  if (res.stream) {
    void* closure = streams.open(connection, res.stream);
    response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, &StreamRegistry::read,
                                                 closure, &StreamRegistry::release);
    if (!response) StreamRegistry::release(closure);
  } else {
    response =
        MHD_create_response_from_buffer(res.body.size(), res.body.data(), MHD_RESPMEM_PERSISTENT);
  }
  if (!response) return nullptr;
  for (const auto& [k, v] : res.headers) {
    if (header_safe(k) && header_safe(v)) MHD_add_response_header(response, k.c_str(), v.c_str());
  }
  return response;
}

}  // namespace pastiche::http
