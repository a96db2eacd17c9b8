// JobStore on PostgreSQL, shared by every API and worker process of a cluster: the same
// behaviour as SqliteJobStore (orderings, evictable jobs, first fetch), on a PgDatabase's pool.
#pragma once
#include "store/job_store.h"

namespace pastiche {

class PgDatabase;

class PgJobStore : public JobStore {
 public:
  explicit PgJobStore(PgDatabase& db) : db_(db) {}

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

  PgDatabase& database() { return db_; }

 private:
  PgDatabase& db_;
};

}  // namespace pastiche
