// The PostgreSQL jobs table's row <-> JobRecord mapping, shared by PgJobStore and PgJobQueue.
// Not used outside src/store.
#pragma once
#include <pqxx/pqxx>

#include <string>
#include <vector>

#include "store/job_store.h"

namespace pastiche {

// The jobs table's columns, in the order read_pg_job() expects.
extern const char* const kPgJobColumns;
JobRecord read_pg_job(const pqxx::row& row);
std::vector<JobRecord> read_pg_jobs(const pqxx::result& rows);

void insert_pg_job(pqxx::transaction_base& tx, const JobRecord& job);
// JobStore::update's columns. With a `holder`, only while that worker holds the running job, and
// the job is released (worker and lease cleared). Returns the rows changed (0 or 1).
int update_pg_job(pqxx::transaction_base& tx, const JobRecord& job, const std::string& holder = "");

// The channels of the queue's notifications: work (payload: the lane) and job changes
// (payload: the job id).
constexpr const char* kPgWorkChannel = "pastiche_work";
constexpr const char* kPgJobChannel = "pastiche_job";

}  // namespace pastiche
