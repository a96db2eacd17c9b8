// The two store backends behind one test interface, so each contract test runs on both:
// "sqlite" (a file in a temporary directory, images on disk) and "postgres" (a fresh database in
// the cluster named by PASTICHE_TEST_DATABASE_URL, images in it; for the image store also
// "postgres_files", images in a directory). scripts/test.sh starts that
// cluster (scripts/pg-test-cluster.sh); without the variable the PostgreSQL cases skip.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/fixtures.h"
#include "common/secure_random.h"
#include "store/disk_image_store.h"
#include "store/job_queue.h"
#include "store/pg_connection.h"
#include "store/pg_image_store.h"
#include "store/pg_job_queue.h"
#include "store/pg_job_store.h"
#include "store/sqlite_job_queue.h"
#include "store/sqlite_job_store.h"

namespace pastiche::testing {

inline const char* pg_test_url() {
  const char* url = std::getenv("PASTICHE_TEST_DATABASE_URL");
  return url && *url ? url : nullptr;
}

#define PASTICHE_SKIP_WITHOUT_POSTGRES()                                                        \
  do {                                                                                          \
    if (!::pastiche::testing::pg_test_url()) {                                                  \
      GTEST_SKIP() << "PASTICHE_TEST_DATABASE_URL is not set: PostgreSQL tests need a cluster " \
                      "(scripts/test.sh starts one; by hand: export "                           \
                      "PASTICHE_TEST_DATABASE_URL=$(scripts/pg-test-cluster.sh start))";        \
    }                                                                                           \
  } while (0)

// `url` (postgresql://.../DB?...) with another database name.
inline std::string with_database(const std::string& url, const std::string& name) {
  size_t scheme = url.find("://");
  size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  size_t query = url.find('?', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos || (query != std::string::npos && path > query)) {
    std::string base = query == std::string::npos ? url : url.substr(0, query);
    return base + "/" + name + (query == std::string::npos ? "" : url.substr(query));
  }
  return url.substr(0, path + 1) + name + (query == std::string::npos ? "" : url.substr(query));
}

// A new, empty database in the test cluster, dropped (with its connections) on destruction.
class PgTestDatabase {
 public:
  PgTestDatabase() : name_("pastiche_test_" + secure_random_hex(8)) {
    pqxx::connection admin(pg_test_url());
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE " + name_);
    url_ = with_database(pg_test_url(), name_);
  }
  ~PgTestDatabase() {
    try {
      pqxx::connection admin(pg_test_url());
      pqxx::nontransaction tx(admin);
      tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cannot drop " << name_ << ": " << e.what();
    }
  }
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;
  const std::string& url() const { return url_; }

 private:
  std::string name_, url_;
};

// A clock that moves only when told.
class TestClock {
 public:
  explicit TestClock(int64_t start = 1'000'000) : now_(start) {}
  Clock clock() {
    return [this] { return now_.load(); };
  }
  int64_t now() const { return now_.load(); }
  void advance(int64_t ms) { now_ += ms; }

 private:
  std::atomic<int64_t> now_;
};

// One process's view of a backend: its own connection(s), job store, queue and image store.
struct StoreHandle {
  virtual ~StoreHandle() = default;
  virtual JobStore& jobs() = 0;
  virtual JobQueue& queue() = 0;
  virtual ImageStore& images() = 0;
};

class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // A new handle on the same database; every handle is independent (as another process).
  virtual std::unique_ptr<StoreHandle> open(Clock clock = system_clock_ms) = 0;
};

class SqliteBackend : public StoreBackend {
 public:
  struct Handle : StoreHandle {
    Handle(const TempDir& dir, Clock clock)
        : store(dir.file("jobs.db")),
          queue_(store, std::move(clock)),
          disk(dir.path() / "images") {}
    JobStore& jobs() override { return store; }
    JobQueue& queue() override { return queue_; }
    ImageStore& images() override { return disk; }
    SqliteJobStore store;
    SqliteJobQueue queue_;
    DiskImageStore disk;
  };
  std::unique_ptr<StoreHandle> open(Clock clock = system_clock_ms) override {
    return std::make_unique<Handle>(dir_, std::move(clock));
  }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
};

class PgBackend : public StoreBackend {
 public:
  struct Handle : StoreHandle {
    Handle(const std::string& url, Clock clock, const std::filesystem::path& files)
        : db(url, 2), store(db), queue_(db, std::move(clock)), blobs(db, files) {}
    JobStore& jobs() override { return store; }
    JobQueue& queue() override { return queue_; }
    ImageStore& images() override { return blobs; }
    PgDatabase db;
    PgJobStore store;
    PgJobQueue queue_;
    PgImageStore blobs;
  };
  // `shared_files`: images in a directory (every handle's view of the same one), not the
  // database.
  explicit PgBackend(bool shared_files = false) : shared_files_(shared_files) {}
  std::unique_ptr<StoreHandle> open(Clock clock = system_clock_ms) override {
    return std::make_unique<Handle>(database_.url(), std::move(clock),
                                    shared_files_ ? files_.path() / "images" : "");
  }
  const std::string& url() const { return database_.url(); }

 private:
  PgTestDatabase database_;
  bool shared_files_;
  TempDir files_;
};

// Parameterised on the backend's name; PostgreSQL cases skip without a cluster.
class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (is_postgres()) {
      PASTICHE_SKIP_WITHOUT_POSTGRES();
      backend_ = std::make_unique<PgBackend>(GetParam() == "postgres_files");
    } else {
      backend_ = std::make_unique<SqliteBackend>();
    }
  }
  bool is_postgres() const { return GetParam().rfind("postgres", 0) == 0; }
  StoreBackend& backend() { return *backend_; }

 private:
  std::unique_ptr<StoreBackend> backend_;
};

#define PASTICHE_INSTANTIATE_BACKENDS(Suite)                                         \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values("sqlite", "postgres"), \
                           [](const auto& info) { return info.param; })
// The image stores: also PostgreSQL with the bytes in a shared directory.
#define PASTICHE_INSTANTIATE_IMAGE_BACKENDS(Suite)                                    \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                           \
                           ::testing::Values("sqlite", "postgres", "postgres_files"), \
                           [](const auto& info) { return info.param; })

// Two owners of jobs (client tokens as the service stores them).
inline const std::string kAliceOwner = "alice-token-00000", kBobOwner = "bob-token-0000000";

inline JobRecord make_job(const std::string& owner, int64_t created, JobStatus status,
                          const std::string& method = "fast") {
  JobRecord j;
  j.id = secure_random_hex(16);
  j.owner = owner;
  j.method = method;
  j.style = "tiny";
  j.params = "{}";
  j.status = status;
  j.created_ms = created;
  j.finished_ms = is_finished(status) ? created + 1 : 0;
  return j;
}

// Collects the ids that a queue's subscribers hear of, and waits (bounded) for one.
class UpdateLog {
 public:
  JobQueue::UpdateCallback callback() {
    return [this](const std::string& id) {
      std::lock_guard lock(mutex_);
      ids_.push_back(id);
      cv_.notify_all();
    };
  }
  bool wait_for(const std::string& id,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout,
                        [&] { return std::find(ids_.begin(), ids_.end(), id) != ids_.end(); });
  }
  void clear() {
    std::lock_guard lock(mutex_);
    ids_.clear();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> ids_;
};

}  // namespace pastiche::testing
