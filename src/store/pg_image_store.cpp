#include "store/pg_image_store.h"

#include <stdexcept>

#include "common/secure_random.h"
#include "store/file_io.h"
#include "store/pg_connection.h"

namespace pastiche {

namespace fs = std::filesystem;

namespace {

// Each change updates the usage row last, so its lock is held only from that update to the
// commit: concurrent puts of different keys (every worker stores a result per job) do not wait
// for each other's image bytes to be written. Changes of one key are serialised by an advisory
// lock on its hash (and the key's row lock), so the total stays exact and, in a directory, the
// file matches its row.
void add_usage(pqxx::work& tx, int64_t delta) {
  if (delta != 0) {
    tx.exec_params("UPDATE image_usage SET total_bytes = total_bytes + $1 WHERE id = 1", delta);
  }
}

constexpr int kImageKeyLocks = 0x696d6773;  // "imgs": this store's advisory-lock class

void lock_key(pqxx::work& tx, const std::string& key) {
  tx.exec_params("SELECT pg_advisory_xact_lock($1, hashtext($2))", kImageKeyLocks, key);
}

constexpr int kImageFolderLocks = 0x696d6766;  // "imgf": folders (and keys) as paths

// Locks every folder above `path` shared, root first, then `path` itself shared (a put of it) or
// exclusive (a remove_prefix of it), in one round trip. A remove_prefix therefore waits for the
// puts under it and they for it: it never deletes a folder a put is writing into, and never
// leaves a row without its file. Two overlapping remove_prefixes meet at the shorter one's lock,
// before either takes a row lock.
void lock_path(pqxx::work& tx, const std::string& path, bool exclusive) {
  std::string sql;
  auto add = [&](const std::string& folder, bool excl) {
    sql += std::string("SELECT ") +
           (excl ? "pg_advisory_xact_lock(" : "pg_advisory_xact_lock_shared(") +
           std::to_string(kImageFolderLocks) + ", hashtext(" + tx.quote(folder) + "));";
  };
  for (size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    add(path.substr(0, slash), false);
  }
  add(path, exclusive);
  tx.exec(sql);
}

// Keys are [a-z0-9._-] segments, so with the "C" collation every key under "p/" lies in
// ["p/", "p0") ('0' follows '/').
std::string range_end(const std::string& prefix_with_slash) {
  return prefix_with_slash.substr(0, prefix_with_slash.size() - 1) + "0";
}

// In the shared directory beside the images; no key can name it (keys never start with '.').
constexpr const char* kMarkFile = ".pastiche-cluster";

}  // namespace

PgImageStore::PgImageStore(PgDatabase& db, fs::path files_dir)
    : db_(db), files_dir_(std::move(files_dir)) {
  check_location();
}

void PgImageStore::check_location() {
  const bool in_dir = !files_dir_.empty();
  if (in_dir) fs::create_directories(files_dir_);
  const std::string mark = in_dir ? read_whole_file(files_dir_ / kMarkFile).value_or("") : "";
  db_.transact([&](pqxx::work& tx) {
    tx.exec("LOCK TABLE image_location IN EXCLUSIVE MODE");  // one first node
    auto row = tx.exec("SELECT kind, mark FROM image_location WHERE id = 1");
    const bool stored =
        tx.exec1("SELECT total_bytes FROM image_usage WHERE id = 1")[0].as<int64_t>() > 0;
    if (row.empty()) {
      if (in_dir && !stored) {
        const std::string fresh = secure_random_hex(16);
        write_file_atomically(files_dir_ / kMarkFile, fresh);
        tx.exec_params("INSERT INTO image_location (id, kind, mark) VALUES (1, 'directory', $1)",
                       fresh);
      } else if (in_dir) {
        throw std::runtime_error("--images-dir " + files_dir_.string() +
                                 ": this cluster's database keeps the images itself; start every "
                                 "node without --images-dir");
      } else {
        tx.exec("INSERT INTO image_location (id, kind, mark) VALUES (1, 'database', '')");
      }
      return;
    }
    const std::string kind = row[0][0].as<std::string>();
    if (kind == "database" && in_dir) {
      throw std::runtime_error("--images-dir " + files_dir_.string() +
                               ": this cluster's database keeps the images itself; start every "
                               "node without --images-dir");
    }
    if (kind == "directory" && !in_dir) {
      throw std::runtime_error(
          "this cluster keeps its images in a shared directory: give this node --images-dir "
          "with the same directory as the other nodes (mounted here)");
    }
    if (kind == "directory" && mark != row[0][1].as<std::string>()) {
      throw std::runtime_error(
          "--images-dir " + files_dir_.string() +
          (mark.empty() ? std::string(" is not") : std::string(" is another cluster's")) +
          " image directory: give the directory the other nodes of this cluster use (is the "
          "shared volume mounted?)");
    }
  });
}

fs::path PgImageStore::file_of(const std::string& key) const {
  return files_dir_ / key;
}

void PgImageStore::put(const std::string& key, std::string_view bytes) {
  check_image_key(key);
  const auto size = static_cast<int64_t>(bytes.size());
  db_.transact([&](pqxx::work& tx) {
    if (!files_dir_.empty()) lock_path(tx, key, false);
    lock_key(tx, key);
    auto old = tx.exec_params("SELECT size FROM images WHERE key = $1 FOR UPDATE", key);
    const int64_t old_size = old.empty() ? 0 : old[0][0].as<int64_t>();
    if (files_dir_.empty()) {
      tx.exec_params(
          "INSERT INTO images (key, bytes, size) VALUES ($1, $2, $3) "
          "ON CONFLICT (key) DO UPDATE SET bytes = EXCLUDED.bytes, size = EXCLUDED.size",
          key, pqxx::binarystring(bytes.data(), bytes.size()), size);
    } else {
      write_file_atomically(file_of(key), bytes);  // under the key's lock: the row matches it
      tx.exec_params(
          "INSERT INTO images (key, bytes, size) VALUES ($1, NULL, $2) "
          "ON CONFLICT (key) DO UPDATE SET bytes = NULL, size = EXCLUDED.size",
          key, size);
    }
    add_usage(tx, size - old_size);
  });
}

std::optional<std::string> PgImageStore::get(const std::string& key) {
  check_image_key(key);
  if (!files_dir_.empty()) return read_whole_file(file_of(key));
  return db_.autocommit([&](pqxx::transaction_base& tx) -> std::optional<std::string> {
    auto rows = tx.exec_params("SELECT bytes FROM images WHERE key = $1", key);
    if (rows.empty()) return std::nullopt;
    return pqxx::binarystring(rows[0][0]).str();
  });
}

bool PgImageStore::exists(const std::string& key) {
  check_image_key(key);
  if (!files_dir_.empty()) {
    std::error_code ec;
    return fs::is_regular_file(file_of(key), ec);
  }
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return !tx.exec_params("SELECT 1 FROM images WHERE key = $1", key).empty();
  });
}

void PgImageStore::remove(const std::string& key) {
  check_image_key(key);
  db_.transact([&](pqxx::work& tx) {
    lock_key(tx, key);
    auto gone = tx.exec_params("DELETE FROM images WHERE key = $1 RETURNING size", key);
    if (gone.empty()) return;
    add_usage(tx, -gone[0][0].as<int64_t>());
    // Last, after every statement: a deadlock retry repeats the statements, never a removal.
    if (!files_dir_.empty()) {
      std::error_code ec;
      fs::remove(file_of(key), ec);
    }
  });
}

void PgImageStore::remove_prefix(const std::string& prefix) {
  check_image_key(prefix);
  // As on disk: "a/b/" removes what is under a/b; "a/b" removes the key a/b and what is under it.
  const bool folder = prefix.back() == '/';
  const std::string under = folder ? prefix : prefix + "/";
  const std::string path = folder ? prefix.substr(0, prefix.size() - 1) : prefix;
  db_.transact([&](pqxx::work& tx) {
    if (!files_dir_.empty()) lock_path(tx, path, true);
    auto gone = tx.exec_params(
        "WITH gone AS (DELETE FROM images WHERE (key >= $1 AND key < $2) OR key = $3 "
        "RETURNING size) SELECT COALESCE(SUM(size), 0)::BIGINT FROM gone",
        under, range_end(under), folder ? std::string() : prefix);
    add_usage(tx, -gone[0][0].as<int64_t>());
    if (!files_dir_.empty()) {  // last, as in remove(); no put under `path` is in flight
      std::error_code ec;
      fs::remove_all(file_of(path), ec);
    }
  });
}

std::optional<int64_t> PgImageStore::size_of(const std::string& key) {
  check_image_key(key);
  return db_.autocommit([&](pqxx::transaction_base& tx) -> std::optional<int64_t> {
    auto rows = tx.exec_params("SELECT size FROM images WHERE key = $1", key);
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<int64_t>();
  });
}

int64_t PgImageStore::bytes_under(const std::string& prefix) {
  check_image_key(prefix);
  const std::string under = prefix.back() == '/' ? prefix : prefix + "/";
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return tx
        .exec_params1(
            "SELECT COALESCE(SUM(size), 0)::BIGINT FROM images WHERE key >= $1 AND "
            "key < $2",
            under, range_end(under))[0]
        .as<int64_t>();
  });
}

int64_t PgImageStore::total_bytes() {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return tx.exec("SELECT total_bytes FROM image_usage WHERE id = 1")[0][0].as<int64_t>();
  });
}

}  // namespace pastiche
