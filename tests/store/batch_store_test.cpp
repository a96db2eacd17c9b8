// Batches in the job store and queue, on both backends: the batch id and content name stored
// with a job (and left alone by update), list_by_batch in submission order, enqueue_all's all or
// nothing under the caps; databases of the previous schema (SQLite 4, PostgreSQL 8) upgraded.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include "store/pg_schema.h"
#include "store/sqlite_schema.h"
#include "store_backends.h"

namespace pastiche::testing {
namespace {

class BatchStoreContract : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped()) return;
    handle = backend().open();
  }
  JobRecord batch_job(const std::string& batch, const std::string& name, int64_t created) {
    JobRecord j = make_job(kAliceOwner, created, JobStatus::queued);
    j.batch_id = batch;
    j.content_name = name;
    return j;
  }
  // Three queued jobs of kAliceOwner's batch `batch`, named a, b, c.
  std::vector<JobRecord> three(const std::string& batch) {
    return {batch_job(batch, "a", 1), batch_job(batch, "b", 1), batch_job(batch, "c", 1)};
  }
  std::vector<std::string> ids(const std::vector<JobRecord>& jobs) {
    std::vector<std::string> out;
    for (const auto& j : jobs) out.push_back(j.id);
    return out;
  }
  int64_t count_all() { return handle->jobs().count_by_owner(""); }
  std::unique_ptr<StoreHandle> handle;
};

TEST_P(BatchStoreContract, BatchAndContentNameAreStoredAndListedInOrder) {
  // Same millisecond: insertion order decides.
  JobRecord a = batch_job("b1", "chicago", 5), b = batch_job("b1", "Café", 5);
  JobRecord c = batch_job("b1", "", 4), other = batch_job("b2", "x", 1);
  JobRecord single = make_job(kAliceOwner, 1, JobStatus::done);
  for (const auto* j : {&c, &a, &b, &other, &single}) handle->jobs().insert(*j);
  EXPECT_EQ(ids(handle->jobs().list_by_batch("b1")), (std::vector<std::string>{c.id, a.id, b.id}));
  EXPECT_EQ(ids(handle->jobs().list_by_batch("b2")), (std::vector<std::string>{other.id}));
  EXPECT_TRUE(handle->jobs().list_by_batch("nope").empty());
  auto got = handle->jobs().get(b.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->batch_id, "b1");
  EXPECT_EQ(got->content_name, "Café");
  EXPECT_EQ(handle->jobs().get(single.id)->batch_id, "");
  // update() leaves them as they were created.
  JobRecord changed = *got;
  changed.batch_id = "b9";
  changed.content_name = "renamed";
  changed.status = JobStatus::done;
  handle->jobs().update(changed);
  got = handle->jobs().get(b.id);
  EXPECT_EQ(got->status, JobStatus::done);
  EXPECT_EQ(got->batch_id, "b1");
  EXPECT_EQ(got->content_name, "Café");
}

TEST_P(BatchStoreContract, EnqueueAllQueuesEveryJobInOrderOrNone) {
  EnqueueOptions caps;
  caps.max_client_jobs = 3;
  const std::vector<JobRecord> batch = three("b1");
  EnqueueResult r = handle->queue().enqueue_all(batch, {1, 2, 3}, caps);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ids(handle->jobs().list_by_batch("b1")), ids(batch));
  for (const auto& j : batch) EXPECT_EQ(handle->jobs().get(j.id)->content_name.size(), 1u);
  EXPECT_EQ(handle->queue().position(batch[2].id), 3);

  // A fourth job would pass the cap alone: a batch of two that the cap cuts inserts neither.
  std::vector<JobRecord> more = {batch_job("b2", "d", 2), batch_job("b2", "e", 2)};
  r = handle->queue().enqueue_all(more, {1, 1}, caps);
  EXPECT_EQ(r.refused, EnqueueResult::Refusal::client_jobs);
  EXPECT_EQ(r.refused_index, 0);
  EXPECT_EQ(r.client_jobs, 3);
  caps.max_client_jobs = 4;
  r = handle->queue().enqueue_all(more, {1, 1}, caps);
  EXPECT_EQ(r.refused, EnqueueResult::Refusal::client_jobs);
  EXPECT_EQ(r.refused_index, 1);  // the first fitted, then was rolled back
  EXPECT_EQ(r.client_jobs, 4);
  EXPECT_TRUE(handle->jobs().list_by_batch("b2").empty());
  EXPECT_EQ(count_all(), 3);

  // The queue bound counts the whole batch too; another client's caps are its own.
  EnqueueOptions bound;
  bound.max_queued = 4;
  std::vector<JobRecord> bobs = {make_job(kBobOwner, 3, JobStatus::queued),
                                 make_job(kBobOwner, 3, JobStatus::queued)};
  r = handle->queue().enqueue_all(bobs, {1, 1}, bound);
  EXPECT_EQ(r.refused, EnqueueResult::Refusal::queue_full);
  EXPECT_EQ(r.refused_index, 1);
  EXPECT_EQ(count_all(), 3);
  bound.max_queued = 5;
  EXPECT_TRUE(handle->queue().enqueue_all(bobs, {1, 1}, bound).ok());
  EXPECT_EQ(count_all(), 5);
}

TEST_P(BatchStoreContract, EnqueueAllCountsTheBatchsWorkAgainstTheWorkCap) {
  EnqueueOptions caps;
  caps.max_client_seconds = 100;
  const std::vector<JobRecord> batch = three("b1");
  EnqueueResult r = handle->queue().enqueue_all(batch, {40, 40, 40}, caps);
  EXPECT_EQ(r.refused, EnqueueResult::Refusal::client_seconds);
  EXPECT_EQ(r.refused_index, 2);
  EXPECT_DOUBLE_EQ(r.client_seconds, 80);  // the two before it, rolled back since
  EXPECT_EQ(count_all(), 0);
  EXPECT_TRUE(handle->queue().enqueue_all(batch, {40, 30, 30}, caps).ok());
  EXPECT_EQ(count_all(), 3);
}

PASTICHE_INSTANTIATE_BACKENDS(BatchStoreContract);

// A job row as the previous schema (SQLite 4, PostgreSQL 8) wrote it.
const char* const kJobBeforeBatches =
    "INSERT INTO jobs (id, owner, method, style, params, status, created_ms, width, height)"
    " VALUES ('j1', 'owner-0000000000', 'fast', 'tiny', '{}', 'done', 1, 64, 48)";

TEST(BatchStoreUpgrade, SqliteFromSchema4) {
  TempDir dir;
  const std::string path = dir.file("jobs.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  migrate_sqlite(db, 4);
  ASSERT_EQ(sqlite3_exec(db, kJobBeforeBatches, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  SqliteJobStore store(path);
  EXPECT_EQ(store.with_db([](sqlite3* d) { return sqlite_schema_version(d); }), 5);
  auto old = store.get("j1");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->batch_id, "");
  EXPECT_EQ(old->content_name, "");
  EXPECT_EQ(old->width, 64);
  JobRecord j = make_job("owner-0000000000", 2, JobStatus::queued);
  j.batch_id = "b1";
  j.content_name = "lake";
  store.insert(j);
  ASSERT_EQ(store.list_by_batch("b1").size(), 1u);
  EXPECT_EQ(store.list_by_batch("b1")[0].content_name, "lake");
}

TEST(BatchStoreUpgrade, PostgresFromSchema8) {
  PASTICHE_SKIP_WITHOUT_POSTGRES();
  PgTestDatabase database;
  {
    pqxx::connection c(database.url());
    migrate_postgres(c, 8);
    pqxx::work tx(c);
    tx.exec(kJobBeforeBatches);
    tx.commit();
  }
  PgDatabase db(database.url());
  PgJobStore store(db);
  EXPECT_EQ(db.run([](pqxx::connection& c) { return postgres_schema_version(c); }), 9);
  auto old = store.get("j1");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->batch_id, "");
  EXPECT_EQ(old->content_name, "");
  JobRecord j = make_job("owner-0000000000", 2, JobStatus::queued);
  j.batch_id = "b1";
  j.content_name = "lake";
  store.insert(j);
  ASSERT_EQ(store.list_by_batch("b1").size(), 1u);
  EXPECT_EQ(store.list_by_batch("b1")[0].content_name, "lake");
}

}  // namespace
}  // namespace pastiche::testing
