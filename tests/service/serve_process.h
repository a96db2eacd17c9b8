// `pastiche serve` as a child process on a free loopback port: for tests of what only the real
// process shows (signals, restarts, its memory as /proc reports it).
#pragma once
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "service_fixture.h"

extern char** environ;

namespace pastiche::testing {

inline int free_port() {
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
  ServeProcess(const ServiceFiles& files, int port_, const std::vector<std::string>& extra = {})
      : port(port_) {
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
    args.insert(args.end(), extra.begin(), extra.end());
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

}  // namespace pastiche::testing
