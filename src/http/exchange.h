// Internal to http/: a request as libmicrohttpd delivers it (head, then body chunks) turned into
// the Request the handlers see, and their Response turned into libmicrohttpd's. No threads and no
// routing here: the server (server.cpp) decides when each step runs.
#pragma once
#include <microhttpd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <string>

#include "http/connection_table.h"
#include "http/message.h"
#include "http/server.h"
#include "http/stream_registry.h"

namespace pastiche::http {

// Everything one request needs between its first byte and the completion callback.
struct RequestState {
  Request req;
  Response res;
  MHD_PostProcessor* form = nullptr;
  bool multipart = false;
  bool dispatched = false;
  std::atomic<bool> ready{false};
  bool too_large = false;
  bool bad_form = false;
  int64_t received = 0;
  ConnectionTable::Entry* conn = nullptr;
  std::multimap<std::string, FilePart>::iterator part;  // the multipart part being filled
  std::multimap<std::string, std::string>::iterator param;
  bool have_part = false, have_param = false;

  ~RequestState() {
    if (form) MHD_destroy_post_processor(form);
  }
};

// Why a request is answered before its body is read; status 0 = it is not.
struct Refusal {
  int status = 0;
  std::string message;
};

// Fills rs.req from the request line and headers (method, path, client address, headers, query
// parameters), holds the head to the options' limits, and sets up the form parser for a
// multipart or urlencoded body.
Refusal read_head(MHD_Connection* connection, const char* url, const char* method,
                  const ServerOptions& options, RequestState& rs);

// One chunk of the body, into the form parser or the raw body. Beyond max_body_bytes, or after a
// malformed form, chunks are only counted (rs.too_large / rs.bad_form say which).
void read_body(RequestState& rs, const char* data, size_t size, int64_t max_body_bytes);

// `res` as libmicrohttpd's response: its body (not copied: `res` must outlive the response), or
// its stream registered with `streams`. Headers containing CR, LF or NUL are left out. nullptr
// when libmicrohttpd cannot create the response.
MHD_Response* make_response(MHD_Connection* connection, Response& res, StreamRegistry& streams);

}  // namespace pastiche::http
