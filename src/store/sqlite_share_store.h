// ShareStore on the SQLite job store's own connection (its lock, its file): shares and ratings
// live beside the jobs they belong to. Schema: migration 4 in sqlite_schema.cpp.
#pragma once
#include "store/share_store.h"

namespace pastiche {

class SqliteJobStore;

class SqliteShareStore : public ShareStore {
 public:
  explicit SqliteShareStore(SqliteJobStore& store) : store_(store) {}

  ShareRecord create_or_get(const std::string& job_id, const std::string& owner,
                            const std::string& token, int64_t now_ms) override;
  bool revoke(const std::string& job_id) override;
  std::optional<ShareRecord> get_by_token(const std::string& token) override;
  std::optional<ShareRecord> get_by_job(const std::string& job_id) override;
  std::map<std::string, ShareRecord> get_by_jobs(const std::vector<std::string>& ids) override;
  int64_t count_by_owner(const std::string& owner) override;
  bool publish(const std::string& job_id, const std::string& caption, int64_t now_ms) override;
  bool unpublish(const std::string& job_id) override;
  bool set_hidden(const std::string& token, bool hidden) override;
  GalleryPage gallery(GallerySort sort, int limit, int offset, const std::string& client) override;
  bool rate(const std::string& token, const std::string& client, int stars,
            int64_t now_ms) override;
  bool unrate(const std::string& token, const std::string& client) override;
  int my_rating(const std::string& token, const std::string& client) override;
  void remove_job(const std::string& job_id) override;

 private:
  SqliteJobStore& store_;
};

}  // namespace pastiche
