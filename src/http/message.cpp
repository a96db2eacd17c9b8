#include "http/message.h"

#include <strings.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace pastiche::http {

PartFile::~PartFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string PartFile::read() const {
  std::string out(static_cast<size_t>(size_), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("an uploaded part could not be read back");
    done += static_cast<size_t>(n);
  }
  return out;
}

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  return strcasecmp(a.c_str(), b.c_str()) < 0;
}

bool Request::has_header(const std::string& key) const {
  return headers.count(key) > 0;
}

std::string Request::get_header_value(const std::string& key) const {
  auto it = headers.find(key);
  return it == headers.end() ? std::string() : it->second;
}

bool Request::has_param(const std::string& key) const {
  return params.count(key) > 0;
}

std::string Request::get_param_value(const std::string& key) const {
  auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

bool Request::is_multipart_form_data() const {
  return strncasecmp(get_header_value("Content-Type").c_str(), "multipart/form-data", 19) == 0;
}

bool Request::has_file(const std::string& key) const {
  return files.count(key) > 0;
}

FilePart Request::get_file_value(const std::string& key) const {
  auto it = files.find(key);
  return it == files.end() ? FilePart{} : it->second;
}

void Response::set_header(const std::string& key, const std::string& value) {
  headers.erase(key);
  headers.emplace(key, value);
}

bool Response::has_header(const std::string& key) const {
  return headers.count(key) > 0;
}

std::string Response::get_header_value(const std::string& key) const {
  auto it = headers.find(key);
  return it == headers.end() ? std::string() : it->second;
}

void Response::set_content(std::string content, const std::string& content_type) {
  body = std::move(content);
  set_header("Content-Type", content_type);
}

void Response::set_stream(std::shared_ptr<StreamSource> source, const std::string& content_type) {
  stream = std::move(source);
  set_header("Content-Type", content_type);
}

}  // namespace pastiche::http
