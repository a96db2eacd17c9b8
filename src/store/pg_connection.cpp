#include "store/pg_connection.h"

#include <chrono>
#include <stdexcept>

#include "store/pg_schema.h"

namespace pastiche {

std::string redact_database_url(const std::string& url) {
  std::string out = url;
  // postgresql://user:password@host -> postgresql://user:***@host
  size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t end = out.find_first_of("/?", start);
    size_t at = out.rfind('@', end == std::string::npos ? out.size() : end);
    if (at != std::string::npos && at >= start) {
      size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ...?password=secret&x or password=secret (keyword form)
  for (size_t pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    size_t value = pos + 9;
    size_t end = out.find_first_of("& ", value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

std::unique_ptr<pqxx::connection> connect_postgres(const std::string& url) {
  try {
    return std::make_unique<pqxx::connection>(url);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    throw std::runtime_error("cannot connect to PostgreSQL at '" + redact_database_url(url) +
                             "': " + msg);
  }
}

PgDatabase::PgDatabase(const std::string& url, int connections)
    : url_(url), max_connections_(connections < 1 ? 1 : connections) {
  auto conn = connect_postgres(url_);
  try {
    migrate_postgres(*conn);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot prepare the PostgreSQL schema at '" + redacted_url() +
                             "': " + e.what());
  }
  idle_.push_back(std::move(conn));
  open_ = 1;
}

PgDatabase::~PgDatabase() = default;

std::unique_ptr<pqxx::connection> PgDatabase::take() {
  std::unique_lock lock(mutex_);
  available_.wait(lock, [&] { return !idle_.empty() || open_ < max_connections_; });
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }
  ++open_;
  lock.unlock();
  try {
    return connect_postgres(url_);
  } catch (...) {
    lock.lock();
    --open_;
    available_.notify_one();
    throw;
  }
}

void PgDatabase::give_back(std::unique_ptr<pqxx::connection> conn, bool broken) {
  if (broken || !conn || !conn->is_open()) conn.reset();  // closed outside the lock
  std::lock_guard lock(mutex_);
  if (conn) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  available_.notify_one();
}

std::string PgDatabase::health_check() {
  try {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    transact([&](pqxx::work& tx) {
      tx.exec("SELECT id FROM jobs LIMIT 1");
      tx.exec_params(
          "INSERT INTO health (id, checked_ms) VALUES (1, $1) "
          "ON CONFLICT (id) DO UPDATE SET checked_ms = EXCLUDED.checked_ms",
          static_cast<long long>(now));
    });
    return {};
  } catch (const std::exception& e) {
    return std::string("the job database cannot be read and written: ") + e.what();
  }
}

}  // namespace pastiche
