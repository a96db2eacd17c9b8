#include "service/stores.h"

#include <algorithm>
#include <filesystem>

#include "store/disk_image_store.h"
#include "store/pg_connection.h"
#include "store/pg_image_store.h"
#include "store/pg_job_queue.h"
#include "store/pg_job_store.h"
#include "store/pg_quota_reservations.h"
#include "store/pg_share_store.h"
#include "store/sqlite_job_queue.h"
#include "store/sqlite_job_store.h"
#include "store/sqlite_share_store.h"

namespace pastiche::service {

namespace fs = std::filesystem;

namespace {

// A missing or empty job database next to stored job images means the database was lost or
// truncated: starting would silently forget every job and orphan its files.
void refuse_new_database_beside_old_data(const std::string& db_path, const fs::path& images,
                                         bool init) {
  std::error_code ec;
  bool empty_db = !fs::exists(db_path, ec) || fs::file_size(db_path, ec) == 0;
  if (!empty_db || init) return;
  for (const char* sub : {"jobs", "styles"}) {
    fs::path dir = images / sub;
    if (fs::is_directory(dir, ec) && !fs::is_empty(dir, ec)) {
      throw std::runtime_error(
          "job database '" + db_path + "' is " + (fs::exists(db_path, ec) ? "empty" : "missing") +
          " but " + dir.string() +
          " holds stored images: restore the database (`pastiche admin restore BACKUP`) or, to "
          "start a new history anyway, pass --init");
    }
  }
}

}  // namespace

Stores::Stores() = default;
Stores::Stores(Stores&&) noexcept = default;
Stores& Stores::operator=(Stores&&) noexcept = default;
Stores::~Stores() {
  // The queue first (it uses the job store's connection or the database), the database last.
  reservations.reset();
  shares.reset();
  queue.reset();
  images.reset();
  jobs.reset();
  pg.reset();
}

bool is_postgres_url(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

Stores open_sqlite_stores(const std::string& data_dir, bool init) {
  std::string db_path = (fs::path(data_dir) / "jobs.db").string();
  refuse_new_database_beside_old_data(db_path, fs::path(data_dir) / "images", init);
  Stores s;
  auto jobs = std::make_unique<SqliteJobStore>(db_path);
  s.queue = std::make_unique<SqliteJobQueue>(*jobs);
  s.shares = std::make_unique<SqliteShareStore>(*jobs);
  s.jobs = std::move(jobs);
  s.images = std::make_unique<DiskImageStore>(fs::path(data_dir) / "images");
  s.reservations = std::make_unique<MemoryQuotaReservations>(*s.jobs, *s.images);
  s.description = "SQLite " + db_path;
  return s;
}

Stores open_postgres_stores(const std::string& url, int connections,
                            const std::string& images_dir) {
  Stores s;
  s.shared = true;
  s.pg = std::make_unique<PgDatabase>(url, std::max(1, connections));
  s.jobs = std::make_unique<PgJobStore>(*s.pg);
  s.queue = std::make_unique<PgJobQueue>(*s.pg);
  s.shares = std::make_unique<PgShareStore>(*s.pg);
  s.images = std::make_unique<PgImageStore>(*s.pg, images_dir);
  s.reservations = std::make_unique<PgQuotaReservations>(*s.pg);
  s.description = "PostgreSQL " + s.pg->redacted_url() +
                  (images_dir.empty() ? "" : ", images in " + images_dir);
  return s;
}

}  // namespace pastiche::service
