#include "store/pg_job_queue.h"

#include <algorithm>
#include <limits>

#include "store/pg_connection.h"
#include "store/pg_listener.h"
#include "store/pg_rows.h"

namespace pastiche {

namespace {

constexpr long long kEnqueueLock = 0x7061737469636871LL;  // serialises the queue-bound check
// With a hash of the client's token: serialises one client's enqueues (a key space of its own:
// PostgreSQL keeps two-part advisory keys apart from one-part ones).
constexpr int kClientLockClass = 0x70617374;  // "past"

void notify_job(pqxx::transaction_base& tx, const std::string& id) {
  tx.exec_params("SELECT pg_notify($1, $2)", std::string(kPgJobChannel), id);
}

void notify_work(pqxx::transaction_base& tx, const std::string& lane) {
  tx.exec_params("SELECT pg_notify($1, $2)", std::string(kPgWorkChannel), lane);
}

const std::string kJobColumns = kPgJobColumns;

// One job's caps and insert, inside the caller's transaction (which sees the jobs it queued).
EnqueueResult pg_enqueue_one(pqxx::work& tx, const JobRecord& job, double estimated_seconds,
                             const EnqueueOptions& options) {
  const JobRecord queued = as_queued(job);
  EnqueueResult r;
  // One client's submits on every node, one at a time: its caps and its next turn are read
  // and used before another of its jobs can be inserted.
  tx.exec_params("SELECT pg_advisory_xact_lock($1, hashtext($2))", kClientLockClass, job.owner);
  if (options.max_client_jobs > 0 || options.max_client_seconds > 0) {
    auto mine = tx.exec_params(
        "SELECT method, COUNT(*), COALESCE(SUM(estimated_seconds), 0) FROM jobs "
        "WHERE owner=$1 AND status IN ('queued','running') GROUP BY method",
        job.owner);
    int64_t all_jobs = 0;
    for (const auto& row : mine) {
      all_jobs += row[1].as<int64_t>();
      r.client_seconds += row[2].as<double>();
      if (row[0].as<std::string>() == job.method) {
        r.client_jobs = row[1].as<int64_t>();
        r.client_lane_seconds = row[2].as<double>();
      }
    }
    EnqueueOptions mine_options = options;
    mine_options.estimated_seconds = estimated_seconds;
    r.refused = client_cap_refusal(mine_options, r, all_jobs);
    if (!r.ok()) return r;
  }
  if (options.max_queued > 0) {
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", kEnqueueLock);
    auto n = tx.exec_params1(
        "SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE status='queued' LIMIT $1) q",
        options.max_queued);
    if (n[0].as<int64_t>() >= options.max_queued) {
      r.refused = EnqueueResult::Refusal::queue_full;
      return r;
    }
  }
  const int64_t turn =
      tx.exec_params1(
            "SELECT GREATEST(COALESCE((SELECT MAX(turn) FROM jobs WHERE status='running' AND "
            "method=$1), (SELECT MIN(turn) FROM jobs WHERE status='queued' AND method=$1), 0), "
            "COALESCE((SELECT MAX(turn) + 1 FROM jobs WHERE owner=$2 AND method=$1 AND "
            "status IN ('queued','running')), 0))",
            job.method, job.owner)[0]
          .as<int64_t>();
  insert_pg_job(tx, queued);
  tx.exec_params("UPDATE jobs SET turn=$1, estimated_seconds=$2 WHERE id=$3", turn,
                 estimated_seconds, job.id);
  notify_work(tx, queued.method);
  notify_job(tx, queued.id);
  return r;
}

// A refused batch: thrown out of the transaction so that it rolls back.
struct Refused {
  EnqueueResult result;
};

}  // namespace

PgJobQueue::PgJobQueue(PgDatabase& db, Clock clock) : db_(db), clock_(std::move(clock)) {
  listener_ = std::make_unique<PgListener>(
      db_.url(), std::vector<std::string>{kPgWorkChannel, kPgJobChannel},
      [this](const std::string& channel, const std::string& payload) {
        if (channel == kPgWorkChannel) {
          work_.notify(payload);
        } else {
          updates_.publish(payload);
        }
      },
      [this] {
        work_.notify_all();
        updates_.publish("");
      });
}

PgJobQueue::~PgJobQueue() = default;

int PgJobQueue::listener_backend_pid() const {
  return listener_->backend_pid();
}

EnqueueResult PgJobQueue::enqueue(const JobRecord& job, const EnqueueOptions& options) {
  return enqueue_all({job}, {options.estimated_seconds}, options);
}

EnqueueResult PgJobQueue::enqueue_all(const std::vector<JobRecord>& jobs,
                                      const std::vector<double>& estimated_seconds,
                                      const EnqueueOptions& options) {
  if (jobs.empty()) return {};
  try {
    return db_.transact([&](pqxx::work& tx) {
      EnqueueResult r;
      for (size_t i = 0; i < jobs.size(); ++i) {
        r = pg_enqueue_one(tx, jobs[i], estimated_seconds.at(i), options);
        if (!r.ok()) {
          r.refused_index = static_cast<int>(i);
          throw Refused{r};
        }
      }
      return r;
    });
  } catch (const Refused& refused) {
    return refused.result;  // rolled back: none of them is queued
  }
}

std::optional<JobRecord> PgJobQueue::claim(const std::string& lane, const std::string& worker_id,
                                           int64_t lease_ms) {
  const int64_t now = clock_();
  return db_.transact([&](pqxx::work& tx) -> std::optional<JobRecord> {
    auto rows = tx.exec_params(
        "UPDATE jobs SET status='running', attempts=attempts+1, started_ms=$1, worker_id=$2, "
        "lease_expires_ms=$3, cancel_requested=false, delete_requested=false "
        "WHERE status='queued' AND id=(SELECT id FROM jobs WHERE status='queued' AND method=$4 "
        "ORDER BY turn, created_ms, seq LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING " +
            kJobColumns,
        now, worker_id, now + lease_ms, lane);
    if (rows.empty()) return std::nullopt;
    JobRecord job = read_pg_job(rows[0]);
    notify_job(tx, job.id);
    return job;
  });
}

std::vector<std::string> PgJobQueue::heartbeat(const std::string& worker_id, int64_t lease_ms) {
  const int64_t now = clock_();
  return db_.transact([&](pqxx::work& tx) {
    auto rows = tx.exec_params(
        "UPDATE jobs SET lease_expires_ms=$1 WHERE worker_id=$2 AND status='running' "
        "RETURNING id, cancel_requested, created_ms, seq",
        now + lease_ms, worker_id);
    tx.exec_params("UPDATE workers SET last_seen_ms=$1 WHERE id=$2", now, worker_id);
    std::vector<std::pair<std::pair<int64_t, int64_t>, std::string>> flagged;
    for (const auto& row : rows) {
      if (row[1].as<bool>()) {
        flagged.push_back({{row[2].as<int64_t>(), row[3].as<int64_t>()}, row[0].as<std::string>()});
      }
    }
    std::sort(flagged.begin(), flagged.end());
    std::vector<std::string> ids;
    for (auto& f : flagged) ids.push_back(std::move(f.second));
    return ids;
  });
}

void PgJobQueue::publish_progress(const std::string& id, const std::string& progress_json) {
  db_.transact([&](pqxx::work& tx) {
    tx.exec_params("UPDATE jobs SET progress=$1 WHERE id=$2", progress_json, id);
    notify_job(tx, id);
  });
}

bool PgJobQueue::finish(const JobRecord& job, const std::string& worker_id) {
  if (worker_id.empty()) return false;
  return db_.transact([&](pqxx::work& tx) {
    if (update_pg_job(tx, job, worker_id) == 0) return false;
    if (job.status == JobStatus::queued) notify_work(tx, job.method);
    notify_job(tx, job.id);
    return true;
  });
}

std::optional<JobRecord> PgJobQueue::release(const std::string& id, const std::string& worker_id) {
  if (worker_id.empty()) return std::nullopt;
  const int64_t now = clock_();
  return db_.transact([&](pqxx::work& tx) -> std::optional<JobRecord> {
    auto rows = tx.exec_params("SELECT " + kJobColumns +
                                   " FROM jobs WHERE id=$1 AND status='running' AND worker_id=$2"
                                   " FOR UPDATE",
                               id, worker_id);
    if (rows.empty()) return std::nullopt;
    JobRecord job = read_pg_job(rows[0]);
    if (job.cancel_requested) {
      job.status = JobStatus::cancelled;
      job.finished_ms = now;
    } else {
      job.status = JobStatus::queued;
      job.attempts = std::max(0, job.attempts - 1);
    }
    update_pg_job(tx, job, worker_id);
    job.worker_id.clear();
    job.lease_expires_ms = 0;
    if (job.status == JobStatus::queued) notify_work(tx, job.method);
    notify_job(tx, job.id);
    return job;
  });
}

std::vector<JobRecord> PgJobQueue::reap(int max_attempts) {
  const int64_t now = clock_();
  return db_.transact([&](pqxx::work& tx) {
    // SKIP LOCKED: reapers on several nodes share the work, and a job whose holder is writing
    // it right now (finish, heartbeat) is left to the next round.
    auto jobs = read_pg_jobs(tx.exec_params("SELECT " + kJobColumns +
                                                " FROM jobs WHERE status='running' AND "
                                                "lease_expires_ms<$1 ORDER BY created_ms, seq "
                                                "FOR UPDATE SKIP LOCKED",
                                            now));
    for (auto& job : jobs) {
      expire_lease(job, max_attempts, now);
      tx.exec_params(
          "UPDATE jobs SET status=$1, error=$2, finished_ms=$3, worker_id='', "
          "lease_expires_ms=0 WHERE id=$4",
          std::string(to_string(job.status)), job.error, job.finished_ms, job.id);
      if (job.status == JobStatus::queued) notify_work(tx, job.method);
      notify_job(tx, job.id);
    }
    return jobs;
  });
}

JobQueue::CancelOutcome PgJobQueue::request_cancel(const std::string& id, bool delete_after) {
  const int64_t now = clock_();
  return db_.transact([&](pqxx::work& tx) {
    auto rows = tx.exec_params("SELECT status FROM jobs WHERE id=$1 FOR UPDATE", id);
    if (rows.empty()) return CancelOutcome::not_found;
    JobStatus status = parse_job_status(rows[0][0].as<std::string>());
    if (status == JobStatus::queued) {
      tx.exec_params(
          "UPDATE jobs SET status='cancelled', finished_ms=$1, delete_requested=$2 WHERE id=$3",
          now, delete_after, id);
      notify_job(tx, id);
      return CancelOutcome::cancelled;
    }
    if (status == JobStatus::running) {
      tx.exec_params(
          "UPDATE jobs SET cancel_requested=true, delete_requested=(delete_requested OR $1) "
          "WHERE id=$2",
          delete_after, id);
      notify_job(tx, id);
      return CancelOutcome::cancelling;
    }
    return CancelOutcome::finished;
  });
}

QueuePlace PgJobQueue::place(const std::string& id) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    QueuePlace out;
    auto row = tx.exec_params1(
        "SELECT COUNT(*), COALESCE(SUM(q.estimated_seconds) - MAX(t.estimated_seconds), 0), "
        "MAX(t.method) FROM jobs t JOIN jobs q ON q.status='queued' AND q.method=t.method "
        "AND (q.turn, q.created_ms, q.seq) <= (t.turn, t.created_ms, t.seq) "
        "WHERE t.id=$1 AND t.status='queued'",
        id);
    out.position = row[0].as<int>();
    if (out.position == 0) return out;
    out.queued_ahead_s = std::max(0.0, row[1].as<double>());
    out.running_left_s =
        tx.exec_params1(
              "SELECT COALESCE(SUM(GREATEST(estimated_seconds - ($1 - started_ms) / "
              "1000.0, 1)), 0) FROM jobs WHERE status='running' AND method=$2",
              static_cast<long long>(clock_()), row[2].as<std::string>())[0]
            .as<double>();
    return out;
  });
}

double PgJobQueue::soonest_finish_seconds() {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return tx
        .exec_params1(
            "SELECT COALESCE(MIN(GREATEST(estimated_seconds - ($1 - started_ms) / "
            "1000.0, 1)), 0) FROM jobs WHERE status='running'",
            static_cast<long long>(clock_()))[0]
        .as<double>();
  });
}

std::map<std::string, int64_t> PgJobQueue::queued_by_lane() {
  auto rows = db_.autocommit([&](pqxx::transaction_base& tx) {
    return tx.exec("SELECT method, COUNT(*) FROM jobs WHERE status='queued' GROUP BY method");
  });
  std::map<std::string, int64_t> out;
  for (const auto& row : rows) out[row[0].as<std::string>()] = row[1].as<int64_t>();
  return out;
}

bool PgJobQueue::wait_for_work(const std::string& lane, std::chrono::milliseconds timeout) {
  const uint64_t seen = work_.generation(lane);
  bool queued = db_.autocommit([&](pqxx::transaction_base& tx) {
    return !tx.exec_params("SELECT 1 FROM jobs WHERE status='queued' AND method=$1 LIMIT 1", lane)
                .empty();
  });
  return queued || work_.wait(lane, seen, timeout);
}

void PgJobQueue::register_worker(const WorkerInfo& w) {
  const int64_t now = clock_();
  db_.autocommit([&](pqxx::transaction_base& tx) {
    tx.exec_params(
        "INSERT INTO workers (id, host, lanes, started_ms, last_seen_ms) "
        "VALUES ($1,$2,$3,$4,$5) ON CONFLICT (id) DO UPDATE SET host=EXCLUDED.host, "
        "lanes=EXCLUDED.lanes, started_ms=EXCLUDED.started_ms, last_seen_ms=EXCLUDED.last_seen_ms",
        w.id, w.host, join_lanes(w.lanes), w.started_ms, now);
  });
}

std::vector<WorkerInfo> PgJobQueue::list_workers(int64_t max_age_ms) {
  const int64_t since =
      max_age_ms > 0 ? clock_() - max_age_ms : std::numeric_limits<int64_t>::min();
  auto rows = db_.autocommit([&](pqxx::transaction_base& tx) {
    return tx.exec_params(
        "SELECT id, host, lanes, started_ms, last_seen_ms FROM workers WHERE last_seen_ms>=$1 "
        "ORDER BY started_ms, id",
        since);
  });
  std::vector<WorkerInfo> out;
  for (const auto& r : rows) {
    out.push_back({r[0].as<std::string>(), r[1].as<std::string>(),
                   split_lanes(r[2].as<std::string>()), r[3].as<int64_t>(), r[4].as<int64_t>()});
  }
  return out;
}

bool PgJobQueue::remove_worker(const std::string& id) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return tx.exec_params("DELETE FROM workers WHERE id=$1", id).affected_rows() > 0;
  });
}

}  // namespace pastiche
