#include "http/exchange.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <strings.h>
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

MHD_Result on_form_data(void* cls, MHD_ValueKind, const char* key, const char* filename,
                        const char* content_type, const char*, const char* data, uint64_t off,
                        size_t size) {
  auto* rs = static_cast<RequestState*>(cls);
  std::string name = key ? key : "";
  if (rs->multipart) {
    // A call continues the current part when it starts where that part ends; libmicrohttpd
    // may announce a part with an empty chunk at offset 0 and then send its first bytes at
    // offset 0 again.
    if (!rs->have_part || rs->part->first != name || off != rs->part->second.content.size()) {
      FilePart part;
      part.filename = filename ? filename : "";
      part.content_type = content_type ? content_type : "";
      rs->part = rs->req.files.emplace(name, std::move(part));
      rs->have_part = true;
    }
    rs->part->second.content.append(data ? data : "", data ? size : 0);
  } else {
    if (!rs->have_param || rs->param->first != name || off != rs->param->second.size()) {
      rs->param = rs->req.params.emplace(name, std::string());
      rs->have_param = true;
    }
    rs->param->second.append(data ? data : "", data ? size : 0);
  }
  return MHD_YES;
}

}  // namespace

Refusal read_head(MHD_Connection* connection, const char* url, const char* method,
                  const ServerOptions& options, RequestState& rs) {
  Request& req = rs.req;
  req.method = method ? method : "";
  req.path = url ? url : "";
  const MHD_ConnectionInfo* addr =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  req.remote_addr = addr ? address_of(addr->client_addr) : "";
  MHD_get_connection_values_n(connection, MHD_HEADER_KIND, &collect_header, &req);
  MHD_get_connection_values_n(connection, MHD_GET_ARGUMENT_KIND, &collect_header, &req);

  if (req.path.size() > options.max_path_bytes) return {414, "the URL is too long"};
  std::string length = req.get_header_value("Content-Length");
  if (!length.empty()) {
    char* end = nullptr;
    unsigned long long n = std::strtoull(length.c_str(), &end, 10);
    if (n > static_cast<unsigned long long>(options.max_body_bytes)) {
      // A modest excess is read and discarded so the client sees the 413 (closing while it
      // still sends makes many clients report a reset instead); a huge one is refused now.
      if (n > static_cast<unsigned long long>(options.max_body_bytes) * 4) {
        return {413, "the request is too large"};
      }
      rs.too_large = true;
    }
  }
  std::string type = req.get_header_value("Content-Type");
  rs.multipart = req.is_multipart_form_data();
  bool urlencoded = strncasecmp(type.c_str(), "application/x-www-form-urlencoded", 33) == 0;
  if (rs.multipart || urlencoded) {
    rs.form = MHD_create_post_processor(connection, 64 * 1024, &on_form_data, &rs);
    if (!rs.form) rs.bad_form = true;  // e.g. multipart without a boundary
  }
  return {};
}

void read_body(RequestState& rs, const char* data, size_t size, int64_t max_body_bytes) {
  rs.received += static_cast<int64_t>(size);
  if (rs.too_large || rs.bad_form) return;
  if (rs.received > max_body_bytes) {
    rs.too_large = true;
    return;
  }
  if (rs.form) {
    if (MHD_post_process(rs.form, data, size) != MHD_YES) rs.bad_form = true;
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
