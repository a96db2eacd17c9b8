// Where jobs and uploaded styles are recorded. A small interface so the SQLite implementation can
// be swapped for a shared (PostgreSQL) queue later; the service never issues SQL itself.
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
  virtual void update(const JobRecord& job) = 0;  // every column but id/owner/created
  virtual void update_progress(const std::string& id, const std::string& progress_json) = 0;
  virtual bool remove(const std::string& id) = 0;

  // Newest first; an empty owner means every owner.
  virtual std::vector<JobRecord> list_by_owner(const std::string& owner, int limit, int offset) = 0;
  virtual int64_t count_by_owner(const std::string& owner) = 0;
  // Oldest first (created_ms, then id).
  virtual std::vector<JobRecord> list_by_status(JobStatus status) = 0;
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
