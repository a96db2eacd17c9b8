#include "store/pg_rows.h"

namespace pastiche {

const char* const kPgJobColumns =
    "id, owner, method, style, style_title, params, status, progress, error, attempts, "
    "created_ms, started_ms, finished_ms, seconds, width, height, fetched_ms, worker_id, "
    "lease_expires_ms, cancel_requested, delete_requested, batch_id, content_name";

JobRecord read_pg_job(const pqxx::row& r) {
  JobRecord j;
  j.id = r[0].as<std::string>();
  j.owner = r[1].as<std::string>();
  j.method = r[2].as<std::string>();
  j.style = r[3].as<std::string>();
  j.style_title = r[4].as<std::string>();
  j.params = r[5].as<std::string>();
  j.status = parse_job_status(r[6].as<std::string>());
  j.progress = r[7].as<std::string>();
  j.error = r[8].as<std::string>();
  j.attempts = r[9].as<int>();
  j.created_ms = r[10].as<int64_t>();
  j.started_ms = r[11].as<int64_t>();
  j.finished_ms = r[12].as<int64_t>();
  j.seconds = r[13].as<double>();
  j.width = r[14].as<int>();
  j.height = r[15].as<int>();
  j.fetched_ms = r[16].as<int64_t>();
  j.worker_id = r[17].as<std::string>();
  j.lease_expires_ms = r[18].as<int64_t>();
  j.cancel_requested = r[19].as<bool>();
  j.delete_requested = r[20].as<bool>();
  j.batch_id = r[21].as<std::string>();
  j.content_name = r[22].as<std::string>();
  return j;
}

std::vector<JobRecord> read_pg_jobs(const pqxx::result& rows) {
  std::vector<JobRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(read_pg_job(row));
  return out;
}

void insert_pg_job(pqxx::transaction_base& tx, const JobRecord& j) {
  tx.exec_params(std::string("INSERT INTO jobs (") + kPgJobColumns +
                     ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,"
                     "$19,$20,$21,$22,$23)",
                 j.id, j.owner, j.method, j.style, j.style_title, j.params,
                 std::string(to_string(j.status)), j.progress, j.error, j.attempts, j.created_ms,
                 j.started_ms, j.finished_ms, j.seconds, j.width, j.height, j.fetched_ms,
                 j.worker_id, j.lease_expires_ms, j.cancel_requested, j.delete_requested,
                 j.batch_id, j.content_name);
}

int update_pg_job(pqxx::transaction_base& tx, const JobRecord& j, const std::string& holder) {
  std::string sql =
      "UPDATE jobs SET method=$1, style=$2, style_title=$3, params=$4, status=$5, progress=$6, "
      "error=$7, attempts=$8, started_ms=$9, finished_ms=$10, seconds=$11, width=$12, "
      "height=$13";
  if (holder.empty()) {
    sql += " WHERE id=$14";
    return static_cast<int>(tx.exec_params(sql, j.method, j.style, j.style_title, j.params,
                                           std::string(to_string(j.status)), j.progress, j.error,
                                           j.attempts, j.started_ms, j.finished_ms, j.seconds,
                                           j.width, j.height, j.id)
                                .affected_rows());
  }
  sql += ", worker_id='', lease_expires_ms=0 WHERE id=$14 AND status='running' AND worker_id=$15";
  return static_cast<int>(tx.exec_params(sql, j.method, j.style, j.style_title, j.params,
                                         std::string(to_string(j.status)), j.progress, j.error,
                                         j.attempts, j.started_ms, j.finished_ms, j.seconds,
                                         j.width, j.height, j.id, holder)
                              .affected_rows());
}

}  // namespace pastiche
