// Scale-out (issue 14) with real processes: the built `pastiche` binary as two API-only nodes
// (`serve --database ... --no-workers`) and three `pastiche worker` processes on one PostgreSQL
// database of the test cluster, on tiny synthetic models. One cluster serves the whole suite;
// a test that kills or stops a worker starts a replacement first thing in the next one.
// Skips without PASTICHE_TEST_DATABASE_URL (scripts/test.sh sets it).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "service/service_fixture.h"

extern char** environ;

namespace pastiche::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kClusterToken = "cluster-client-token-01";
constexpr const char* kAdminKey = "cluster-admin-key-000001";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A `pastiche` child process, its stdout and stderr in `log`.
struct Process {
  pid_t pid = -1;
  std::string log;

  Process(std::vector<std::string> args, std::string log_path) : log(std::move(log_path)) {
    args.insert(args.begin(), PASTICHE_CLI_PATH);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const char* log_file = log.c_str();
    pid = fork();
    if (pid == 0) {
      // Only async-signal-safe calls until exec. The child dies with the test process, however
      // that ends (a crashed test must not leave workers behind).
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      execve(argv[0], argv.data(), environ);
      _exit(127);
    }
    if (pid < 0) ADD_FAILURE() << "cannot start " << PASTICHE_CLI_PATH;
  }
  ~Process() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  bool alive() {
    if (pid <= 0) return false;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      return false;
    }
    return true;
  }
  // Sends `sig` and waits (bounded) for the exit; the exit code, -signal, or -1000 on timeout.
  int stop(int sig, std::chrono::seconds timeout = 30s) {
    if (pid <= 0) return -1000;
    kill(pid, sig);
    auto deadline = Clock::now() + timeout;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) return -1000;
      std::this_thread::sleep_for(10ms);  // polling interval
    }
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  std::string output() const { return slurp(log); }
};

class Cluster : public ::testing::Test {
 protected:
  struct Shared {
    ServiceFiles files;
    PgTestDatabase db;
    std::vector<std::unique_ptr<Process>> apis;
    std::vector<int> ports;
    std::map<std::string, std::unique_ptr<Process>> workers;  // by worker id
    int next_worker = 1;
  };
  static inline std::unique_ptr<Shared> shared_;

  static void TearDownTestSuite() { shared_.reset(); }

  void SetUp() override {
    PASTICHE_SKIP_WITHOUT_POSTGRES();
    if (!shared_) {
      shared_ = std::make_unique<Shared>();
      for (int i = 0; i < 2; ++i) start_api(i);
    }
    // Three live workers, whatever the previous test did to them.
    for (auto it = shared_->workers.begin(); it != shared_->workers.end();) {
      it = it->second->alive() ? std::next(it) : shared_->workers.erase(it);
    }
    while (shared_->workers.size() < 3) start_worker();
    wait_for_workers();
  }

  Shared& s() { return *shared_; }

  static std::vector<std::string> common_args(const ServiceFiles& f) {
    return {"--models-dir", f.models_dir, "--styles-dir",
            f.styles_dir,   "--vgg",      f.vgg_path,
            "--threads",    "1",          "--normal-priority-workers"};
  }

  void start_api(int i) {
    auto& f = s().files;
    std::vector<std::string> args = {"serve",        "--database",
                                     s().db.url(),   "--no-workers",
                                     "--host",       "127.0.0.1",
                                     "--port",       "0",
                                     "--data-dir",   f.dir.file("api" + std::to_string(i)),
                                     "--web-dir",    f.dir.file("no-web"),
                                     "--rate-limit", "0",
                                     "--admin-key",  kAdminKey,
                                     "--max-queue",  "400"};
    for (auto& a : common_args(f)) args.push_back(a);
    // One client token submits every job here: no per-client caps.
    for (const char* a :
         {"--max-jobs-per-client", "fast=0,gatys=0", "--max-work-per-client", "0"}) {
      args.push_back(a);
    }
    auto p = std::make_unique<Process>(args, f.dir.file("api" + std::to_string(i) + ".log"));
    // Ready once it says where it listens (port 0: the system chose).
    int port = 0;
    std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
    bool ready = eventually(
        [&] {
          std::smatch m;
          std::string out = p->output();
          if (std::regex_search(out, m, listening)) port = std::stoi(m[1]);
          return port > 0 || !p->alive();
        },
        60s);
    ASSERT_TRUE(ready && port > 0) << "API node " << i << " did not start:\n" << p->output();
    s().apis.push_back(std::move(p));
    s().ports.push_back(port);
  }

  // A worker on both lanes with 2 s leases (heartbeats every 250 ms) that, when stopped, lets its
  // running jobs finish for `drain_seconds` and then hands them back.
  std::string start_worker(int drain_seconds = 0) {
    auto& f = s().files;
    std::string id = "w" + std::to_string(s().next_worker++);
    std::vector<std::string> args = {"worker",
                                     "--database",
                                     s().db.url(),
                                     "--id",
                                     id,
                                     "--lanes",
                                     "fast,gatys",
                                     "--lease-seconds",
                                     "2",
                                     "--drain-seconds",
                                     std::to_string(drain_seconds),
                                     "--preview-every",
                                     "5"};
    for (auto& a : common_args(f)) args.push_back(a);
    s().workers[id] = std::make_unique<Process>(args, f.dir.file(id + ".log"));
    return id;
  }

  Api api(int node) {
    Api a(s().ports.at(node), kClusterToken);
    return a;
  }

  json workers_json(int node = 0) {
    Api a = api(node);
    Reply r = a.http.Get("/api/workers", {{"X-Admin-Key", kAdminKey}});
    return r.status == 200 ? json::parse(r.body) : json::object();
  }

  // Until every started worker is in the registry.
  void wait_for_workers() {
    bool ready = eventually(
        [&] {
          std::set<std::string> listed;
          for (const auto& w : workers_json().value("workers", json::array()))
            listed.insert(w["id"].get<std::string>());
          bool all = true;
          for (const auto& [id, p] : s().workers) {
            if (!p->alive()) return true;  // reported below
            all = all && listed.count(id);
          }
          return all;
        },
        60s, 50ms);
    std::string logs;
    bool alive = true;
    for (const auto& [id, p] : s().workers) {
      logs += id + ":\n" + p->output() + "\n";
      alive = alive && p->alive();
    }
    ASSERT_TRUE(ready && alive) << "workers did not register:\n" << logs;
  }

  // The worker that holds `job` now (empty until one does).
  std::string holder_of(const std::string& job) {
    for (const auto& w : workers_json().value("workers", json::array())) {
      for (const auto& j : w["jobs"]) {
        if (j == job) return w["id"];
      }
    }
    return {};
  }

  // The worker whose log says it started `job` (the first one found).
  std::string holder_in_logs(const std::string& job) {
    for (const auto& entry : std::filesystem::directory_iterator(s().files.dir.path())) {
      auto name = entry.path().filename().string();
      if (name[0] != 'w' || entry.path().extension() != ".log") continue;
      if (slurp(entry.path().string()).find("job " + job + " started") != std::string::npos)
        return entry.path().stem().string();
    }
    return {};
  }

  // "job <id> started" lines in every worker's log, dead ones included.
  int starts_of(const std::string& job) {
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(s().files.dir.path())) {
      auto name = entry.path().filename().string();
      if (name.size() < 5 || name[0] != 'w' || entry.path().extension() != ".log") continue;
      std::string out = slurp(entry.path().string());
      for (size_t pos = 0; (pos = out.find("job " + job + " started", pos)) != std::string::npos;
           ++pos) {
        ++n;
      }
    }
    return n;
  }
};

TEST_F(Cluster, JobsSubmittedToBothApiNodesRunExactlyOnceOnThreeWorkers) {
  constexpr int kJobs = 200;
  std::string photo = png_of(test_photo(64, 48));
  std::vector<std::string> ids;
  for (int i = 0; i < kJobs; ++i) {
    Api a = api(i % 2);
    ids.push_back(a.submit({{"style", "tiny"}, {"size", "64"}}, photo));
    ASSERT_FALSE(ids.back().empty());
  }
  // Either node sees every job, whichever node took it and whichever worker ran it.
  for (int node = 0; node < 2; ++node) {
    Api a = api(node);
    json history;
    // History pages hold at most 100 items: count "done" over every page.
    bool all_done = eventually(
        [&] {
          int done = 0;
          for (int offset = 0; offset < kJobs; offset += 100) {
            history = parse_json(a.get("/api/history?limit=100&offset=" + std::to_string(offset)));
            for (const auto& j : history.value("items", json::array()))
              done += j["status"] == "done";
          }
          return done == kJobs;
        },
        120s, 100ms);
    ASSERT_TRUE(all_done) << history.dump().substr(0, 2000);
    EXPECT_EQ(history["total"], kJobs);
  }
  Api a = api(1);
  std::set<std::string> ran_on;
  for (const auto& id : ids) {
    auto job = a.job(id);
    EXPECT_EQ(job["status"], "done") << job.dump();
    EXPECT_EQ(job["attempts"], 1) << job.dump();  // never re-run
    EXPECT_EQ(job["width"], 64);
    EXPECT_EQ(starts_of(id), 1) << id;  // claimed by exactly one worker, once
    ran_on.insert(holder_in_logs(id));
    EXPECT_EQ(a.get("/api/jobs/" + id + "/result")->status, 200);
  }
  RecordProperty("workers_used", static_cast<int>(ran_on.size()));
}

TEST_F(Cluster, AJobOfAKilledWorkerIsFinishedByAnotherAfterItsLeaseExpires) {
  Api a = api(0);
  std::string id = a.submit(gatys_fields(1000), png_of(test_photo(64, 64)));
  a.wait_running(id);
  std::string holder;
  ASSERT_TRUE(eventually([&] { return !(holder = holder_of(id)).empty(); }, 10s)) << id;
  auto killed_at = Clock::now();
  EXPECT_EQ(s().workers.at(holder)->stop(SIGKILL), -SIGKILL);  // mid-job, no goodbye
  // Another worker takes it once the 2 s lease has run out (its reaper puts it back).
  std::string next;
  ASSERT_TRUE(eventually(
      [&] {
        next = holder_of(id);
        return !next.empty() && next != holder;
      },
      30s))
      << a.job(id).dump();
  EXPECT_GE(Clock::now() - killed_at, 1500ms);  // not before the lease expired
  auto job = a.wait_finished(id, 120s);
  EXPECT_EQ(job["status"], "done") << job.dump();
  EXPECT_EQ(job["attempts"], 2);
  EXPECT_EQ(a.get("/api/jobs/" + id + "/result")->status, 200);
}

TEST_F(Cluster, NodeAStreamsAndCancelsAJobThatAWorkerElsewhereRunsWithinASecond) {
  Api b = api(1);
  std::string id = b.submit(gatys_fields(2000), png_of(test_photo(64, 64)));
  ASSERT_FALSE(id.empty());

  // The event stream on node A, read on a thread of its own.
  std::mutex mutex;
  std::condition_variable cv;
  std::string events;
  bool ended = false;
  std::thread reader([&] {
    Api a = api(0);
    a.http.Get(("/api/jobs/" + id + "/events").c_str(), client_headers(kClusterToken),
               [&](const char* data, size_t n) {
                 std::lock_guard lock(mutex);
                 events.append(data, n);
                 cv.notify_all();
                 return true;
               });
    std::lock_guard lock(mutex);
    ended = true;
    cv.notify_all();
  });
  auto seen = [&](const std::string& what, std::chrono::seconds timeout) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, [&] { return events.find(what) != std::string::npos; });
  };
  EXPECT_TRUE(seen("event: progress", 60s)) << events;
  EXPECT_TRUE(seen("event: preview", 60s)) << events;
  std::string holder = holder_of(id);
  EXPECT_FALSE(holder.empty());

  Api a = api(0);
  auto cancel = a.del("/api/jobs/" + id);
  auto asked = Clock::now();
  EXPECT_EQ(cancel.status, 202) << cancel.body;
  bool stopped = eventually([&] { return a.job(id)["status"] == "cancelled"; }, 10s, 10ms);
  auto took = Clock::now() - asked;
  EXPECT_TRUE(stopped) << a.job(id).dump();
  EXPECT_LT(took, 1000ms) << std::chrono::duration<double>(took).count() << " s";
  RecordProperty("cancel_ms", static_cast<int>(took / 1ms));
  {
    std::unique_lock lock(mutex);
    EXPECT_TRUE(cv.wait_for(lock, 10s, [&] { return ended; }));
    EXPECT_NE(events.find("event: cancelled"), std::string::npos) << events;
  }
  reader.join();
  // The preview the stream announced is in the shared image store, for either node.
  EXPECT_EQ(b.get("/api/jobs/" + id + "/preview")->status, 200);
}

TEST_F(Cluster, SigtermHandsARunningJobBackOrLetsItFinish) {
  Api a = api(0);
  std::string photo = png_of(test_photo(64, 64));
  // Handed back at once (--drain-seconds 0): another worker runs it, the attempt not counted.
  std::string id = a.submit(gatys_fields(1000), photo);
  a.wait_running(id);
  std::string holder;
  ASSERT_TRUE(eventually([&] { return !(holder = holder_of(id)).empty(); }, 10s));
  auto stopped_at = Clock::now();
  EXPECT_EQ(s().workers.at(holder)->stop(SIGTERM), 0);  // a clean exit
  EXPECT_LT(Clock::now() - stopped_at, 5s);
  EXPECT_NE(s().workers.at(holder)->output().find("interrupted by shutdown: queued again"),
            std::string::npos);
  auto job = a.wait_finished(id, 120s);
  EXPECT_EQ(job["status"], "done") << job.dump();
  EXPECT_EQ(job["attempts"], 1) << job.dump();
  EXPECT_NE(holder_of(id), holder);

  // With time to drain, the worker finishes the job before it exits.
  s().workers.clear();  // only the draining worker: it must be the one that takes the job
  std::string drainer = start_worker(60);
  wait_for_workers();
  std::string id2 = a.submit(gatys_fields(300), photo);
  a.wait_running(id2);
  EXPECT_EQ(holder_of(id2), drainer);
  EXPECT_EQ(s().workers.at(drainer)->stop(SIGTERM, 90s), 0);
  auto job2 = a.job(id2);
  EXPECT_EQ(job2["status"], "done") << job2.dump();  // finished before the process exited
  EXPECT_EQ(job2["attempts"], 1);
}

}  // namespace
}  // namespace pastiche::testing
