// An HTTP request as the handlers see it (read completely before a handler runs) and the
// response they fill in. Owned by Pastiche so the network layer can change without touching the
// routes: the handlers never see a socket.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pastiche::http {

// Header names compare case-insensitively (RFC 9110).
struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};
using Headers = std::multimap<std::string, std::string, CaseInsensitiveLess>;

// A file part's bytes left in the unnamed temporary file they were received into (a path of
// ServerOptions::max_body_bytes_by_path): read when the handler asks, so that a body of several
// large uploads is never in memory at once. Closed with the request.
class PartFile {
 public:
  PartFile(int fd, int64_t size) : fd_(fd), size_(size) {}
  ~PartFile();
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;
  int64_t size() const { return size_; }
  std::string read() const;  // throws std::runtime_error when the file cannot be read

 private:
  int fd_;
  int64_t size_;
};

// One part of a multipart/form-data body: a file or a plain text field.
struct FilePart {
  std::string filename;
  std::string content_type;
  std::string content;                   // empty when `file` is set
  std::shared_ptr<const PartFile> file;  // the bytes, on disk (see PartFile)

  int64_t size() const { return file ? file->size() : static_cast<int64_t>(content.size()); }
  std::string bytes() const { return file ? file->read() : content; }
};

struct Request {
  std::string method;
  std::string path;  // decoded, without the query string
  std::string remote_addr;
  Headers headers;
  std::multimap<std::string, std::string> params;  // query string and urlencoded body
  std::multimap<std::string, FilePart> files;      // multipart/form-data parts, text fields too
  std::string body;                                // raw body unless it was a form
  std::vector<std::string> matches;                // the route's regex: [0] path, [1...] groups

  bool has_header(const std::string& key) const;
  std::string get_header_value(const std::string& key) const;  // "" when absent
  bool has_param(const std::string& key) const;
  std::string get_param_value(const std::string& key) const;
  bool is_multipart_form_data() const;
  bool has_file(const std::string& key) const;
  FilePart get_file_value(const std::string& key) const;
};

// A body produced over time (Server-Sent Events) without holding a thread while it waits.
// The server calls pull() on its network thread whenever the client can take more; pull()
// must not block. It calls attach() once, before the first pull(), with a function that any
// thread calls when pull() may have something new.
class StreamSource {
 public:
  virtual ~StreamSource() = default;
  virtual void attach(std::function<void()> wake) = 0;
  // Appends what is ready to `out`; false when the stream has ended (after `out` is sent).
  virtual bool pull(std::string& out) = 0;
  // The server is shutting down: append a last message; the stream then ends.
  virtual void drain(std::string& out) = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  std::shared_ptr<StreamSource> stream;  // set: the body is streamed (chunked), `body` unused

  void set_header(const std::string& key, const std::string& value);
  bool has_header(const std::string& key) const;
  std::string get_header_value(const std::string& key) const;
  void set_content(std::string content, const std::string& content_type);
  void set_stream(std::shared_ptr<StreamSource> source, const std::string& content_type);
};

}  // namespace pastiche::http
