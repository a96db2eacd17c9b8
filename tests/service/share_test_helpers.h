// What the share-link and gallery route tests share: clients, finished jobs, JSON requests, an
// anonymous visitor, and a job expired behind the server's back (as the disk quota does).
#pragma once
#include <string>

#include "service_fixture.h"
#include "store/pg_job_store.h"
#include "store/pg_share_store.h"
#include "store/sqlite_job_store.h"
#include "store/sqlite_share_store.h"

namespace pastiche::testing {

class ShareTest : public BackendServerTest {
 protected:
  // A finished fast job of the client's: 64x48.
  std::string done_job(Api& a) {
    auto id = a.submit({{"style", "tiny"}, {"size", "64"}}, png_of(test_photo(80, 60)));
    EXPECT_EQ(a.wait_finished(id)["status"], "done");
    return id;
  }
  static Reply post_json(Api& a, const std::string& path, const json& body) {
    return a.http.Post(path.c_str(), client_headers(a.token), body.dump(), "application/json");
  }
  static Reply put_json(Api& a, const std::string& path, const json& body) {
    return a.http.Put(path.c_str(), client_headers(a.token), body.dump(), "application/json");
  }
  std::string share_token(Api& a, const std::string& job) {
    auto r = post_json(a, "/api/jobs/" + job + "/share", json::object());
    EXPECT_EQ(r->status, 200) << r->body;
    return parse_json(r).value("token", "");
  }
  // Someone without a client token or cookie (a friend opening the link).
  Reply visit(const std::string& path, const httplib::Headers& headers = {}) {
    httplib::Client c("127.0.0.1", server->port());
    return c.Get(path.c_str(), headers);
  }
  static std::string meta_tag(const std::string& attribute, const std::string& name,
                              const std::string& content) {
    return "<meta " + attribute + "=\"" + name + "\" content=\"" + content + "\">";
  }
  // The job's images removed by the disk quota: status expired, the row kept.
  void mark_expired(const std::string& id) {
    auto expire = [&](JobStore& store) {
      auto job = store.get(id);
      ASSERT_TRUE(job);
      job->status = JobStatus::expired;
      store.update(*job);
    };
    if (pg) {
      PgDatabase db(pg->url(), 1);
      PgJobStore store(db);
      expire(store);
    } else {
      SqliteJobStore store(files.data_dir + "/jobs.db");
      expire(store);
    }
  }
  // `n` shared jobs of `owner` written straight to the database (faster than running them).
  void add_shares(const std::string& owner, int n) {
    auto add = [&](JobStore& jobs, ShareStore& shares) {
      for (int i = 0; i < n; ++i) {
        JobRecord j = make_job(owner, 1 + i, JobStatus::done);
        jobs.insert(j);
        shares.create_or_get(j.id, owner, secure_random_hex(11), 1 + i);
      }
    };
    if (pg) {
      PgDatabase db(pg->url(), 1);
      PgJobStore jobs(db);
      PgShareStore shares(db);
      add(jobs, shares);
    } else {
      SqliteJobStore jobs(files.data_dir + "/jobs.db");
      SqliteShareStore shares(jobs);
      add(jobs, shares);
    }
  }
  Api api(const std::string& token) { return ServerTest::api(token); }
};

}  // namespace pastiche::testing
