// The HTTP server under hostile and slow clients: deadlines that a steady trickle cannot extend,
// caps per address, event streams that hold no thread, draining, busy refusals.
#include "http/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/fixtures.h"
#include "http/raw_client.h"

namespace pastiche::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::unique_ptr<http::Server> make_server(http::ServerOptions o) {
  auto s = std::make_unique<http::Server>(o);
  s->routes().Get("/ping", [](const http::Request&, http::Response& res) {
    res.set_content(R"({"pong":true})", "application/json");
  });
  return s;
}

// A stream whose messages are pushed from the test.
class PushStream : public http::StreamSource {
 public:
  void attach(std::function<void()> wake) override {
    std::lock_guard lock(mutex_);
    wake_ = std::move(wake);
  }
  bool pull(std::string& out) override {
    std::lock_guard lock(mutex_);
    out += std::move(pending_);
    pending_.clear();
    return true;
  }
  void drain(std::string& out) override { out += "bye\n"; }
  void push(const std::string& text) {
    std::function<void()> wake;
    {
      std::lock_guard lock(mutex_);
      pending_ += text;
      wake = wake_;
    }
    if (wake) wake();
  }
  bool attached() {
    std::lock_guard lock(mutex_);
    return static_cast<bool>(wake_);
  }

 private:
  std::mutex mutex_;
  std::string pending_ = "hello\n";
  std::function<void()> wake_;
};

TEST(HttpServer, RoutesQueryFormsHeadAndDefaultHeaders) {
  http::ServerOptions o;
  auto server = make_server(o);
  server->set_default_headers({{"X-Content-Type-Options", "nosniff"}});
  server->routes().Post(R"(/echo/([a-z]+))", [](const http::Request& req, http::Response& res) {
    std::string files;
    for (const auto& [name, part] : req.files) {
      files += name + "=" + part.content + "(" + part.filename + ");";
    }
    res.set_content(req.matches[1] + "|" + req.get_param_value("q") + "|" + files + "|" +
                        req.get_param_value("a") + "|" + req.body,
                    "text/plain");
  });
  int port = server->start();
  httplib::Client c("127.0.0.1", port);
  auto multipart = c.Post("/echo/abc?q=1", httplib::MultipartFormDataItems{
                                               {"title", "hi", "", ""},
                                               {"image", std::string("\0\xff", 2), "a.png", "x"}});
  ASSERT_TRUE(multipart);
  EXPECT_EQ(multipart->body, "abc|1|image=" + std::string("\0\xff", 2) + "(a.png);title=hi();||");
  EXPECT_EQ(multipart->get_header_value("X-Content-Type-Options"), "nosniff");
  auto form = c.Post("/echo/x", "a=b%20c", "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->body, "x|||b c|");
  auto json = c.Post("/echo/j", R"({"k":1})", "application/json");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->body, R"(j||||{"k":1})");
  auto head = c.Head("/ping");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  auto missing = c.Get("/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->get_header_value("X-Content-Type-Options"), "nosniff");
}

// Regression: a multipart field whose value arrived in a later packet than its part headers was
// seen twice ("style: given twice").
TEST(HttpServer, AFormFieldSplitAcrossPacketsIsOneField) {
  http::ServerOptions o;
  auto server = make_server(o);
  server->routes().Post("/count", [](const http::Request& req, http::Response& res) {
    res.set_content(
        std::to_string(req.files.count("style")) + ":" + req.get_file_value("style").content,
        "text/plain");
  });
  int port = server->start();
  const std::string head_of_part =
      "--xyzBOUNDARY\r\nContent-Disposition: form-data; name=\"style\"\r\n\r\ngr";
  const std::string rest = "eat_wave\r\n--xyzBOUNDARY--\r\n";
  RawConnection c(port);
  c.send(
      "POST /count HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
      "boundary=xyzBOUNDARY\r\n"
      "Content-Length: " +
      std::to_string(head_of_part.size() + rest.size()) + "\r\n\r\n" + head_of_part);
  // The server reads the part's headers and two bytes of the value (too few to rule out the
  // boundary) before the rest arrives: libmicrohttpd then reports the field with no bytes first.
  std::this_thread::sleep_for(200ms);
  c.send(rest);
  std::string reply = c.read(5000ms, "great_wave");
  EXPECT_NE(reply.find("\r\n\r\n1:great_wave"), std::string::npos) << reply;
}

TEST(HttpServer, OversizedBodiesAndLongUrlsAreRefusedAndExceptionsAre500) {
  http::ServerOptions o;
  o.max_body_bytes = 1000;
  o.max_form_bytes = 1000;  // the text/plain bodies below
  auto server = make_server(o);
  server->routes().Post("/x", [](const http::Request&, http::Response& res) { res.status = 204; });
  server->routes().Get(
      "/throw", [](const http::Request&, http::Response&) { throw std::runtime_error("boom"); });
  int port = server->start();
  httplib::Client c("127.0.0.1", port);
  auto big = c.Post("/x", std::string(3000, 'a'), "text/plain");  // read, discarded, refused
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  auto ok = c.Post("/x", std::string(900, 'a'), "text/plain");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 204);
  auto thrown = c.Get("/throw");
  ASSERT_TRUE(thrown);
  EXPECT_EQ(thrown->status, 500);
  EXPECT_EQ(thrown->body, R"({"error":"internal error"})");
  std::string reply = raw_get(port, "/" + std::string(5000, 'a'));
  EXPECT_EQ(reply.rfind("HTTP/1.1 414", 0), 0u) << reply.substr(0, 80);
  // The server is still there.
  EXPECT_EQ(c.Get("/ping")->status, 200);
}

// Regression (issue 12, finding 4): a connection trickling its head a byte every 4 s stayed open
// indefinitely.
TEST(HttpServer, SlowHeadIsCutAtTheDeadlineHoweverSteadilyItTrickles) {
  http::ServerOptions o;
  o.header_timeout_s = 1;
  auto server = make_server(o);
  int port = server->start();
  RawConnection slow(port);
  ASSERT_TRUE(slow.connected());
  auto start = Clock::now();
  ASSERT_TRUE(slow.send("GET /ping HTTP/1.1\r\n"));
  bool closed = false;
  // One header byte every 100 ms: never idle long enough for an inactivity timeout.
  for (int i = 0; i < 40 && !closed; ++i) {
    slow.send("X");
    closed = slow.wait_closed(100ms);
  }
  double took = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_TRUE(closed);
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, 3.0);
  EXPECT_GE(server->stats().cut_slow, 1);
}

// Regression (issue 12, finding 4): 64 connections sending headers at a byte a second stopped
// the server answering anyone, /healthz included.
TEST(HttpServer, HundredSlowHeadConnectionsDoNotStopOthersBeingServed) {
  http::ServerOptions o;
  o.handler_threads = 2;
  o.header_timeout_s = 60;
  auto server = make_server(o);
  int port = server->start();
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 100; ++i) {  // 50 from each of two addresses (under the per-address cap)
    slow.push_back(std::make_unique<RawConnection>(port, i % 2 ? "127.0.0.2" : "127.0.0.3"));
    ASSERT_TRUE(slow.back()->connected());
    ASSERT_TRUE(slow.back()->send("GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: "));
  }
  double worst = 0;
  for (int i = 0; i < 20; ++i) {
    auto t0 = Clock::now();
    std::string reply = raw_get(port, "/ping");
    worst = std::max(worst, std::chrono::duration<double>(Clock::now() - t0).count());
    ASSERT_NE(reply.find("pong"), std::string::npos) << reply;
  }
  // Generous for a loaded CI machine; a blocked server would wait for the 60 s deadline.
  EXPECT_LT(worst, 1.0);
  EXPECT_GE(server->stats().connections, 100);
}

TEST(HttpServer, ConnectionsPerAddressAreCapped) {
  http::ServerOptions o;
  o.max_connections_per_ip = 4;
  auto server = make_server(o);
  int port = server->start();
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawConnection>(port, "127.0.0.9"));
    held.back()->send("GET /ping HTTP/1.1\r\n");  // partial: the connection stays open
  }
  RawConnection fifth(port, "127.0.0.9");
  EXPECT_TRUE(fifth.wait_closed(2000ms));  // refused at once
  for (auto& c : held) EXPECT_FALSE(c->closed());
  EXPECT_NE(raw_get(port, "/ping", "127.0.0.10").find("pong"), std::string::npos);
}

TEST(HttpServer, StreamsHoldNoThreadAndDrainWithALastMessage) {
  http::ServerOptions o;
  o.handler_threads = 2;
  auto server = make_server(o);
  std::mutex mutex;
  std::vector<std::shared_ptr<PushStream>> streams;
  server->routes().Get("/stream", [&](const http::Request&, http::Response& res) {
    auto s = std::make_shared<PushStream>();
    {
      std::lock_guard lock(mutex);
      streams.push_back(s);
    }
    res.set_stream(s, "text/event-stream");
  });
  int port = server->start();
  std::vector<std::unique_ptr<RawConnection>> clients;
  for (int i = 0; i < 20; ++i) {  // ten times the handler threads
    clients.push_back(std::make_unique<RawConnection>(port));
    clients.back()->send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_NE(clients.back()->read(5000ms, "hello\n").find("hello"), std::string::npos);
  }
  EXPECT_EQ(server->stats().streams, 20);
  EXPECT_NE(raw_get(port, "/ping").find("pong"), std::string::npos);  // threads are free
  {
    std::lock_guard lock(mutex);
    for (auto& s : streams) {
      EXPECT_TRUE(s->attached());
      s->push("tick\n");
    }
  }
  for (auto& c : clients) EXPECT_NE(c->read(5000ms, "tick\n").find("tick"), std::string::npos);

  server->drain();
  for (auto& c : clients) {
    EXPECT_NE(c->read(5000ms, "bye\n").find("bye"), std::string::npos);
  }
  std::string refused = raw_get(port, "/ping");
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused.substr(0, 100);
  EXPECT_NE(refused.find("Retry-After: 5"), std::string::npos);
  server->stop();
  for (auto& c : clients) EXPECT_TRUE(c->wait_closed(5000ms));
}

TEST(HttpServer, IdleKeepAliveConnectionsAreReclaimedOnlyUnderPressure) {
  http::ServerOptions o;
  o.max_connections = 20;
  o.pressure_fraction = 0.5;  // pressure above 10 connections
  o.keep_alive_idle_s = 60;
  auto server = make_server(o);
  int port = server->start();
  auto keep_alive_clients = [&](int n) {
    std::vector<std::unique_ptr<RawConnection>> v;
    for (int i = 0; i < n; ++i) {
      v.push_back(std::make_unique<RawConnection>(port));
      v.back()->send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
      EXPECT_NE(v.back()->read(5000ms, "pong").find("pong"), std::string::npos);
    }
    return v;
  };
  auto few = keep_alive_clients(5);
  EXPECT_FALSE(few.front()->wait_closed(1500ms));  // no pressure: kept for keep_alive_idle_s
  auto many = keep_alive_clients(8);               // 13 open: above the pressure line
  // The long-idle ones go first; reclaiming stops once the pressure is gone.
  EXPECT_TRUE(few.back()->wait_closed(3000ms));
  EXPECT_GE(server->stats().reclaimed_idle, 1);
  EXPECT_NE(raw_get(port, "/ping").find("pong"), std::string::npos);
}

TEST(HttpServer, BusyHandlersAnswer503InsteadOfQueueingWithoutEnd) {
  http::ServerOptions o;
  o.handler_threads = 1;
  o.max_waiting_requests = 1;
  auto server = make_server(o);
  std::promise<void> started, release;
  auto release_future = release.get_future().share();
  std::atomic<bool> first{true};
  server->routes().Get("/block", [&](const http::Request&, http::Response& res) {
    if (first.exchange(false)) {
      started.set_value();
      release_future.wait();
    }
    res.status = 204;
  });
  int port = server->start();
  RawConnection running(port), waiting(port);
  running.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n");
  started.get_future().wait();
  waiting.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n");
  // Until the server has read it, the one waiting slot is still free.
  for (int i = 0; i < 500 && server->stats().waiting_requests < 1; ++i) {
    std::this_thread::sleep_for(10ms);  // polling interval
  }
  ASSERT_EQ(server->stats().waiting_requests, 1);
  std::string refused = raw_get(port, "/ping");
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused.substr(0, 80);
  EXPECT_NE(refused.find("Retry-After"), std::string::npos);
  release.set_value();
  EXPECT_NE(running.read(5000ms, "\r\n\r\n").find("204"), std::string::npos);
  EXPECT_NE(waiting.read(5000ms, "\r\n\r\n").find("204"), std::string::npos);
  EXPECT_GE(server->stats().refused_busy, 1);
}

}  // namespace
}  // namespace pastiche::testing

namespace pastiche::testing {
namespace {

std::string multipart_body(const std::string& boundary,
                           const std::vector<std::pair<std::string, std::string>>& parts) {
  std::string body;
  for (const auto& [name, value] : parts) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name +
            "\"; filename=\"" + name + ".bin\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
            value + "\r\n";
  }
  return body + "--" + boundary + "--\r\n";
}

std::string post_head(const std::string& path, const std::string& type, size_t length) {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
}

// Regression (issue 26, attack 1): a URL-encoded body cost ~24x its size in memory on any route,
// before routing. Form and JSON bodies now have a small limit of their own and a field cap.
TEST(HttpServer, FormBodiesHaveASmallLimitAndAFieldCap) {
  http::ServerOptions o;
  o.max_form_bytes = 64 * 1024;
  o.max_form_fields = 100;
  auto server = make_server(o);
  server->routes().Post("/form", [](const http::Request& req, http::Response& res) {
    res.set_content(std::to_string(req.params.size()), "text/plain");
  });
  int port = server->start();
  std::string flood;
  for (int i = 0; i < 500'000; ++i) flood += "a=1&";  // 2 MB of tiny fields
  RawConnection big(port);
  big.send(post_head("/no/such/route", "application/x-www-form-urlencoded", flood.size()));
  std::string reply = big.read(5000ms, "}");
  EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply.substr(0, 100);
  EXPECT_TRUE(big.wait_closed(5000ms));  // refused from the head: the body is never read

  httplib::Client c("127.0.0.1", port);
  std::string fields;
  for (int i = 0; i < 101; ++i) fields += "f" + std::to_string(i) + "=1&";
  auto many = c.Post("/form", fields, "application/x-www-form-urlencoded");
  ASSERT_TRUE(many);
  EXPECT_EQ(many->status, 400);
  EXPECT_NE(many->body.find("more than 100 fields"), std::string::npos) << many->body;
  auto json = c.Post("/form", std::string(70 * 1024, ' ') + "{}", "application/json");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 413);
  auto fine = c.Post("/form", "a=1&b=2", "application/x-www-form-urlencoded");
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->body, "2");
  // Multipart bodies keep the large limit (images travel that way) and the same part cap.
  std::vector<std::pair<std::string, std::string>> parts(101, {"p", "x"});
  for (size_t i = 0; i < parts.size(); ++i) parts[i].first = "p" + std::to_string(i);
  auto many_parts =
      c.Post("/form", multipart_body("BND", parts), "multipart/form-data; boundary=BND");
  ASSERT_TRUE(many_parts);
  EXPECT_EQ(many_parts->status, 400);
}

// Regression (issue 26, attack 2): slow multipart uploads held their bytes in memory without a
// bound. Bodies in flight now reserve from one budget; a request that does not fit is refused
// with 503 + Retry-After, and what a request held is given back when it completes.
TEST(HttpServer, TheInflightBudgetRefusesWhatDoesNotFitAndIsGivenBack) {
  http::ServerOptions o;
  o.max_inflight_bytes = 1'000'000;
  o.max_inflight_bytes_per_ip = 0;
  auto server = make_server(o);
  server->routes().Post("/up", [](const http::Request& req, http::Response& res) {
    res.set_content(std::to_string(req.get_file_value("f").content.size()), "text/plain");
  });
  int port = server->start();
  const std::string type = "multipart/form-data; boundary=BND";
  const std::string first = multipart_body("BND", {{"f", std::string(700'000, 'a')}});
  RawConnection holder(port, "127.0.0.2");
  holder.send(post_head("/up", type, first.size()) + first.substr(0, first.size() / 2));
  EXPECT_TRUE(eventually([&] { return server->stats().inflight_bytes > 0; }, 5000ms));

  const std::string second = multipart_body("BND", {{"f", std::string(400'000, 'b')}});
  RawConnection refused(port, "127.0.0.3");
  refused.send(post_head("/up", type, second.size()));
  std::string reply = refused.read(5000ms, "}");
  EXPECT_EQ(reply.rfind("HTTP/1.1 503", 0), 0u) << reply.substr(0, 100);
  EXPECT_NE(reply.find("Retry-After: 5"), std::string::npos);

  holder.send(first.substr(first.size() / 2));
  EXPECT_NE(holder.read(5000ms, "700000").find("700000"), std::string::npos);
  EXPECT_TRUE(eventually([&] { return server->stats().inflight_bytes == 0; }, 5000ms))
      << server->stats().inflight_bytes;
  RawConnection retried(port, "127.0.0.3");
  retried.send(post_head("/up", type, second.size()) + second);
  EXPECT_NE(retried.read(5000ms, "400000").find("400000"), std::string::npos);
}

TEST(HttpServer, OneAddressGetsOnlyItsShareOfTheBudget) {
  http::ServerOptions o;
  o.max_inflight_bytes = 10'000'000;
  o.max_inflight_bytes_per_ip = 1'000'000;
  auto server = make_server(o);
  server->routes().Post("/up", [](const http::Request&, http::Response& res) { res.status = 204; });
  int port = server->start();
  const std::string type = "multipart/form-data; boundary=BND";
  const std::string body = multipart_body("BND", {{"f", std::string(600'000, 'a')}});
  RawConnection first(port, "127.0.0.4");
  first.send(post_head("/up", type, body.size()));
  EXPECT_TRUE(eventually([&] { return server->stats().inflight_bytes > 0; }, 5000ms));
  RawConnection same(port, "127.0.0.4");
  same.send(post_head("/up", type, body.size()));
  EXPECT_EQ(same.read(5000ms, "}").rfind("HTTP/1.1 503", 0), 0u);
  RawConnection other(port, "127.0.0.5");
  other.send(post_head("/up", type, body.size()) + body);
  EXPECT_EQ(other.read(5000ms, "\r\n\r\n").rfind("HTTP/1.1 204", 0), 0u);
}

// Large parts are received into unnamed temporary files and read back intact for the handler.
TEST(HttpServer, LargePartsSpillToUnnamedFilesAndArriveIntact) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("pastiche-spill-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  http::ServerOptions o;
  o.spill_bytes = 4096;
  o.spill_dir = dir.string();
  auto server = make_server(o);
  server->routes().Post("/up", [&](const http::Request& req, http::Response& res) {
    std::string out;
    for (const auto& [name, part] : req.files) out += name + ":" + part.content + ";";
    res.set_content(out, "application/octet-stream");
  });
  int port = server->start();
  std::string big;
  for (unsigned i = 0; i < 300000; ++i) big += static_cast<char>((i * 7919u) % 251u);
  const std::string small = "just a title";
  httplib::Client c("127.0.0.1", port);
  auto r = c.Post("/up", multipart_body("BND", {{"a", big}, {"b", small}, {"c", big + "!"}}),
                  "multipart/form-data; boundary=BND");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "a:" + big + ";b:" + small + ";c:" + big + "!;");
  EXPECT_TRUE(fs::is_empty(dir));  // nothing named, nothing left behind
  fs::remove_all(dir);
}

// Regression (issue 26, item 7): "%00" in a path cut it short (DELETE /api/history/<id>%00xyz
// deleted the job; /assets/a.js%00.png served a.js).
TEST(HttpServer, EscapedControlCharactersInTheUrlAre400) {
  http::ServerOptions o;
  auto server = make_server(o);
  server->routes().Get(R"(/p/(.*))", [](const http::Request& req, http::Response& res) {
    res.set_content("[" + req.matches[1] + "]", "text/plain");
  });
  int port = server->start();
  for (const char* path : {"/ping%00.png", "/p/a%00b", "/p/x%1b", "/ping?q=%07", "/p/%7F"}) {
    std::string reply = raw_get(port, path);
    EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << path << ": " << reply.substr(0, 80);
  }
  std::string fine = raw_get(port, "/p/a%20b%2Fc");
  EXPECT_NE(fine.find("[a b/c]"), std::string::npos) << fine;
  EXPECT_NE(raw_get(port, "/ping").find("pong"), std::string::npos);
}

// Regression (issue 26, item 7): a closed event stream kept its slot until its next write.
TEST(HttpServer, AStreamWhoseClientLeftEndsWithoutWaitingForAWrite) {
  http::ServerOptions o;
  o.stream_wake_s = 60;  // no periodic wake-up to notice it by chance
  auto server = make_server(o);
  auto ended = std::make_shared<std::promise<void>>();
  class Tracked : public PushStream {
   public:
    explicit Tracked(std::shared_ptr<std::promise<void>> p) : p_(std::move(p)) {}
    ~Tracked() override { p_->set_value(); }

   private:
    std::shared_ptr<std::promise<void>> p_;
  };
  server->routes().Get("/stream", [&](const http::Request&, http::Response& res) {
    res.set_stream(std::make_shared<Tracked>(ended), "text/event-stream");
  });
  int port = server->start();
  {
    RawConnection c(port);
    c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_NE(c.read(5000ms, "hello\n").find("hello"), std::string::npos);
    EXPECT_EQ(server->stats().streams, 1);
  }  // the client closes
  EXPECT_EQ(ended->get_future().wait_for(3s), std::future_status::ready);
  EXPECT_TRUE(eventually([&] { return server->stats().streams == 0; }, 3000ms));
}

// Regression (issue 26, item 7): slow readers of a large response held it for minutes.
TEST(HttpServer, ASlowReaderIsCutAtTheSendDeadline) {
  http::ServerOptions o;
  o.send_timeout_s = 1;
  o.min_send_rate = 1e9;  // the deadline is the timeout alone
  auto server = make_server(o);
  server->routes().Get("/big", [](const http::Request&, http::Response& res) {
    res.set_content(std::string(32 * 1024 * 1024, 'x'), "application/octet-stream");
  });
  int port = server->start();
  RawConnection reader(port);
  reader.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");  // and never reads
  EXPECT_TRUE(eventually([&] { return server->stats().inflight_bytes > 0; }, 5000ms));
  EXPECT_TRUE(eventually([&] { return server->stats().connections == 0; }, 5000ms));
  EXPECT_EQ(server->stats().inflight_bytes, 0);
  EXPECT_EQ(server->stats().cut_slow, 1);
}

// Regression (issue 26, item 7): near the connection cap, slow clients reconnecting as soon as
// they were cut held every slot, and /healthz waited a second or more for one.
TEST(HttpServer, NearTheCapTheLongestWaitingHeadsMakeRoom) {
  http::ServerOptions o;
  o.max_connections = 40;
  o.max_connections_per_ip = 0;
  o.pressure_fraction = 0.99;  // only making room cuts here, not the shorter head deadline
  o.header_timeout_s = 60;
  auto server = make_server(o);
  int port = server->start();
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 39; ++i) {
    slow.push_back(std::make_unique<RawConnection>(port));
    slow.back()->send("GET /ping HTTP/1.1\r\nHost: x\r\n");  // never finished
    if (i == 0) std::this_thread::sleep_for(300ms);          // the first has clearly waited longest
  }
  EXPECT_TRUE(eventually([&] { return server->stats().cut_slow >= 3; }, 3000ms));
  EXPECT_TRUE(slow.front()->wait_closed(3000ms));
  EXPECT_LE(server->stats().connections, 37);
  auto t = Clock::now();
  EXPECT_NE(raw_get(port, "/ping").find("pong"), std::string::npos);
  EXPECT_LT(Clock::now() - t, 500ms);
}

}  // namespace
}  // namespace pastiche::testing
