#include "store/disk_image_store.h"

#include <mutex>
#include <stdexcept>

#include "store/file_io.h"

namespace pastiche {

namespace fs = std::filesystem;

void check_image_key(const std::string& key) {
  bool ok = !key.empty() && key.size() <= 200 && key.front() != '/';
  size_t start = 0;
  while (ok && start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    std::string_view seg(key.data() + start, end - start);
    if (seg.empty() || seg == "." || seg == ".." || seg.front() == '.') {
      // a trailing '/' is allowed for prefixes only
      if (!(seg.empty() && end == key.size() && start == key.size())) ok = false;
    }
    for (char c : seg) {
      bool allowed =
          (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      if (!allowed) ok = false;
    }
    start = end + 1;
  }
  if (!ok) throw std::invalid_argument("invalid image key '" + key + "'");
}

DiskImageStore::DiskImageStore(fs::path root) : root_(std::move(root)) {
  fs::create_directories(root_);
  int64_t total = 0;
  for (auto& e : fs::recursive_directory_iterator(root_)) {
    std::error_code ec;
    if (e.is_regular_file(ec)) total += static_cast<int64_t>(e.file_size(ec));
  }
  total_ = total;
}

namespace {

// One for every store in the process, not one per store: two stores opened on one directory (a
// test's handles, a reopened store) must not remove a folder the other is writing into.
std::mutex& changes_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

fs::path DiskImageStore::path_of(const std::string& key) const {
  check_image_key(key);
  return root_ / key;
}

void DiskImageStore::put(const std::string& key, std::string_view bytes) {
  auto path = path_of(key);
  std::lock_guard lock(changes_mutex());
  std::error_code ec;
  auto old = fs::file_size(path, ec);
  int64_t old_size = ec ? 0 : static_cast<int64_t>(old);
  write_file_atomically(path, bytes);
  total_ += static_cast<int64_t>(bytes.size()) - old_size;
}

std::optional<std::string> DiskImageStore::get(const std::string& key) {
  return read_whole_file(path_of(key));
}

bool DiskImageStore::exists(const std::string& key) {
  std::error_code ec;
  return fs::is_regular_file(path_of(key), ec);
}

std::optional<int64_t> DiskImageStore::size_of(const std::string& key) {
  std::error_code ec;
  auto size = fs::file_size(path_of(key), ec);
  if (ec) return std::nullopt;
  return static_cast<int64_t>(size);
}

int64_t DiskImageStore::bytes_under(const std::string& prefix) {
  int64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(path_of(prefix), ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2)) total += static_cast<int64_t>(it->file_size(ec2));
  }
  return total;
}

void DiskImageStore::remove(const std::string& key) {
  auto path = path_of(key);
  std::lock_guard lock(changes_mutex());
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (!ec && fs::remove(path, ec)) total_ -= static_cast<int64_t>(size);
}

void DiskImageStore::remove_prefix(const std::string& prefix) {
  auto path = path_of(prefix);
  std::lock_guard lock(changes_mutex());
  std::error_code ec;
  if (!fs::exists(path, ec)) return;
  int64_t removed = 0;
  if (fs::is_directory(path, ec)) {
    for (auto& e : fs::recursive_directory_iterator(path, ec)) {
      std::error_code ec2;
      if (e.is_regular_file(ec2)) removed += static_cast<int64_t>(e.file_size(ec2));
    }
  } else {
    removed = static_cast<int64_t>(fs::file_size(path, ec));
  }
  fs::remove_all(path, ec);
  total_ -= removed;
}

}  // namespace pastiche
