#include "store/pg_job_store.h"

#include "store/pg_connection.h"
#include "store/pg_rows.h"

namespace pastiche {

namespace {

const std::string kSelectJobs = std::string("SELECT ") + kPgJobColumns + " FROM jobs ";
constexpr const char* kStyleColumns = "id, owner, title, artist, description, created_ms";

StyleRecord pg_read_style(const pqxx::row& r) {
  StyleRecord s;
  s.id = r[0].as<std::string>();
  s.owner = r[1].as<std::string>();
  s.title = r[2].as<std::string>();
  s.artist = r[3].as<std::string>();
  s.description = r[4].as<std::string>();
  s.created_ms = r[5].as<int64_t>();
  return s;
}

}  // namespace

void PgJobStore::insert(const JobRecord& job) {
  db_.autocommit([&](pqxx::transaction_base& tx) { insert_pg_job(tx, job); });
}

std::optional<JobRecord> PgJobStore::get(const std::string& id) {
  return db_.autocommit([&](pqxx::transaction_base& tx) -> std::optional<JobRecord> {
    auto rows = tx.exec_params(kSelectJobs + "WHERE id=$1", id);
    if (rows.empty()) return std::nullopt;
    return read_pg_job(rows[0]);
  });
}

void PgJobStore::update(const JobRecord& job) {
  db_.autocommit([&](pqxx::transaction_base& tx) { update_pg_job(tx, job); });
}

void PgJobStore::update_progress(const std::string& id, const std::string& progress_json) {
  db_.autocommit([&](pqxx::transaction_base& tx) {
    tx.exec_params("UPDATE jobs SET progress=$1 WHERE id=$2", progress_json, id);
  });
}

bool PgJobStore::remove(const std::string& id) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return tx.exec_params("DELETE FROM jobs WHERE id=$1", id).affected_rows() > 0;
  });
}

std::vector<JobRecord> PgJobStore::list_by_owner(const std::string& owner, int limit, int offset) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    const char* order = "ORDER BY created_ms DESC, seq DESC LIMIT $1 OFFSET $2";
    if (owner.empty()) return read_pg_jobs(tx.exec_params(kSelectJobs + order, limit, offset));
    return read_pg_jobs(
        tx.exec_params(kSelectJobs + "WHERE owner=$3 " + order, limit, offset, owner));
  });
}

int64_t PgJobStore::count_by_owner(const std::string& owner) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    if (owner.empty()) return tx.exec1("SELECT COUNT(*) FROM jobs")[0].as<int64_t>();
    return tx.exec_params1("SELECT COUNT(*) FROM jobs WHERE owner=$1", owner)[0].as<int64_t>();
  });
}

std::vector<JobRecord> PgJobStore::list_by_status(JobStatus status) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return read_pg_jobs(tx.exec_params(kSelectJobs + "WHERE status=$1 ORDER BY created_ms, seq",
                                       std::string(to_string(status))));
  });
}

std::vector<JobRecord> PgJobStore::list_by_batch(const std::string& batch_id) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return read_pg_jobs(
        tx.exec_params(kSelectJobs + "WHERE batch_id=$1 ORDER BY created_ms, seq", batch_id));
  });
}

std::vector<JobRecord> PgJobStore::list_evictable(int64_t finished_before_ms, int limit) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return read_pg_jobs(tx.exec_params(
        kSelectJobs + "WHERE status IN ('done','failed','cancelled') AND finished_ms < $1"
                      " AND (status != 'done' OR fetched_ms > 0)"
                      " ORDER BY finished_ms, created_ms, seq LIMIT $2",
        finished_before_ms, limit));
  });
}

void PgJobStore::mark_fetched(const std::string& id, int64_t ms) {
  db_.autocommit([&](pqxx::transaction_base& tx) {
    tx.exec_params("UPDATE jobs SET fetched_ms=$1 WHERE id=$2 AND fetched_ms=0", ms, id);
  });
}

std::map<JobStatus, int64_t> PgJobStore::count_by_status() {
  auto rows = db_.autocommit([&](pqxx::transaction_base& tx) {
    return tx.exec("SELECT status, COUNT(*) FROM jobs GROUP BY status");
  });
  std::map<JobStatus, int64_t> out;
  for (auto s : {JobStatus::queued, JobStatus::running, JobStatus::done, JobStatus::failed,
                 JobStatus::cancelled, JobStatus::expired}) {
    out[s] = 0;
  }
  for (const auto& row : rows)
    out[parse_job_status(row[0].as<std::string>())] = row[1].as<int64_t>();
  return out;
}

void PgJobStore::insert_style(const StyleRecord& s) {
  db_.autocommit([&](pqxx::transaction_base& tx) {
    tx.exec_params(
        std::string("INSERT INTO styles (") + kStyleColumns + ") VALUES ($1,$2,$3,$4,$5,$6)", s.id,
        s.owner, s.title, s.artist, s.description, s.created_ms);
  });
}

std::optional<StyleRecord> PgJobStore::get_style(const std::string& id) {
  return db_.autocommit([&](pqxx::transaction_base& tx) -> std::optional<StyleRecord> {
    auto rows =
        tx.exec_params(std::string("SELECT ") + kStyleColumns + " FROM styles WHERE id=$1", id);
    if (rows.empty()) return std::nullopt;
    return pg_read_style(rows[0]);
  });
}

std::vector<StyleRecord> PgJobStore::list_styles(const std::string& owner) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    auto rows = tx.exec_params(std::string("SELECT ") + kStyleColumns +
                                   " FROM styles WHERE owner=$1 ORDER BY created_ms, seq",
                               owner);
    std::vector<StyleRecord> out;
    for (const auto& row : rows) out.push_back(pg_read_style(row));
    return out;
  });
}

bool PgJobStore::remove_style(const std::string& id) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return tx.exec_params("DELETE FROM styles WHERE id=$1", id).affected_rows() > 0;
  });
}

std::string PgJobStore::health_check() {
  return db_.health_check();
}

}  // namespace pastiche
