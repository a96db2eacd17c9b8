#include "store/sqlite_share_store.h"

#include <sqlite3.h>

#include "store/share_columns.h"
#include "store/sqlite_db.h"
#include "store/sqlite_job_store.h"

namespace pastiche {

namespace {

ShareRecord sqlite_read_share(const SqliteStatement& st) {
  ShareRecord s;
  s.token = st.text(0);
  s.job_id = st.text(1);
  s.owner = st.text(2);
  s.created_ms = st.integer(3);
  s.published = st.integer(4) != 0;
  s.caption = st.text(5);
  s.published_ms = st.integer(6);
  s.hidden = st.integer(7) != 0;
  s.rating_count = st.integer(8);
  s.rating_sum = st.integer(9);
  return s;
}

std::optional<ShareRecord> sqlite_select_share(sqlite3* db, const char* where,
                                               const std::string& key) {
  SqliteStatement st(db, std::string("SELECT ") + kShareColumns + " FROM shares s WHERE " + where);
  st.bind(key);
  if (!st.step()) return std::nullopt;
  return sqlite_read_share(st);
}

// The share's vote totals from its ratings (in the caller's transaction).
void sqlite_recount_ratings(sqlite3* db, const std::string& token) {
  SqliteStatement st(db,
                     "UPDATE shares SET rating_count=(SELECT COUNT(*) FROM ratings WHERE token=?1),"
                     " rating_sum=(SELECT COALESCE(SUM(stars), 0) FROM ratings WHERE token=?1)"
                     " WHERE token=?1");
  st.bind(token);
  st.step();
}

}  // namespace

ShareRecord SqliteShareStore::create_or_get(const std::string& job_id, const std::string& owner,
                                            const std::string& token, int64_t now_ms) {
  return store_.with_db([&](sqlite3* db) {
    SqliteTransaction tx(db);
    SqliteStatement insert(db,
                           "INSERT INTO shares (token, job_id, owner, created_ms) VALUES (?,?,?,?) "
                           "ON CONFLICT(job_id) DO NOTHING");
    insert.bind(token).bind(job_id).bind(owner).bind(now_ms);
    insert.step();
    auto share = sqlite_select_share(db, "s.job_id=?", job_id);
    tx.commit();
    return *share;
  });
}

bool SqliteShareStore::revoke(const std::string& job_id) {
  return store_.with_db([&](sqlite3* db) {
    SqliteStatement st(db, "DELETE FROM shares WHERE job_id=?");  // ratings: by trigger
    st.bind(job_id);
    st.step();
    return st.changes() > 0;
  });
}

std::optional<ShareRecord> SqliteShareStore::get_by_token(const std::string& token) {
  return store_.with_db([&](sqlite3* db) { return sqlite_select_share(db, "s.token=?", token); });
}

std::optional<ShareRecord> SqliteShareStore::get_by_job(const std::string& job_id) {
  return store_.with_db([&](sqlite3* db) { return sqlite_select_share(db, "s.job_id=?", job_id); });
}

std::map<std::string, ShareRecord> SqliteShareStore::get_by_jobs(
    const std::vector<std::string>& ids) {
  std::map<std::string, ShareRecord> out;
  if (ids.empty()) return out;
  return store_.with_db([&](sqlite3* db) {
    // A history page is at most 100 jobs: well under SQLite's bound-parameter limit.
    std::string sql = std::string("SELECT ") + kShareColumns + " FROM shares s WHERE s.job_id IN (";
    for (size_t i = 0; i < ids.size(); ++i) sql += i ? ",?" : "?";
    SqliteStatement st(db, sql + ")");
    for (const auto& id : ids) st.bind(id);
    while (st.step()) {
      ShareRecord s = sqlite_read_share(st);
      out.emplace(s.job_id, std::move(s));
    }
    return out;
  });
}

int64_t SqliteShareStore::count_by_owner(const std::string& owner) {
  return store_.with_db([&](sqlite3* db) {
    SqliteStatement st(db, "SELECT COUNT(*) FROM shares WHERE owner=?");
    st.bind(owner);
    return st.step() ? st.integer(0) : int64_t{0};
  });
}

bool SqliteShareStore::publish(const std::string& job_id, const std::string& caption,
                               int64_t now_ms) {
  return store_.with_db([&](sqlite3* db) {
    SqliteStatement st(db,
                       "UPDATE shares SET caption=?, published_ms=CASE WHEN published=1 THEN "
                       "published_ms ELSE ? END, published=1 WHERE job_id=?");
    st.bind(caption).bind(now_ms).bind(job_id);
    st.step();
    return st.changes() > 0;
  });
}

bool SqliteShareStore::unpublish(const std::string& job_id) {
  return store_.with_db([&](sqlite3* db) {
    SqliteStatement st(db, "UPDATE shares SET published=0, published_ms=0 WHERE job_id=?");
    st.bind(job_id);
    st.step();
    return st.changes() > 0;
  });
}

bool SqliteShareStore::set_hidden(const std::string& token, bool hidden) {
  return store_.with_db([&](sqlite3* db) {
    SqliteStatement st(db, "UPDATE shares SET hidden=? WHERE token=?");
    st.bind(hidden).bind(token);
    st.step();
    return st.changes() > 0;
  });
}

GalleryPage SqliteShareStore::gallery(GallerySort sort, int limit, int offset,
                                      const std::string& client) {
  const char* visible =
      " FROM shares s JOIN jobs j ON j.id = s.job_id"
      " WHERE s.published=1 AND s.hidden=0 AND j.status='done'";
  const char* order = sort == GallerySort::top
                          ? " ORDER BY (s.rating_sum + 9.0) / (s.rating_count + 3) DESC,"
                            " s.rating_count DESC, s.published_ms DESC, s.rowid DESC"
                          : " ORDER BY s.published_ms DESC, s.rowid DESC";
  static_assert(kGalleryPriorVotes == 3 && kGalleryPriorStars == 3, "the 9.0 and 3 above");
  return store_.with_db([&](sqlite3* db) {
    GalleryPage page;
    SqliteStatement count(db, std::string("SELECT COUNT(*)") + visible);
    page.total = count.step() ? count.integer(0) : 0;
    SqliteStatement st(db, std::string("SELECT ") + kShareColumns +
                               ", j.method, j.style, j.style_title, j.width, j.height,"
                               " COALESCE((SELECT stars FROM ratings r WHERE r.token=s.token"
                               " AND r.client=?), 0)" +
                               visible + order + " LIMIT ? OFFSET ?");
    st.bind(client).bind(limit).bind(offset);
    while (st.step()) {
      GalleryWork w;
      w.share = sqlite_read_share(st);
      w.method = st.text(kShareColumnCount);
      w.style = st.text(kShareColumnCount + 1);
      w.style_title = st.text(kShareColumnCount + 2);
      w.width = static_cast<int>(st.integer(kShareColumnCount + 3));
      w.height = static_cast<int>(st.integer(kShareColumnCount + 4));
      w.my_rating = static_cast<int>(st.integer(kShareColumnCount + 5));
      page.works.push_back(std::move(w));
    }
    return page;
  });
}

bool SqliteShareStore::rate(const std::string& token, const std::string& client, int stars,
                            int64_t now_ms) {
  return store_.with_db([&](sqlite3* db) {
    SqliteTransaction tx(db);
    if (!sqlite_select_share(db, "s.token=?", token)) return false;
    SqliteStatement st(db,
                       "INSERT INTO ratings (token, client, stars, rated_ms) VALUES (?,?,?,?) "
                       "ON CONFLICT(token, client) DO UPDATE SET stars=excluded.stars, "
                       "rated_ms=excluded.rated_ms");
    st.bind(token).bind(client).bind(stars).bind(now_ms);
    st.step();
    sqlite_recount_ratings(db, token);
    tx.commit();
    return true;
  });
}

bool SqliteShareStore::unrate(const std::string& token, const std::string& client) {
  return store_.with_db([&](sqlite3* db) {
    SqliteTransaction tx(db);
    SqliteStatement st(db, "DELETE FROM ratings WHERE token=? AND client=?");
    st.bind(token).bind(client);
    st.step();
    bool removed = st.changes() > 0;
    if (removed) sqlite_recount_ratings(db, token);
    tx.commit();
    return removed;
  });
}

int SqliteShareStore::my_rating(const std::string& token, const std::string& client) {
  return store_.with_db([&](sqlite3* db) {
    SqliteStatement st(db, "SELECT stars FROM ratings WHERE token=? AND client=?");
    st.bind(token).bind(client);
    return st.step() ? static_cast<int>(st.integer(0)) : 0;
  });
}

void SqliteShareStore::remove_job(const std::string& job_id) {
  revoke(job_id);
}

}  // namespace pastiche
