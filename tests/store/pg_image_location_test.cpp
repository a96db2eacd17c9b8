// Where a cluster keeps its images (PostgreSQL only): in the database, or in a directory that
// every node mounts. Nodes configured otherwise than the cluster are refused before they write
// where the others cannot read.
#include <gtest/gtest.h>

#include "store/file_io.h"
#include "store_backends.h"

namespace pastiche::testing {
namespace {

namespace fs = std::filesystem;

class PgImageLocation : public ::testing::Test {
 protected:
  void SetUp() override {
    PASTICHE_SKIP_WITHOUT_POSTGRES();
    database_ = std::make_unique<PgTestDatabase>();
    db_ = std::make_unique<PgDatabase>(database_->url(), 1);
  }
  // The message of what opening the store with `dir` throws ("" when it opens).
  std::string refusal(const fs::path& dir) {
    try {
      PgImageStore store(*db_, dir);
      return "";
    } catch (const std::runtime_error& e) {
      return e.what();
    }
  }
  std::unique_ptr<PgTestDatabase> database_;
  std::unique_ptr<PgDatabase> db_;
  TempDir dirs_;
};

TEST_F(PgImageLocation, ImagesInASharedDirectoryAreFilesCountedInTheDatabase) {
  const fs::path shared = dirs_.path() / "shared";
  PgImageStore writer(*db_, shared);
  writer.put("jobs/a/result.png", std::string(1000, 'r'));
  writer.put("jobs/a/thumb.jpg", "t");
  // Another node (its own connection) sees the same files and total.
  PgDatabase other_db(database_->url(), 1);
  PgImageStore reader(other_db, shared);
  EXPECT_EQ(reader.get("jobs/a/result.png"), std::string(1000, 'r'));
  EXPECT_EQ(read_whole_file(shared / "jobs/a/result.png"), std::string(1000, 'r'));
  EXPECT_EQ(reader.total_bytes(), 1001);
  {
    pqxx::connection c(database_->url());
    pqxx::nontransaction tx(c);
    EXPECT_TRUE(
        tx.exec1("SELECT bytes IS NULL FROM images WHERE key = 'jobs/a/result.png'")[0].as<bool>());
  }
  reader.remove_prefix("jobs/a/");
  EXPECT_FALSE(fs::exists(shared / "jobs/a"));
  EXPECT_FALSE(writer.exists("jobs/a/thumb.jpg"));
  EXPECT_EQ(writer.total_bytes(), 0);
}

TEST_F(PgImageLocation, ANodeWithoutTheClustersDirectoryIsRefused) {
  const fs::path shared = dirs_.path() / "shared";
  EXPECT_EQ(refusal(shared), "");  // the first node marks it
  EXPECT_EQ(refusal(shared), "");  // the same directory again: accepted
  // A node where the share is not mounted (an empty directory) ...
  std::string what = refusal(dirs_.path() / "not-mounted");
  EXPECT_NE(what.find("is not"), std::string::npos) << what;
  EXPECT_NE(what.find("mounted"), std::string::npos) << what;
  // ... or another cluster's directory ...
  write_file_atomically(dirs_.path() / "other" / ".pastiche-cluster", "0123");
  what = refusal(dirs_.path() / "other");
  EXPECT_NE(what.find("another cluster's"), std::string::npos) << what;
  // ... or no directory at all: its images would go into the database, unseen by the others.
  what = refusal("");
  EXPECT_NE(what.find("give this node --images-dir"), std::string::npos) << what;
}

TEST_F(PgImageLocation, AClusterThatKeepsImagesInTheDatabaseRefusesADirectory) {
  PgImageStore in_db(*db_);
  in_db.put("styles/s/image.png", "painting");
  std::string what = refusal(dirs_.path() / "shared");
  EXPECT_NE(what.find("keeps the images itself"), std::string::npos) << what;
  EXPECT_EQ(refusal(""), "");
  EXPECT_EQ(in_db.get("styles/s/image.png"), "painting");
}

}  // namespace
}  // namespace pastiche::testing
