// Where a job's files live in the image store, in one place: every key of a job starts with
// job_prefix(id), so removing that prefix removes the job's files and nothing else.
#pragma once
#include <string>

namespace pastiche {

inline std::string job_prefix(const std::string& id) {
  return "jobs/" + id + "/";
}
inline std::string content_key(const std::string& id) {
  return job_prefix(id) + "content.png";
}
// The picture a Gatys job starts from (init_job: a copy of that job's result, owned by this job).
inline std::string init_key(const std::string& id) {
  return job_prefix(id) + "init.png";
}
inline std::string result_key(const std::string& id) {
  return job_prefix(id) + "result.png";
}
inline std::string preview_key(const std::string& id) {
  return job_prefix(id) + "preview.jpg";
}
inline std::string thumb_key(const std::string& id) {
  return job_prefix(id) + "thumb.jpg";
}

}  // namespace pastiche
