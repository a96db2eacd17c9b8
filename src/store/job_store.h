// Where jobs and uploaded styles are recorded: SQLite (sqlite_job_store.h, embedded default) or
// PostgreSQL (pg_job_store.h, shared by several processes). The service never issues SQL itself;
// the queue operations on the same rows (claim, lease, cancel) are in job_queue.h.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pastiche {

// expired: finished, then its images were removed by the disk quota; the row stays in history.
enum class JobStatus { queued, running, done, failed, cancelled, expired };
const char* to_string(JobStatus s);
JobStatus parse_job_status(const std::string& s);  // throws std::invalid_argument
inline bool is_finished(JobStatus s) {
  return s == JobStatus::done || s == JobStatus::failed || s == JobStatus::cancelled ||
         s == JobStatus::expired;
}

struct JobRecord {
  std::string id;      // generated, 32 hex
  std::string owner;   // client token
  std::string method;  // "fast" | "gatys"
  std::string style;   // style id(s), comma-separated
  std::string style_title;
  std::string params;  // canonical parameters, JSON object text
  JobStatus status = JobStatus::queued;
  std::string progress;  // last progress, JSON object text; empty before the start
  std::string error;
  int attempts = 0;        // times started
  int64_t created_ms = 0;  // Unix epoch milliseconds; 0 = not reached
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  double seconds = 0;
  int width = 0, height = 0;
  int64_t fetched_ms = 0;  // when its result was first downloaded; 0 = never
  // Set when the job is created, never changed by update():
  std::string batch_id;      // the batch it was submitted in (POST /api/batches); empty = none
  std::string content_name;  // the photo's file name, sanitised (service/file_names.h); may be ""
  // Written by the JobQueue only (insert stores them, update() leaves them alone):
  std::string worker_id;          // the worker holding a running job; empty otherwise
  int64_t lease_expires_ms = 0;   // a running job's lease ends then unless its worker heartbeats
  bool cancel_requested = false;  // a running job should stop (its worker's heartbeat says so)
  bool delete_requested = false;  // ...and be removed with its files once it has stopped
};

struct StyleRecord {
  std::string id;  // generated, 32 hex
  std::string owner;
  std::string title, artist, description;
  int64_t created_ms = 0;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  virtual void insert(const JobRecord& job) = 0;
  virtual std::optional<JobRecord> get(const std::string& id) = 0;
  // Every column but id/owner/created, batch_id/content_name and the queue's (worker_id, lease,
  // cancel/delete flags).
  virtual void update(const JobRecord& job) = 0;
  virtual void update_progress(const std::string& id, const std::string& progress_json) = 0;
  virtual bool remove(const std::string& id) = 0;

  // Newest first; an empty owner means every owner.
  virtual std::vector<JobRecord> list_by_owner(const std::string& owner, int limit, int offset) = 0;
  virtual int64_t count_by_owner(const std::string& owner) = 0;
  // Oldest first (created_ms, then id).
  virtual std::vector<JobRecord> list_by_status(JobStatus status) = 0;
  // The jobs of one batch, in submission order (created_ms, then insertion order).
  virtual std::vector<JobRecord> list_by_batch(const std::string& batch_id) = 0;
  // Finished jobs the disk quota may expire, oldest first: done, failed or cancelled before
  // `finished_before_ms`, and (done ones) with their result fetched at least once.
  virtual std::vector<JobRecord> list_evictable(int64_t finished_before_ms, int limit) = 0;
  virtual void mark_fetched(const std::string& id, int64_t ms) = 0;  // first fetch only
  virtual std::map<JobStatus, int64_t> count_by_status() = 0;

  virtual void insert_style(const StyleRecord& style) = 0;
  virtual std::optional<StyleRecord> get_style(const std::string& id) = 0;
  virtual std::vector<StyleRecord> list_styles(const std::string& owner) = 0;  // oldest first
  virtual bool remove_style(const std::string& id) = 0;

  // Empty when the store can be read and written now; otherwise what is wrong.
  virtual std::string health_check() = 0;
};

}  // namespace pastiche
