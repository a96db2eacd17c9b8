// Restart safety: jobs survive the server object and the process.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "service_fixture.h"

extern char** environ;

namespace pastiche::testing {
namespace {

constexpr const char* kToken = "restart-client-token-01";

std::vector<std::pair<std::string, std::string>> gatys_fields(int steps) {
  return {{"style", "stripes"},
          {"method", "gatys"},
          {"size", "64"},
          {"steps", std::to_string(steps)},
          {"scales", "1"}};
}

class ServiceRestart : public BackendServerTest {};

TEST_P(ServiceRestart, JobInterruptedByServerShutdownCompletesAfterRestart) {
  std::string id, queued_id;
  start();
  {
    Api api = ServerTest::api(kToken);
    id = api.submit(gatys_fields(400), png_of(test_photo(64, 64)));
    queued_id = api.submit({{"style", "stripes"},
                            {"method", "gatys"},
                            {"size", "64"},
                            {"steps", "5"},
                            {"scales", "1"}},
                           png_of(test_photo(64, 64)));
    api.wait_running(id);
  }
  server.reset();  // destroyed mid-job: the job is interrupted and queued again
  start();
  Api api = ServerTest::api(kToken);
  auto job = api.wait_finished(id, std::chrono::seconds(100));
  EXPECT_EQ(job["status"], "done") << job.dump();
  EXPECT_EQ(job["attempts"], 1);  // a graceful interruption does not count as an attempt
  EXPECT_EQ(api.wait_finished(queued_id)["status"], "done");
  EXPECT_EQ(api.get("/api/jobs/" + id + "/result")->status, 200);
}

PASTICHE_INSTANTIATE_IMAGE_BACKENDS(ServiceRestart);

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

// `pastiche serve` as a child process.
struct ServeProcess {
  pid_t pid = -1;
  int port;
  ServeProcess(const ServiceFiles& files, int port_) : port(port_) {
    std::vector<std::string> args = {PASTICHE_CLI_PATH, "serve",
                                     "--host",          "127.0.0.1",
                                     "--port",          std::to_string(port),
                                     "--data-dir",      files.data_dir,
                                     "--styles-dir",    files.styles_dir,
                                     "--models-dir",    files.models_dir,
                                     "--vgg",           files.vgg_path,
                                     "--threads",       "1",
                                     "--rate-limit",    "0",
                                     "--web-dir",       files.dir.file("no-web")};
    args.push_back("--normal-priority-workers");  // beside parallel tests (see the fixture)
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    std::string log = files.dir.file("serve.log");
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0) << "cannot start " << PASTICHE_CLI_PATH;
    // Ready when /healthz answers.
    httplib::Client probe("127.0.0.1", port);
    probe.set_connection_timeout(1);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = probe.Get("/healthz");
      if (r && r->status == 200) return;
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        ADD_FAILURE() << "pastiche serve exited early; see " << log;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling interval
    }
    ADD_FAILURE() << "pastiche serve did not become ready";
  }
  // Sends `sig` and returns the exit status (or -signal).
  int stop(int sig) {
    if (pid <= 0) return -1000;
    kill(pid, sig);
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  ~ServeProcess() {
    if (pid > 0) stop(SIGKILL);
  }
};

TEST(ServiceRestartProcess, KilledProcessRequeuesTheRunningJobAndSigtermExitsCleanly) {
  ServiceFiles files;
  int port = free_port();
  std::string id;
  {
    ServeProcess serve(files, port);
    ASSERT_GT(serve.pid, 0);
    Api api(port, kToken);
    id = api.submit(gatys_fields(400), png_of(test_photo(64, 64)));
    api.wait_running(id);
    EXPECT_EQ(serve.stop(SIGKILL), -SIGKILL);  // dies mid-job, nothing checkpointed
  }
  ServeProcess serve(files, port);
  ASSERT_GT(serve.pid, 0);
  Api api(port, kToken);
  auto job = api.wait_finished(id, std::chrono::seconds(100));
  EXPECT_EQ(job["status"], "done") << job.dump();
  EXPECT_EQ(job["attempts"], 2);  // started again after the crash
  EXPECT_EQ(api.get("/api/jobs/" + id + "/result")->status, 200);
  EXPECT_EQ(serve.stop(SIGTERM), 0);  // graceful shutdown exits 0
}

}  // namespace
}  // namespace pastiche::testing
