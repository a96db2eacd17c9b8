// JobStore on a single SQLite file in WAL mode (readers never block the writer). One connection
// guarded by a mutex: the service does a few small statements per request. The schema's
// migrations are in sqlite_schema.h; the queue on the same file in sqlite_job_queue.h.
//
// Opening refuses a damaged or unwritable database with one line that says what to do, rather
// than starting and failing every request: quick_check, then a real write.
#pragma once
#include <mutex>
#include <string>

#include "store/job_store.h"

struct sqlite3;

namespace pastiche {

class SqliteJobStore : public JobStore {
 public:
  explicit SqliteJobStore(const std::string& path);  // creates the file and schema if needed
  ~SqliteJobStore() override;
  SqliteJobStore(const SqliteJobStore&) = delete;
  SqliteJobStore& operator=(const SqliteJobStore&) = delete;

  void insert(const JobRecord& job) override;
  std::optional<JobRecord> get(const std::string& id) override;
  void update(const JobRecord& job) override;
  void update_progress(const std::string& id, const std::string& progress_json) override;
  bool remove(const std::string& id) override;
  std::vector<JobRecord> list_by_owner(const std::string& owner, int limit, int offset) override;
  int64_t count_by_owner(const std::string& owner) override;
  std::vector<JobRecord> list_by_status(JobStatus status) override;
  std::vector<JobRecord> list_by_batch(const std::string& batch_id) override;
  std::vector<JobRecord> list_evictable(int64_t finished_before_ms, int limit) override;
  void mark_fetched(const std::string& id, int64_t ms) override;
  std::map<JobStatus, int64_t> count_by_status() override;

  void insert_style(const StyleRecord& style) override;
  std::optional<StyleRecord> get_style(const std::string& id) override;
  std::vector<StyleRecord> list_styles(const std::string& owner) override;
  bool remove_style(const std::string& id) override;
  std::string health_check() override;

  // A consistent copy of the live database (SQLite's online backup API; the server may run).
  void backup_to(const std::string& path);
  // Replaces the database at `db_path` with `backup` after checking the backup's integrity.
  // The server must be stopped.
  static void restore(const std::string& backup, const std::string& db_path);

  // Runs f(sqlite3*) under the store's lock: the SQLite job queue shares this connection.
  template <class F>
  auto with_db(F&& f) {
    std::lock_guard lock(mutex_);
    return f(db_);
  }
  const std::string& path() const { return path_; }

 private:
  void check_integrity();

  std::mutex mutex_;
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace pastiche
