// Issue 26, attacks 1 and 2, against the real process: floods of URL-encoded bodies and of slow
// multipart uploads from several addresses. Its resident memory (from /proc) stays within the
// in-flight budget while they last and comes back near idle once they have gone.
#include <fstream>
#include <memory>
#include <thread>

#include "http/raw_client.h"
#include "serve_process.h"

namespace pastiche::testing {
namespace {

using namespace std::chrono_literals;

int64_t rss_bytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

std::string head(const std::string& path, const std::string& type, size_t length) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
}

TEST(ServiceMemory, FloodsOfLargeBodiesStayWithinTheBudgetAndMemoryComesBack) {
  ServiceFiles files;
  const int port = free_port();
  constexpr int64_t kBudgetMb = 96;
  ServeProcess serve(files, port, {"--max-inflight-mb", std::to_string(kBudgetMb)});
  ASSERT_GT(serve.pid, 0);
  Api api(port, "memory-client-token-01");
  ASSERT_EQ(api.get("/api/styles")->status, 200);
  const int64_t idle = rss_bytes(serve.pid);
  ASSERT_GT(idle, 0);
  int64_t peak = idle;

  // Attack 1: 19 MB URL-encoded bodies to a route that does not exist, from 8 addresses.
  std::string form;
  form.reserve(19'000'000);
  while (form.size() < 19'000'000) form += "a=1&";
  for (int i = 0; i < 8; ++i) {
    RawConnection c(port, "127.0.0." + std::to_string(10 + i));
    c.send(head("/no/such/route", "application/x-www-form-urlencoded", form.size()));
    std::string reply = c.read(5000ms, "}");  // refused from the head
    EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply.substr(0, 100);
    c.send(form);  // the body anyway, into a closed connection
    peak = std::max(peak, rss_bytes(serve.pid));
  }

  // Attack 2: 20 MB multipart uploads that hold back their last bytes, 4 per address from 8
  // addresses (32 x 20 MB = 640 MB offered against a 96 MB budget).
  const std::string boundary = "FLOODBOUNDARY";
  std::string body = "--" + boundary +
                     "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\n"
                     "Content-Type: image/png\r\n\r\n" +
                     std::string(20'000'000, 'x') + "\r\n--" + boundary + "--\r\n";
  std::vector<std::unique_ptr<RawConnection>> held;
  int refused = 0;
  for (int i = 0; i < 32; ++i) {
    auto c = std::make_unique<RawConnection>(port, "127.0.0." + std::to_string(20 + i / 4));
    c->send(head("/api/styles", "multipart/form-data; boundary=" + boundary, body.size()));
    std::string early = c->read(200ms, "}");
    if (early.rfind("HTTP/1.1 503", 0) == 0) {
      refused++;
      continue;
    }
    c->send(body.substr(0, body.size() - 10));
    held.push_back(std::move(c));
    peak = std::max(peak, rss_bytes(serve.pid));
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(held.size(), 0u);
  // Meanwhile the server answers others.
  EXPECT_EQ(api.get("/healthz")->status, 200);
  peak = std::max(peak, rss_bytes(serve.pid));
  EXPECT_LT(peak - idle, (kBudgetMb + 64) * 1024 * 1024)
      << "idle " << (idle >> 20) << " MB, peak " << (peak >> 20) << " MB";

  held.clear();  // the uploaders give up
  int64_t now = 0;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  do {
    std::this_thread::sleep_for(200ms);  // polling interval
    now = rss_bytes(serve.pid);
  } while (now - idle > 48 * 1024 * 1024 && std::chrono::steady_clock::now() < deadline);
  EXPECT_LT(now - idle, 48 * 1024 * 1024)
      << "idle " << (idle >> 20) << " MB, after " << (now >> 20) << " MB";
  EXPECT_EQ(serve.stop(SIGTERM), 0);
}

}  // namespace
}  // namespace pastiche::testing
