// Paths that take several uploads in one body (ServerOptions::max_body_bytes_by_path): a larger
// limit for them only, and their large file parts left on disk until the handler reads them.
#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/server.h"

namespace pastiche::testing {
namespace {

struct SeenPart {
  std::string filename;
  bool on_disk = false;
  int64_t size = 0;
  std::string bytes;
};

TEST(HttpLargeBodies, APathsOwnLimitAndItsFilePartsReadFromDisk) {
  http::ServerOptions o;
  o.max_body_bytes = 100 * 1024;
  o.spill_bytes = 16 * 1024;
  o.max_body_bytes_by_path["/many"] = 1024 * 1024;
  http::Server server(o);
  std::mutex mutex;
  std::vector<SeenPart> seen;
  auto record = [&](const http::Request& req, http::Response& res) {
    std::lock_guard lock(mutex);
    seen.clear();
    const auto [first, last] = req.files.equal_range("content");
    for (auto it = first; it != last; ++it) {
      const http::FilePart& p = it->second;
      seen.push_back({p.filename, p.file != nullptr, p.size(), p.bytes()});
      EXPECT_TRUE(p.file == nullptr || p.content.empty());
    }
    res.status = 204;
  };
  server.routes().Post("/many", record);
  server.routes().Post("/one", record);
  const int port = server.start();
  httplib::Client c("127.0.0.1", port);

  const std::string big(300 * 1024, 'b'), small(1000, 's');
  std::string patterned(200 * 1024, '\0');
  for (size_t i = 0; i < patterned.size(); ++i) patterned[i] = static_cast<char>(i * 7 % 251);
  httplib::MultipartFormDataItems items = {{"content", big, "a.png", "image/png"},
                                           {"content", small, "b.png", "image/png"},
                                           {"content", patterned, "c.png", "image/png"},
                                           {"style", "tiny", "", ""}};
  auto r = c.Post("/many", items);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204) << r->body;
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].filename, "a.png");
    EXPECT_TRUE(seen[0].on_disk);  // beyond spill_bytes: left in its temporary file
    EXPECT_EQ(seen[0].size, static_cast<int64_t>(big.size()));
    EXPECT_EQ(seen[0].bytes, big);
    EXPECT_FALSE(seen[1].on_disk);  // small parts stay in memory
    EXPECT_EQ(seen[1].bytes, small);
    EXPECT_TRUE(seen[2].on_disk);
    EXPECT_EQ(seen[2].bytes, patterned);  // in order, byte for byte
  }

  // Other paths keep the general limit (and read their parts into memory).
  r = c.Post("/one", items);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  const std::string spilled = patterned.substr(0, 60 * 1024);  // spilled, then read back
  r = c.Post("/one", httplib::MultipartFormDataItems{{"content", spilled, "c.png", "image/png"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_FALSE(seen[0].on_disk);
    EXPECT_EQ(seen[0].bytes, spilled);
  }
  // The path's own limit holds too.
  r = c.Post("/many", httplib::MultipartFormDataItems{
                          {"content", std::string(1100 * 1024, 'x'), "x.png", "image/png"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  server.stop();
}

}  // namespace
}  // namespace pastiche::testing
