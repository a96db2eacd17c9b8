// Internal to http/: a request as libmicrohttpd delivers it (head, then body chunks) turned into
// the Request the handlers see, and their Response turned into libmicrohttpd's. No threads and no
// routing here: the server (server.cpp) decides when each step runs.
#pragma once
#include <microhttpd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "http/connection_table.h"
#include "http/inflight_budget.h"
#include "http/message.h"
#include "http/server.h"
#include "http/stream_registry.h"

namespace pastiche::http {

// A multipart part larger than ServerOptions::spill_bytes, received into an unlinked temporary
// file (a slow upload holds disk, not memory) and read back just before its handler runs.
struct SpilledPart {
  std::multimap<std::string, FilePart>::iterator part;
  int fd = -1;
  int64_t size = 0;
};

// Everything one request needs between its first byte and the completion callback.
struct RequestState {
  const ServerOptions* options = nullptr;
  Request req;
  Response res;
  MHD_PostProcessor* form = nullptr;
  bool multipart = false;
  bool dispatched = false;
  std::atomic<bool> ready{false};
  bool too_large = false;
  bool bad_form = false;
  bool over_budget = false;     // the in-flight budget (or the spill disk) could not take more
  bool reserved_whole = false;  // the body's declared length was reserved with the head
  int64_t received = 0;
  int64_t body_limit = 0;  // this request's: max_body_bytes (or its path's), or max_form_bytes
  size_t fields = 0;       // form fields and parts so far
  Reservation budget;
  ConnectionTable::Entry* conn = nullptr;
  std::multimap<std::string, FilePart>::iterator part;  // the multipart part being filled
  std::multimap<std::string, std::string>::iterator param;
  bool have_part = false, have_param = false;
  std::vector<SpilledPart> spilled;  // the last one may still be filling

  ~RequestState();
};

// Why a request is answered before its body is read; status 0 = it is not.
struct Refusal {
  int status = 0;
  std::string message;
  int retry_after_s = 0;  // > 0: sent as Retry-After
};

// Fills rs.req from the request line and headers (method, path, client address, headers, query
// parameters), holds the head to the options' limits, reserves the declared body from `budget`,
// and sets up the form parser for a multipart or urlencoded body. `bad_url`: the URL had an
// escaped control character (see unescape_url).
Refusal read_head(MHD_Connection* connection, const char* url, const char* method,
                  const ServerOptions& options, InflightBudget& budget, bool bad_url,
                  RequestState& rs);

// One chunk of the body, into the form parser or the raw body. Beyond the body limit (a
// multipart body's max_body_bytes, any other's max_form_bytes), after a malformed form, or when
// the budget cannot take it, chunks are only counted (rs.too_large / rs.bad_form /
// rs.over_budget say which).
void read_body(RequestState& rs, const char* data, size_t size);

// Reads spilled parts back into their FilePart (on a handler thread, just before the handler).
// false when a temporary file cannot be read. With `keep_files`, file parts (those with a file
// name) stay on disk instead: their FilePart::file reads them when asked.
bool load_spilled(RequestState& rs, bool keep_files = false);

// libmicrohttpd's URL unescaping (in place, returns the new length), except that an escaped
// control character (%00-%1F, %7F) is left as it is and reported through `*bad`: a decoded NUL
// would cut the path short at the first C-string boundary.
size_t unescape_url(char* s, bool* bad);

// `res` as libmicrohttpd's response: its body (not copied: `res` must outlive the response), or
// its stream registered with `streams`. Headers containing CR, LF or NUL are left out. nullptr
// when libmicrohttpd cannot create the response.
MHD_Response* make_response(MHD_Connection* connection, Response& res, StreamRegistry& streams);

}  // namespace pastiche::http
