// The job queue's own cost per job, with many jobs waiting: one worker's claim + one progress
// report + finish, timed round trip by round trip, on SQLite (a file) or PostgreSQL (a URL).
// Prints one JSON line: p50/p99/mean milliseconds of the round trip and of each call.
// --clients N spreads the jobs over N client tokens, round robin (the fair queue's turns).
//   queue_bench --database postgresql://...  [--queued 10000] [--jobs 2000] [--clients 1]
//   queue_bench --database sqlite:/tmp/q.db
// Use a database of its own: it empties the jobs table before and after.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "common/secure_random.h"
#include "store/pg_connection.h"
#include "store/pg_job_queue.h"
#include "store/pg_job_store.h"
#include "store/sqlite_job_queue.h"
#include "store/sqlite_job_store.h"

namespace {

using namespace pastiche;
using Ms = std::chrono::duration<double, std::milli>;

struct Args {
  std::string database;
  int queued = 10000;
  int jobs = 2000;
  int clients = 1;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--database")
      a.database = value;
    else if (flag == "--queued")
      a.queued = std::stoi(value);
    else if (flag == "--jobs")
      a.jobs = std::stoi(value);
    else if (flag == "--clients")
      a.clients = std::max(1, std::stoi(value));
    else
      throw std::invalid_argument("unknown flag " + flag);
  }
  if (a.database.empty()) throw std::invalid_argument("give --database URL or sqlite:PATH");
  return a;
}

nlohmann::json stats(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, size_t(q * (ms.size() - 1)))]; };
  const double mean = std::accumulate(ms.begin(), ms.end(), 0.0) / ms.size();
  return {{"p50_ms", at(0.50)}, {"p99_ms", at(0.99)}, {"mean_ms", mean}, {"max_ms", ms.back()}};
}

JobRecord job(int64_t created, int client) {
  JobRecord j;
  j.id = secure_random_hex(16);
  j.owner = "bench-client-token-" + std::to_string(100000 + client);
  j.method = "fast";
  j.style = "starry_night";
  j.params = R"({"size":512,"blend":1,"original_colors":false,"style_mix":{}})";
  j.created_ms = created;
  return j;
}

int run(const Args& a) {
  std::unique_ptr<PgDatabase> pg;
  std::unique_ptr<JobStore> store;
  std::unique_ptr<JobQueue> queue;
  if (a.database.rfind("sqlite:", 0) == 0) {
    const std::string path = a.database.substr(7);
    std::filesystem::remove(path);
    auto sqlite = std::make_unique<SqliteJobStore>(path);
    queue = std::make_unique<SqliteJobQueue>(*sqlite);
    store = std::move(sqlite);
  } else {
    pg = std::make_unique<PgDatabase>(a.database, 2);
    pg->autocommit([](pqxx::transaction_base& tx) { tx.exec("TRUNCATE jobs"); });
    store = std::make_unique<PgJobStore>(*pg);
    queue = std::make_unique<PgJobQueue>(*pg);
  }
  const int total = a.queued + a.jobs;
  const auto fill_start = std::chrono::steady_clock::now();
  for (int i = 0; i < total; ++i) {
    if (!queue->enqueue(job(1'000'000 + i, i % a.clients), 0)) {
      throw std::runtime_error("enqueue refused");
    }
  }
  const double fill_ms = Ms(std::chrono::steady_clock::now() - fill_start).count();

  std::vector<double> round, claim, progress, finish;
  const std::string worker = "bench-worker";
  for (int i = 0; i < a.jobs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto claimed = queue->claim("fast", worker, 30000);
    const auto t1 = std::chrono::steady_clock::now();
    if (!claimed) throw std::runtime_error("nothing to claim");
    queue->publish_progress(claimed->id, R"({"iteration":1,"total":1})");
    const auto t2 = std::chrono::steady_clock::now();
    claimed->status = JobStatus::done;
    claimed->finished_ms = claimed->started_ms + 1;
    if (!queue->finish(*claimed, worker)) throw std::runtime_error("lease lost");
    const auto t3 = std::chrono::steady_clock::now();
    claim.push_back(Ms(t1 - t0).count());
    progress.push_back(Ms(t2 - t1).count());
    finish.push_back(Ms(t3 - t2).count());
    round.push_back(Ms(t3 - t0).count());
  }
  const bool postgres = pg != nullptr;
  // Leave no job behind: the database may be one a server uses next.
  if (postgres) pg->autocommit([](pqxx::transaction_base& tx) { tx.exec("TRUNCATE jobs"); });
  std::cout << nlohmann::json{{"backend", postgres ? "postgresql" : "sqlite"},
                              {"queued_behind", a.queued},
                              {"clients", a.clients},
                              {"jobs", a.jobs},
                              {"enqueue_mean_ms", fill_ms / total},
                              {"round_trip", stats(round)},
                              {"claim", stats(claim)},
                              {"progress", stats(progress)},
                              {"finish", stats(finish)}}
                   .dump()
            << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "queue_bench: " << e.what() << "\n";
    return 1;
  }
}
