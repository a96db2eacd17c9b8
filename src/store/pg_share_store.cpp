#include "store/pg_share_store.h"

#include "store/pg_connection.h"
#include "store/share_columns.h"

namespace pastiche {

namespace {

ShareRecord pg_read_share(const pqxx::row& r) {
  ShareRecord s;
  s.token = r[0].as<std::string>();
  s.job_id = r[1].as<std::string>();
  s.owner = r[2].as<std::string>();
  s.created_ms = r[3].as<int64_t>();
  s.published = r[4].as<bool>();
  s.caption = r[5].as<std::string>();
  s.published_ms = r[6].as<int64_t>();
  s.hidden = r[7].as<bool>();
  s.rating_count = r[8].as<int64_t>();
  s.rating_sum = r[9].as<int64_t>();
  return s;
}

std::optional<ShareRecord> pg_select_share(pqxx::transaction_base& tx, const char* where,
                                           const std::string& key) {
  auto rows =
      tx.exec_params(std::string("SELECT ") + kShareColumns + " FROM shares s WHERE " + where, key);
  if (rows.empty()) return std::nullopt;
  return pg_read_share(rows[0]);
}

// The share's vote totals from its ratings; the caller holds the share's row lock, so each
// statement (READ COMMITTED: a new snapshot) sees every vote committed before it.
void pg_recount_ratings(pqxx::transaction_base& tx, const std::string& token) {
  tx.exec_params(
      "UPDATE shares SET rating_count=(SELECT COUNT(*) FROM ratings WHERE token=$1),"
      " rating_sum=(SELECT COALESCE(SUM(stars), 0) FROM ratings WHERE token=$1) WHERE token=$1",
      token);
}

bool changed(const pqxx::result& r) {
  return r.affected_rows() > 0;
}

}  // namespace

ShareRecord PgShareStore::create_or_get(const std::string& job_id, const std::string& owner,
                                        const std::string& token, int64_t now_ms) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    tx.exec_params(
        "INSERT INTO shares (token, job_id, owner, created_ms) VALUES ($1,$2,$3,$4) "
        "ON CONFLICT (job_id) DO NOTHING",
        token, job_id, owner, now_ms);
    return *pg_select_share(tx, "s.job_id=$1", job_id);
  });
}

bool PgShareStore::revoke(const std::string& job_id) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return changed(tx.exec_params("DELETE FROM shares WHERE job_id=$1", job_id));
  });
}

std::optional<ShareRecord> PgShareStore::get_by_token(const std::string& token) {
  return db_.autocommit(
      [&](pqxx::transaction_base& tx) { return pg_select_share(tx, "s.token=$1", token); });
}

std::optional<ShareRecord> PgShareStore::get_by_job(const std::string& job_id) {
  return db_.autocommit(
      [&](pqxx::transaction_base& tx) { return pg_select_share(tx, "s.job_id=$1", job_id); });
}

std::map<std::string, ShareRecord> PgShareStore::get_by_jobs(const std::vector<std::string>& ids) {
  std::map<std::string, ShareRecord> out;
  if (ids.empty()) return out;
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    std::string placeholders;
    for (size_t i = 0; i < ids.size(); ++i) {
      placeholders += (i ? ",$" : "$") + std::to_string(i + 1);
    }
    auto rows = tx.exec_params(std::string("SELECT ") + kShareColumns +
                                   " FROM shares s WHERE s.job_id IN (" + placeholders + ")",
                               pqxx::prepare::make_dynamic_params(ids));
    for (const auto& row : rows) {
      ShareRecord s = pg_read_share(row);
      out.emplace(s.job_id, std::move(s));
    }
    return out;
  });
}

int64_t PgShareStore::count_by_owner(const std::string& owner) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return tx.exec_params1("SELECT COUNT(*) FROM shares WHERE owner=$1", owner)[0].as<int64_t>();
  });
}

bool PgShareStore::publish(const std::string& job_id, const std::string& caption, int64_t now_ms) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return changed(tx.exec_params(
        "UPDATE shares SET caption=$1, published_ms=CASE WHEN published THEN published_ms "
        "ELSE $2 END, published=true WHERE job_id=$3",
        caption, now_ms, job_id));
  });
}

bool PgShareStore::unpublish(const std::string& job_id) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return changed(tx.exec_params(
        "UPDATE shares SET published=false, published_ms=0 WHERE job_id=$1", job_id));
  });
}

bool PgShareStore::set_hidden(const std::string& token, bool hidden) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return changed(tx.exec_params("UPDATE shares SET hidden=$1 WHERE token=$2", hidden, token));
  });
}

GalleryPage PgShareStore::gallery(GallerySort sort, int limit, int offset,
                                  const std::string& client) {
  const std::string visible =
      " FROM shares s JOIN jobs j ON j.id = s.job_id"
      " WHERE s.published AND NOT s.hidden AND j.status = 'done'";
  const char* order = sort == GallerySort::top
                          ? " ORDER BY (s.rating_sum + 9.0) / (s.rating_count + 3) DESC,"
                            " s.rating_count DESC, s.published_ms DESC, s.seq DESC"
                          : " ORDER BY s.published_ms DESC, s.seq DESC";
  static_assert(kGalleryPriorVotes == 3 && kGalleryPriorStars == 3, "the 9.0 and 3 above");
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    GalleryPage page;
    page.total = tx.exec1("SELECT COUNT(*)" + visible)[0].as<int64_t>();
    auto rows = tx.exec_params(std::string("SELECT ") + kShareColumns +
                                   ", j.method, j.style, j.style_title, j.width, j.height,"
                                   " COALESCE((SELECT stars FROM ratings r WHERE r.token=s.token"
                                   " AND r.client=$1), 0)" +
                                   visible + order + " LIMIT $2 OFFSET $3",
                               client, limit, offset);
    for (const auto& row : rows) {
      GalleryWork w;
      w.share = pg_read_share(row);
      w.method = row[kShareColumnCount].as<std::string>();
      w.style = row[kShareColumnCount + 1].as<std::string>();
      w.style_title = row[kShareColumnCount + 2].as<std::string>();
      w.width = row[kShareColumnCount + 3].as<int>();
      w.height = row[kShareColumnCount + 4].as<int>();
      w.my_rating = row[kShareColumnCount + 5].as<int>();
      page.works.push_back(std::move(w));
    }
    return page;
  });
}

bool PgShareStore::rate(const std::string& token, const std::string& client, int stars,
                        int64_t now_ms) {
  return db_.transact([&](pqxx::work& tx) {
    // The share's row lock orders concurrent votes on it (see pg_recount_ratings).
    if (tx.exec_params("SELECT 1 FROM shares WHERE token=$1 FOR UPDATE", token).empty()) {
      return false;
    }
    tx.exec_params(
        "INSERT INTO ratings (token, client, stars, rated_ms) VALUES ($1,$2,$3,$4) "
        "ON CONFLICT (token, client) DO UPDATE SET stars=EXCLUDED.stars, "
        "rated_ms=EXCLUDED.rated_ms",
        token, client, stars, now_ms);
    pg_recount_ratings(tx, token);
    return true;
  });
}

bool PgShareStore::unrate(const std::string& token, const std::string& client) {
  return db_.transact([&](pqxx::work& tx) {
    if (tx.exec_params("SELECT 1 FROM shares WHERE token=$1 FOR UPDATE", token).empty()) {
      return false;
    }
    bool removed =
        changed(tx.exec_params("DELETE FROM ratings WHERE token=$1 AND client=$2", token, client));
    if (removed) pg_recount_ratings(tx, token);
    return removed;
  });
}

int PgShareStore::my_rating(const std::string& token, const std::string& client) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    auto rows =
        tx.exec_params("SELECT stars FROM ratings WHERE token=$1 AND client=$2", token, client);
    return rows.empty() ? 0 : rows[0][0].as<int>();
  });
}

void PgShareStore::remove_job(const std::string& job_id) {
  revoke(job_id);
}

}  // namespace pastiche
