#include "store/sqlite_job_queue.h"

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "store/sqlite_db.h"

namespace pastiche {

namespace {

std::optional<JobRecord> get_job(sqlite3* db, const std::string& id) {
  SqliteStatement st(db, std::string("SELECT ") + kSqliteJobColumns + " FROM jobs WHERE id=?");
  st.bind(id);
  auto rows = read_sqlite_jobs(st);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

// One job's caps and insert, inside the caller's transaction (which sees the jobs it queued).
EnqueueResult sqlite_enqueue_one(sqlite3* db, const JobRecord& job, double estimated_seconds,
                                 const EnqueueOptions& options) {
  const JobRecord queued = as_queued(job);
  EnqueueResult r;
  if (options.max_client_jobs > 0 || options.max_client_seconds > 0) {
    SqliteStatement mine(db,
                         "SELECT method, COUNT(*), TOTAL(estimated_seconds) FROM jobs "
                         "WHERE owner=? AND status IN ('queued','running') GROUP BY method");
    mine.bind(job.owner);
    int64_t all_jobs = 0;
    while (mine.step()) {
      all_jobs += mine.integer(1);
      r.client_seconds += mine.real(2);
      if (mine.text(0) == job.method) {
        r.client_jobs = mine.integer(1);
        r.client_lane_seconds = mine.real(2);
      }
    }
    EnqueueOptions mine_options = options;
    mine_options.estimated_seconds = estimated_seconds;
    r.refused = client_cap_refusal(mine_options, r, all_jobs);
    if (!r.ok()) return r;
  }
  if (options.max_queued > 0) {
    SqliteStatement count(db, "SELECT COUNT(*) FROM jobs WHERE status='queued'");
    if (count.step() && count.integer(0) >= options.max_queued) {
      r.refused = EnqueueResult::Refusal::queue_full;
      return r;
    }
  }
  int64_t turn = 0;
  {
    SqliteStatement next(
        db,
        "SELECT MAX(COALESCE((SELECT MAX(turn) FROM jobs WHERE status='running' AND method=?1),"
        " (SELECT MIN(turn) FROM jobs WHERE status='queued' AND method=?1), 0),"
        " COALESCE((SELECT MAX(turn) + 1 FROM jobs WHERE owner=?2 AND method=?1"
        " AND status IN ('queued','running')), 0))");
    next.bind(job.method).bind(job.owner);
    if (next.step()) turn = next.integer(0);
  }
  insert_sqlite_job(db, queued);
  SqliteStatement set(db, "UPDATE jobs SET turn=?, estimated_seconds=? WHERE id=?");
  set.bind(turn).bind(estimated_seconds).bind(job.id);
  set.step();
  return r;
}

}  // namespace

SqliteJobQueue::SqliteJobQueue(SqliteJobStore& store, Clock clock)
    : store_(store), clock_(std::move(clock)) {}

EnqueueResult SqliteJobQueue::enqueue(const JobRecord& job, const EnqueueOptions& options) {
  return enqueue_all({job}, {options.estimated_seconds}, options);
}

EnqueueResult SqliteJobQueue::enqueue_all(const std::vector<JobRecord>& jobs,
                                          const std::vector<double>& estimated_seconds,
                                          const EnqueueOptions& options) {
  if (jobs.empty()) return {};
  EnqueueResult result = store_.with_db([&](sqlite3* db) {
    SqliteTransaction tx(db);  // IMMEDIATE: every check below holds until the commit
    EnqueueResult r;
    for (size_t i = 0; i < jobs.size(); ++i) {
      const JobRecord& job = jobs[i];
      r = sqlite_enqueue_one(db, job, estimated_seconds.at(i), options);
      if (!r.ok()) {
        r.refused_index = static_cast<int>(i);
        return r;  // rolled back: none of them is queued
      }
    }
    tx.commit();
    return r;
  });
  if (result.ok()) {
    for (const auto& job : jobs) {
      work_.notify(job.method);
      updates_.publish(job.id);
    }
  }
  return result;
}

std::optional<JobRecord> SqliteJobQueue::claim(const std::string& lane,
                                               const std::string& worker_id, int64_t lease_ms) {
  const int64_t now = clock_();
  auto job = store_.with_db([&](sqlite3* db) -> std::optional<JobRecord> {
    SqliteTransaction tx(db);
    std::string id;
    {
      SqliteStatement next(db,
                           "SELECT id FROM jobs WHERE status='queued' AND method=? "
                           "ORDER BY turn, created_ms, rowid LIMIT 1");
      next.bind(lane);
      if (!next.step()) return std::nullopt;
      id = next.text(0);
    }
    SqliteStatement take(db,
                         "UPDATE jobs SET status='running', attempts=attempts+1, started_ms=?, "
                         "worker_id=?, lease_expires_ms=?, cancel_requested=0, "
                         "delete_requested=0 WHERE id=?");
    take.bind(now).bind(worker_id).bind(now + lease_ms).bind(id);
    take.step();
    auto claimed = get_job(db, id);
    tx.commit();
    return claimed;
  });
  if (job) updates_.publish(job->id);
  return job;
}

std::vector<std::string> SqliteJobQueue::heartbeat(const std::string& worker_id, int64_t lease_ms) {
  const int64_t now = clock_();
  return store_.with_db([&](sqlite3* db) {
    SqliteTransaction tx(db);
    {
      SqliteStatement extend(
          db, "UPDATE jobs SET lease_expires_ms=? WHERE worker_id=? AND status='running'");
      extend.bind(now + lease_ms).bind(worker_id);
      extend.step();
    }
    {
      SqliteStatement seen(db, "UPDATE workers SET last_seen_ms=? WHERE id=?");
      seen.bind(now).bind(worker_id);
      seen.step();
    }
    std::vector<std::string> cancelled;
    SqliteStatement flagged(db,
                            "SELECT id FROM jobs WHERE worker_id=? AND status='running' AND "
                            "cancel_requested=1 ORDER BY created_ms, rowid");
    flagged.bind(worker_id);
    while (flagged.step()) cancelled.push_back(flagged.text(0));
    tx.commit();
    return cancelled;
  });
}

void SqliteJobQueue::publish_progress(const std::string& id, const std::string& progress_json) {
  store_.update_progress(id, progress_json);
  updates_.publish(id);
}

bool SqliteJobQueue::finish(const JobRecord& job, const std::string& worker_id) {
  if (worker_id.empty()) return false;
  bool written = store_.with_db([&](sqlite3* db) { return update_sqlite_job(db, job, worker_id); });
  if (written) {
    if (job.status == JobStatus::queued) work_.notify(job.method);
    updates_.publish(job.id);
  }
  return written;
}

std::optional<JobRecord> SqliteJobQueue::release(const std::string& id,
                                                 const std::string& worker_id) {
  const int64_t now = clock_();
  auto job = store_.with_db([&](sqlite3* db) -> std::optional<JobRecord> {
    SqliteTransaction tx(db);
    auto held = get_job(db, id);
    if (!held || held->status != JobStatus::running || held->worker_id != worker_id ||
        worker_id.empty()) {
      return std::nullopt;
    }
    if (held->cancel_requested) {
      held->status = JobStatus::cancelled;
      held->finished_ms = now;
    } else {
      held->status = JobStatus::queued;
      held->attempts = std::max(0, held->attempts - 1);
    }
    update_sqlite_job(db, *held, worker_id);
    held->worker_id.clear();
    held->lease_expires_ms = 0;
    tx.commit();
    return held;
  });
  if (job) {
    if (job->status == JobStatus::queued) work_.notify(job->method);
    updates_.publish(job->id);
  }
  return job;
}

std::vector<JobRecord> SqliteJobQueue::reap(int max_attempts) {
  const int64_t now = clock_();
  auto reaped = store_.with_db([&](sqlite3* db) {
    SqliteTransaction tx(db);
    std::vector<JobRecord> jobs;
    {
      SqliteStatement expired(db, std::string("SELECT ") + kSqliteJobColumns +
                                      " FROM jobs WHERE status='running' AND lease_expires_ms<?"
                                      " ORDER BY created_ms, rowid");
      expired.bind(now);
      jobs = read_sqlite_jobs(expired);
    }
    for (auto& job : jobs) {
      expire_lease(job, max_attempts, now);
      SqliteStatement st(db,
                         "UPDATE jobs SET status=?, error=?, finished_ms=?, worker_id='', "
                         "lease_expires_ms=0 WHERE id=?");
      st.bind(to_string(job.status)).bind(job.error).bind(job.finished_ms).bind(job.id);
      st.step();
    }
    tx.commit();
    return jobs;
  });
  for (const auto& job : reaped) {
    if (job.status == JobStatus::queued) work_.notify(job.method);
    updates_.publish(job.id);
  }
  return reaped;
}

JobQueue::CancelOutcome SqliteJobQueue::request_cancel(const std::string& id, bool delete_after) {
  const int64_t now = clock_();
  auto outcome = store_.with_db([&](sqlite3* db) {
    SqliteTransaction tx(db);
    auto job = get_job(db, id);
    if (!job) return CancelOutcome::not_found;
    CancelOutcome result = CancelOutcome::finished;
    if (job->status == JobStatus::queued) {
      SqliteStatement st(db,
                         "UPDATE jobs SET status='cancelled', finished_ms=?, delete_requested=? "
                         "WHERE id=?");
      st.bind(now).bind(delete_after).bind(id);
      st.step();
      result = CancelOutcome::cancelled;
    } else if (job->status == JobStatus::running) {
      SqliteStatement st(db,
                         "UPDATE jobs SET cancel_requested=1, "
                         "delete_requested=MAX(delete_requested, ?) WHERE id=?");
      st.bind(delete_after).bind(id);
      st.step();
      result = CancelOutcome::cancelling;
    }
    tx.commit();
    return result;
  });
  if (outcome == CancelOutcome::cancelled || outcome == CancelOutcome::cancelling) {
    updates_.publish(id);
  }
  return outcome;
}

QueuePlace SqliteJobQueue::place(const std::string& id) {
  return store_.with_db([&](sqlite3* db) {
    QueuePlace out;
    SqliteStatement st(db,
                       "SELECT COUNT(*), TOTAL(q.estimated_seconds) - MAX(t.estimated_seconds), "
                       "MAX(t.method) FROM jobs t JOIN jobs q ON q.status='queued' AND "
                       "q.method=t.method AND (q.turn<t.turn OR (q.turn=t.turn AND "
                       "(q.created_ms<t.created_ms OR (q.created_ms=t.created_ms AND "
                       "q.rowid<=t.rowid)))) WHERE t.id=? AND t.status='queued'");
    st.bind(id);
    if (!st.step() || st.integer(0) == 0) return out;
    out.position = static_cast<int>(st.integer(0));
    out.queued_ahead_s = std::max(0.0, st.real(1));
    SqliteStatement running(db,
                            "SELECT TOTAL(MAX(estimated_seconds - (? - started_ms) / 1000.0, 1)) "
                            "FROM jobs WHERE status='running' AND method=?");
    const std::string lane = st.text(2);
    running.bind(clock_()).bind(lane);
    if (running.step()) out.running_left_s = running.real(0);
    return out;
  });
}

double SqliteJobQueue::soonest_finish_seconds() {
  return store_.with_db([&](sqlite3* db) {
    SqliteStatement st(
        db,
        "SELECT COALESCE(MIN(MAX(estimated_seconds - (? - started_ms) / 1000.0, 1)), 0) "
        "FROM jobs WHERE status='running'");
    st.bind(clock_());
    return st.step() ? st.real(0) : 0.0;
  });
}

std::map<std::string, int64_t> SqliteJobQueue::queued_by_lane() {
  return store_.with_db([&](sqlite3* db) {
    SqliteStatement st(db,
                       "SELECT method, COUNT(*) FROM jobs WHERE status='queued' GROUP BY method");
    std::map<std::string, int64_t> out;
    while (st.step()) out[st.text(0)] = st.integer(1);
    return out;
  });
}

bool SqliteJobQueue::wait_for_work(const std::string& lane, std::chrono::milliseconds timeout) {
  const uint64_t seen = work_.generation(lane);
  bool queued = store_.with_db([&](sqlite3* db) {
    SqliteStatement st(db, "SELECT 1 FROM jobs WHERE status='queued' AND method=? LIMIT 1");
    st.bind(lane);
    return st.step();
  });
  return queued || work_.wait(lane, seen, timeout);
}

void SqliteJobQueue::register_worker(const WorkerInfo& w) {
  const int64_t now = clock_();
  store_.with_db([&](sqlite3* db) {
    SqliteStatement st(db,
                       "INSERT OR REPLACE INTO workers (id, host, lanes, started_ms, "
                       "last_seen_ms) VALUES (?,?,?,?,?)");
    st.bind(w.id).bind(w.host).bind(join_lanes(w.lanes)).bind(w.started_ms).bind(now);
    st.step();
  });
}

std::vector<WorkerInfo> SqliteJobQueue::list_workers(int64_t max_age_ms) {
  const int64_t since =
      max_age_ms > 0 ? clock_() - max_age_ms : std::numeric_limits<int64_t>::min();
  return store_.with_db([&](sqlite3* db) {
    SqliteStatement st(db,
                       "SELECT id, host, lanes, started_ms, last_seen_ms FROM workers "
                       "WHERE last_seen_ms>=? ORDER BY started_ms, id");
    st.bind(since);
    std::vector<WorkerInfo> out;
    while (st.step()) {
      out.push_back(
          {st.text(0), st.text(1), split_lanes(st.text(2)), st.integer(3), st.integer(4)});
    }
    return out;
  });
}

bool SqliteJobQueue::remove_worker(const std::string& id) {
  return store_.with_db([&](sqlite3* db) {
    SqliteStatement st(db, "DELETE FROM workers WHERE id=?");
    st.bind(id);
    st.step();
    return st.changes() > 0;
  });
}

}  // namespace pastiche
