#include "store/pg_connection.h"

#include <poll.h>

#include <chrono>
#include <stdexcept>

#include "common/error.h"
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

namespace {

std::string trimmed(std::string msg) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

// An idle pooled connection has nothing to read: a readable (or hung up) socket means the server
// closed it or sent an error (a restart, pg_terminate_backend), and the next query would fail.
bool looks_alive(const pqxx::connection& conn) {
  if (!conn.is_open()) return false;
  pollfd fd{conn.sock(), POLLIN, 0};
  if (fd.fd < 0) return false;
  return poll(&fd, 1, 0) == 0;
}

}  // namespace

std::string with_connect_timeout(const std::string& url) {
  if (url.find("connect_timeout") != std::string::npos) return url;
  const std::string setting = "connect_timeout=" + std::to_string(kConnectTimeoutSeconds);
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + setting;
  }
  return url + (url.empty() ? "" : " ") + setting;
}

std::unique_ptr<pqxx::connection> connect_postgres(const std::string& url) {
  try {
    return std::make_unique<pqxx::connection>(with_connect_timeout(url));
  } catch (const std::exception& e) {
    throw DatabaseUnavailable("cannot connect to PostgreSQL at '" + redact_database_url(url) +
                              "': " + trimmed(e.what()));
  }
}

PgDatabase::PgFault PgDatabase::pg_fault(const std::exception_ptr& error,
                                         const pqxx::connection& conn) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const pqxx::in_doubt_error&) {
    return PgFault::in_doubt;
  } catch (const pqxx::statement_completion_unknown&) {
    return PgFault::in_doubt;
  } catch (const pqxx::broken_connection&) {
    return PgFault::broken;
  } catch (const pqxx::sql_error& e) {
    // Class 08 (connection exception) and 57P (the server shutting down, terminating this
    // backend, or not accepting connections yet).
    const std::string state = e.sqlstate();
    if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0) return PgFault::broken;
    return conn.is_open() ? PgFault::other : PgFault::broken;
  } catch (const pqxx::failure&) {
    return conn.is_open() ? PgFault::other : PgFault::broken;
  } catch (...) {
    return PgFault::other;
  }
}

void PgDatabase::throw_unavailable(const std::exception_ptr& error) const {
  std::string reason;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    reason = trimmed(e.what());
  } catch (...) {
    reason = "unknown error";
  }
  throw DatabaseUnavailable("the PostgreSQL database at '" + redacted_url() +
                            "' is unavailable: " + reason);
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
  std::vector<std::unique_ptr<pqxx::connection>> dead;  // closed outside the lock
  std::unique_lock lock(mutex_);
  while (true) {
    available_.wait(lock, [&] { return !idle_.empty() || open_ < max_connections_; });
    if (idle_.empty()) break;
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    if (looks_alive(*conn)) return conn;
    dead.push_back(std::move(conn));
    --open_;
  }
  ++open_;
  lock.unlock();
  dead.clear();
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
  std::vector<std::unique_ptr<pqxx::connection>> idle;
  {
    std::lock_guard lock(mutex_);
    if (conn) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
    if (broken) {
      // The server went away or restarted: the idle connections were opened before that.
      idle.swap(idle_);
      open_ -= static_cast<int>(idle.size());
    }
  }
  available_.notify_all();
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
