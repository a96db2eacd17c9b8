// The ShareStore contract on both backends: one share per job, lookups (one and many), the
// gallery's filters, orders and pages, votes and their totals (also under concurrent votes), and
// removal with the job row whichever code deletes it; migrations from the previous schema.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <thread>

#include "store/pg_schema.h"
#include "store/pg_share_store.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_share_store.h"
#include "store_backends.h"

namespace pastiche::testing {
namespace {

std::unique_ptr<ShareStore> share_store(StoreHandle& h) {
  if (auto* s = dynamic_cast<SqliteBackend::Handle*>(&h)) {
    return std::make_unique<SqliteShareStore>(s->store);
  }
  return std::make_unique<PgShareStore>(dynamic_cast<PgBackend::Handle&>(h).db);
}

class ShareStoreContract : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped()) return;
    handle = backend().open();
    shares = share_store(*handle);
  }
  // A finished job of `owner`, 64x48.
  JobRecord done_job(const std::string& owner, int64_t created = 100) {
    JobRecord j = make_job(owner, created, JobStatus::done);
    j.style_title = "Tiny";
    j.width = 64;
    j.height = 48;
    handle->jobs().insert(j);
    return j;
  }
  std::string token() { return secure_random_hex(11); }
  std::vector<std::string> gallery_tokens(GallerySort sort, int limit = 50, int offset = 0) {
    std::vector<std::string> out;
    for (const auto& w : shares->gallery(sort, limit, offset, "").works)
      out.push_back(w.share.token);
    return out;
  }

  std::unique_ptr<StoreHandle> handle;
  std::unique_ptr<ShareStore> shares;
};

TEST_P(ShareStoreContract, OneSharePerJobLookupsAndRevoke) {
  JobRecord a = done_job(kAliceOwner), b = done_job(kAliceOwner), c = done_job(kBobOwner);
  const std::string first = token();
  ShareRecord s = shares->create_or_get(a.id, kAliceOwner, first, 500);
  EXPECT_EQ(s.token, first);
  EXPECT_EQ(s.job_id, a.id);
  EXPECT_EQ(s.owner, kAliceOwner);
  EXPECT_EQ(s.created_ms, 500);
  EXPECT_FALSE(s.published);
  EXPECT_EQ(shares->create_or_get(a.id, kAliceOwner, token(), 600).token, first);  // the same link
  shares->create_or_get(c.id, kBobOwner, token(), 700);

  EXPECT_EQ(shares->get_by_token(first)->job_id, a.id);
  EXPECT_EQ(shares->get_by_job(a.id)->token, first);
  EXPECT_FALSE(shares->get_by_job(b.id));
  EXPECT_FALSE(shares->get_by_token(token()));
  auto many = shares->get_by_jobs({a.id, b.id, c.id});
  ASSERT_EQ(many.size(), 2u);
  EXPECT_EQ(many.at(a.id).token, first);
  EXPECT_EQ(many.at(c.id).owner, kBobOwner);
  EXPECT_TRUE(shares->get_by_jobs({}).empty());
  EXPECT_EQ(shares->count_by_owner(kAliceOwner), 1);
  EXPECT_EQ(shares->count_by_owner(kBobOwner), 1);

  EXPECT_TRUE(shares->revoke(a.id));
  EXPECT_FALSE(shares->revoke(a.id));
  EXPECT_FALSE(shares->get_by_token(first));
  EXPECT_EQ(shares->count_by_owner(kAliceOwner), 0);
  // Sharing again makes a new link: the old one stays dead.
  EXPECT_NE(shares->create_or_get(a.id, kAliceOwner, token(), 800).token, first);
}

TEST_P(ShareStoreContract, GalleryShowsPublishedVisibleFinishedWorksNewestFirstInPages) {
  std::vector<std::string> tokens;
  std::vector<JobRecord> jobs;
  for (int i = 0; i < 5; ++i) {
    jobs.push_back(done_job(i % 2 ? kBobOwner : kAliceOwner, 100 + i));
    tokens.push_back(shares->create_or_get(jobs[i].id, jobs[i].owner, token(), 1000).token);
    EXPECT_TRUE(shares->publish(jobs[i].id, "caption " + std::to_string(i), 2000 + i));
  }
  EXPECT_FALSE(shares->publish(done_job(kAliceOwner).id, "no share", 3000));
  auto page = shares->gallery(GallerySort::newest, 2, 0, kAliceOwner);
  EXPECT_EQ(page.total, 5);
  ASSERT_EQ(page.works.size(), 2u);
  EXPECT_EQ(page.works[0].share.token, tokens[4]);
  EXPECT_EQ(page.works[0].share.caption, "caption 4");
  EXPECT_EQ(page.works[0].share.published_ms, 2004);
  EXPECT_EQ(page.works[0].style_title, "Tiny");
  EXPECT_EQ(page.works[0].width, 64);
  EXPECT_EQ(page.works[0].height, 48);
  EXPECT_EQ(page.works[0].method, "fast");
  EXPECT_EQ(gallery_tokens(GallerySort::newest, 2, 2),
            (std::vector<std::string>{tokens[2], tokens[1]}));
  EXPECT_EQ(gallery_tokens(GallerySort::newest, 2, 4), (std::vector<std::string>{tokens[0]}));

  // A new caption keeps the work's place; unpublished, hidden and expired works are not shown.
  EXPECT_TRUE(shares->publish(jobs[0].id, "", 9000));
  EXPECT_EQ(shares->get_by_job(jobs[0].id)->published_ms, 2000);
  EXPECT_EQ(shares->get_by_job(jobs[0].id)->caption, "");
  EXPECT_TRUE(shares->unpublish(jobs[1].id));
  EXPECT_FALSE(shares->get_by_job(jobs[1].id)->published);
  EXPECT_TRUE(shares->set_hidden(tokens[2], true));
  EXPECT_FALSE(shares->set_hidden(token(), true));
  jobs[3].status = JobStatus::expired;
  handle->jobs().update(jobs[3]);
  EXPECT_EQ(gallery_tokens(GallerySort::newest), (std::vector<std::string>{tokens[4], tokens[0]}));
  EXPECT_EQ(shares->gallery(GallerySort::top, 10, 0, "").total, 2);
  EXPECT_TRUE(shares->set_hidden(tokens[2], false));
  EXPECT_TRUE(shares->publish(jobs[1].id, "back", 9500));  // republished: newest again
  EXPECT_EQ(gallery_tokens(GallerySort::newest),
            (std::vector<std::string>{tokens[1], tokens[4], tokens[2], tokens[0]}));
}

TEST_P(ShareStoreContract, VotesOnePerClientChangeableAndTopOrderIsTheDampedAverage) {
  std::vector<std::string> t;
  for (int i = 0; i < 4; ++i) {
    JobRecord j = done_job(kAliceOwner, 100 + i);
    t.push_back(shares->create_or_get(j.id, kAliceOwner, token(), 1000).token);
    shares->publish(j.id, "", 2000 + i);
  }
  // t0: one 5 -> (5+9)/4 = 3.5; t1: four 4s -> 25/7 = 3.57; t2: none -> 3; t3: one 1 -> 2.5.
  EXPECT_TRUE(shares->rate(t[0], "voter-a", 1, 1));
  EXPECT_TRUE(shares->rate(t[0], "voter-a", 5, 2));  // changed, not added
  for (const char* v : {"voter-a", "voter-b", "voter-c", "voter-d"}) shares->rate(t[1], v, 4, 3);
  EXPECT_TRUE(shares->rate(t[3], "voter-a", 1, 4));
  EXPECT_FALSE(shares->rate(token(), "voter-a", 3, 5));
  auto s0 = shares->get_by_token(t[0]);
  EXPECT_EQ(s0->rating_count, 1);
  EXPECT_EQ(s0->rating_sum, 5);
  EXPECT_EQ(shares->get_by_token(t[1])->rating_sum, 16);
  EXPECT_EQ(gallery_tokens(GallerySort::top), (std::vector<std::string>{t[1], t[0], t[2], t[3]}));
  EXPECT_EQ(gallery_tokens(GallerySort::newest),
            (std::vector<std::string>{t[3], t[2], t[1], t[0]}));
  EXPECT_EQ(shares->my_rating(t[0], "voter-a"), 5);
  EXPECT_EQ(shares->my_rating(t[0], "voter-b"), 0);
  auto mine = shares->gallery(GallerySort::top, 10, 0, "voter-a").works;
  EXPECT_EQ(mine[0].my_rating, 4);
  EXPECT_EQ(mine[2].my_rating, 0);

  // Withdrawn: t3 has no votes now, so it ties with t2 and the newer comes first.
  EXPECT_TRUE(shares->unrate(t[3], "voter-a"));
  EXPECT_FALSE(shares->unrate(t[3], "voter-a"));
  EXPECT_EQ(shares->get_by_token(t[3])->rating_count, 0);
  EXPECT_EQ(gallery_tokens(GallerySort::top), (std::vector<std::string>{t[1], t[0], t[3], t[2]}));
}

TEST_P(ShareStoreContract, ConcurrentVotesAreAllCounted) {
  JobRecord j = done_job(kAliceOwner);
  const std::string t = shares->create_or_get(j.id, kAliceOwner, token(), 1).token;
  std::vector<std::thread> voters;
  for (int i = 0; i < 8; ++i) {
    voters.emplace_back([&, i] {
      auto own = backend().open();  // its own connection, as another process
      auto store = share_store(*own);
      for (int k = 0; k < 5; ++k) store->rate(t, "voter-" + std::to_string(i * 10 + k), 2, 1);
    });
  }
  for (auto& v : voters) v.join();
  auto s = shares->get_by_token(t);
  EXPECT_EQ(s->rating_count, 40);
  EXPECT_EQ(s->rating_sum, 80);
}

TEST_P(ShareStoreContract, DeletingTheJobRowRemovesItsShareAndVotes) {
  JobRecord a = done_job(kAliceOwner), b = done_job(kAliceOwner);
  const std::string ta = shares->create_or_get(a.id, kAliceOwner, token(), 1).token;
  const std::string tb = shares->create_or_get(b.id, kAliceOwner, token(), 1).token;
  shares->publish(a.id, "x", 2);
  shares->rate(ta, "voter-a", 4, 3);
  ASSERT_TRUE(handle->jobs().remove(a.id));  // not through the share store
  EXPECT_FALSE(shares->get_by_token(ta));
  EXPECT_EQ(shares->my_rating(ta, "voter-a"), 0);
  EXPECT_EQ(shares->gallery(GallerySort::newest, 10, 0, "").total, 0);
  shares->remove_job(b.id);
  EXPECT_FALSE(shares->get_by_token(tb));
  EXPECT_EQ(shares->count_by_owner(kAliceOwner), 0);
}

PASTICHE_INSTANTIATE_BACKENDS(ShareStoreContract);

// Databases of the previous schema (SQLite 3, PostgreSQL 7) gain the tables on open; their jobs
// can be shared, and deleting one removes its share.
const char* const kJobBeforeShares =
    "INSERT INTO jobs (id, owner, method, style, params, status, created_ms, width, height)"
    " VALUES ('j1', 'owner-0000000000', 'fast', 'tiny', '{}', 'done', 1, 64, 48)";

TEST(ShareStoreUpgrade, SqliteFromSchema3) {
  TempDir dir;
  const std::string path = dir.file("jobs.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  migrate_sqlite(db, 3);
  ASSERT_EQ(sqlite3_exec(db, kJobBeforeShares, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  SqliteJobStore store(path);
  SqliteShareStore shares(store);
  EXPECT_EQ(store.with_db([](sqlite3* d) { return sqlite_schema_version(d); }),
            kSqliteSchemaVersion);
  shares.create_or_get("j1", "owner-0000000000", "tok", 5);
  shares.publish("j1", "old work", 6);
  EXPECT_EQ(shares.gallery(GallerySort::newest, 10, 0, "").works.at(0).width, 64);
  store.remove("j1");
  EXPECT_FALSE(shares.get_by_token("tok"));
}

TEST(ShareStoreUpgrade, PostgresFromSchema7) {
  PASTICHE_SKIP_WITHOUT_POSTGRES();
  PgTestDatabase database;
  {
    pqxx::connection c(database.url());
    migrate_postgres(c, 7);
    pqxx::work tx(c);
    tx.exec(kJobBeforeShares);
    tx.commit();
  }
  PgDatabase db(database.url());
  PgJobStore store(db);
  PgShareStore shares(db);
  shares.create_or_get("j1", "owner-0000000000", "tok", 5);
  shares.publish("j1", "old work", 6);
  EXPECT_EQ(shares.gallery(GallerySort::newest, 10, 0, "").works.at(0).width, 64);
  store.remove("j1");
  EXPECT_FALSE(shares.get_by_token("tok"));
  EXPECT_EQ(db.run([](pqxx::connection& c) { return postgres_schema_version(c); }),
            kPgSchemaVersion);
}

}  // namespace
}  // namespace pastiche::testing
