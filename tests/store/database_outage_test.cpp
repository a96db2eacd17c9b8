// A database that goes away: the stores throw DatabaseUnavailable (the service's 503), never a
// plain error, and the PostgreSQL pool replaces its stale connections once the database is back.
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "common/error.h"
#include "store/database_outage.h"
#include "store/store_backends.h"

namespace pastiche::testing {
namespace {

TEST(PgOutage, ConnectTimeoutIsAddedUnlessTheUrlHasOne) {
  EXPECT_EQ(with_connect_timeout("postgresql:///db?host=/tmp&port=5432"),
            "postgresql:///db?host=/tmp&port=5432&connect_timeout=5");
  EXPECT_EQ(with_connect_timeout("postgres://u@h/db"), "postgres://u@h/db?connect_timeout=5");
  EXPECT_EQ(with_connect_timeout("host=h dbname=db"), "host=h dbname=db connect_timeout=5");
  EXPECT_EQ(with_connect_timeout("postgresql://h/db?connect_timeout=1"),
            "postgresql://h/db?connect_timeout=1");
}

// A server that accepts the TCP connection but never answers (a hung or black-holed database):
// the connection attempt ends after the timeout with DatabaseUnavailable instead of hanging.
TEST(PgOutage, ADatabaseThatNeverAnswersTimesOut) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);  // the kernel completes the handshake; nobody reads
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string url = "postgresql://nobody@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) +
                          "/none?connect_timeout=1&sslmode=disable";
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(connect_postgres(url), DatabaseUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  ::close(listener);
}

TEST(PgOutage, StaleConnectionsAreReplacedBeforeUse) {
  PASTICHE_SKIP_WITHOUT_POSTGRES();
  PgTestDatabase database;
  PgDatabase db(database.url(), 3);
  PgJobStore store(db);
  auto job = make_job("client", 1, JobStatus::queued);
  store.insert(job);
  // Three connections in the pool, all idle.
  db.run([&](pqxx::connection&) {
    db.run([&](pqxx::connection&) { db.run([&](pqxx::connection&) { return 0; }); });
    return 0;
  });
  DatabaseOutage outage(database.url());
  EXPECT_EQ(outage.terminate_connections(), 3);  // as a restart of the server does

  // Before: the first call took a stale connection, its one retry another: an error.
  for (int i = 0; i < 4; ++i) {
    auto row = store.get(job.id);
    ASSERT_TRUE(row) << "call " << i;
    EXPECT_EQ(row->id, job.id);
  }
  EXPECT_EQ(store.health_check(), "");
}

TEST(PgOutage, RefusedConnectionsThrowDatabaseUnavailableUntilBack) {
  PASTICHE_SKIP_WITHOUT_POSTGRES();
  PgBackend backend;
  auto h = backend.open();
  auto job = make_job("client", 1, JobStatus::queued);
  ASSERT_TRUE(h->queue().enqueue(job, 0));
  h->images().put("jobs/" + job.id + "/content.png", "bytes");

  DatabaseOutage outage(backend.url());
  outage.begin();
  EXPECT_THROW(h->jobs().get(job.id), DatabaseUnavailable);
  EXPECT_THROW(h->jobs().list_by_owner("client", 10, 0), DatabaseUnavailable);
  EXPECT_THROW(h->jobs().insert(make_job("client", 2, JobStatus::queued)), DatabaseUnavailable);
  EXPECT_THROW(h->queue().claim("fast", "w1", 10'000), DatabaseUnavailable);
  EXPECT_THROW(h->queue().heartbeat("w1", 10'000), DatabaseUnavailable);
  EXPECT_THROW(h->images().get("jobs/" + job.id + "/content.png"), DatabaseUnavailable);
  EXPECT_NE(h->jobs().health_check(), "");

  outage.end();
  // The first call after the outage succeeds, and nothing was lost or claimed meanwhile.
  auto row = h->jobs().get(job.id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, JobStatus::queued);
  EXPECT_EQ(h->jobs().count_by_owner("client"), 1);
  auto claimed = h->queue().claim("fast", "w1", 10'000);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, job.id);
  EXPECT_EQ(claimed->attempts, 1);
  EXPECT_EQ(h->images().get("jobs/" + job.id + "/content.png").value_or(""), "bytes");
  EXPECT_EQ(h->jobs().health_check(), "");
}

TEST(SqliteOutage, LockedDatabaseIsUnavailable) {
  SqliteBackend backend;
  auto h = backend.open();
  auto job = make_job("client", 1, JobStatus::queued);
  h->jobs().insert(job);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(backend.dir().file("jobs.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  // Held past the store's busy timeout (5 s).
  EXPECT_THROW(h->jobs().insert(make_job("client", 2, JobStatus::queued)), DatabaseUnavailable);
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  h->jobs().insert(make_job("client", 3, JobStatus::queued));
  EXPECT_EQ(h->jobs().count_by_owner("client"), 2);
}

}  // namespace
}  // namespace pastiche::testing
