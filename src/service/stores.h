// The stores one process works on: the embedded default (SQLite DATA_DIR/jobs.db, images under
// DATA_DIR/images; one process per data directory) or a shared PostgreSQL database (jobs, queue
// and images, for any number of API and worker processes).
#pragma once
#include <memory>
#include <string>

#include "store/image_store.h"
#include "store/job_queue.h"
#include "store/job_store.h"
#include "store/quota.h"
#include "store/share_store.h"

namespace pastiche {
class PgDatabase;
}

namespace pastiche::service {

struct Stores {
  Stores();
  Stores(Stores&&) noexcept;
  Stores& operator=(Stores&&) noexcept;
  ~Stores();

  bool shared = false;             // PostgreSQL: other processes use the same database
  std::string description;         // for logs: "SQLite data/jobs.db", "PostgreSQL postgresql://..."
  std::unique_ptr<PgDatabase> pg;  // declared first: destroyed last
  std::unique_ptr<JobStore> jobs;
  std::unique_ptr<ImageStore> images;
  std::unique_ptr<JobQueue> queue;
  std::unique_ptr<ShareStore> shares;  // share links and the gallery, beside the jobs
  // The disk quota's reservations: in the process (SQLite) or in the database, for every node.
  std::unique_ptr<QuotaReservations> reservations;
};

// postgresql:// or postgres:// (libpq's URL schemes).
bool is_postgres_url(const std::string& url);

// SQLite in `data_dir`. Refuses (std::runtime_error saying what to do) a missing or empty
// jobs.db beside stored images unless `init`: starting would orphan every file.
Stores open_sqlite_stores(const std::string& data_dir, bool init);
// PostgreSQL at `url` (migrations applied); `connections`: the pool's size. Images in the
// database, or in `images_dir` when given (a directory every node of the cluster mounts).
Stores open_postgres_stores(const std::string& url, int connections,
                            const std::string& images_dir = {});

}  // namespace pastiche::service
