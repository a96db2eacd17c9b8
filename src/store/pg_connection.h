// A PostgreSQL database for the stores: a small pool of libpqxx connections (thread-safe; a
// caller waits when all are in use) and the schema migrations, applied on open. PgJobStore,
// PgImageStore and PgJobQueue share one PgDatabase; each process opens its own.
//
// URLs are libpq's: postgresql://user:password@host:port/dbname?options, or
// postgresql:///dbname?host=/socket/dir. Error messages never include the password.
#pragma once
#include <pqxx/pqxx>

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace pastiche {

// The URL with any password replaced by "***" (for messages and logs).
std::string redact_database_url(const std::string& url);

class PgDatabase {
 public:
  // Connects once (so a wrong URL fails here, with a message naming it) and applies the
  // schema migrations. `connections`: the pool's size (>= 1).
  explicit PgDatabase(const std::string& url, int connections = 4);
  ~PgDatabase();
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;

  const std::string& url() const { return url_; }
  std::string redacted_url() const { return redact_database_url(url_); }

  // Runs f(pqxx::connection&) on a pooled connection. A connection found broken is replaced
  // (with every idle one: they were opened before the fault) and f runs once more; f must be
  // safe to repeat. Throws DatabaseUnavailable (common/error.h) when the database cannot be
  // reached (refused or lost again on the new connection) or a commit's outcome is unknown.
  template <class F>
  auto run(F&& f) {
    for (int attempt = 0;; ++attempt) {
      Lease lease(*this);  // DatabaseUnavailable when no connection can be opened
      try {
        return f(*lease.conn);
      } catch (...) {
        PgFault fault = pg_fault(std::current_exception(), *lease.conn);
        if (fault == PgFault::other) throw;
        lease.broken = true;
        if (fault == PgFault::in_doubt || attempt >= 1) {
          throw_unavailable(std::current_exception());
        }
      }
    }
  }

  // Runs f(pqxx::transaction_base&) without a transaction block: each statement commits on its
  // own (single-statement reads and writes; one round trip each).
  template <class F>
  auto autocommit(F&& f) {
    return run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      if constexpr (std::is_void_v<decltype(f(static_cast<pqxx::transaction_base&>(tx)))>) {
        f(static_cast<pqxx::transaction_base&>(tx));
        tx.commit();
      } else {
        auto result = f(static_cast<pqxx::transaction_base&>(tx));
        tx.commit();
        return result;
      }
    });
  }

  // Runs f(pqxx::work&) in a READ COMMITTED transaction and commits it; repeats it (a few
  // times) after a deadlock or serialisation failure, and once on a broken connection.
  template <class F>
  auto transact(F&& f) {
    return run([&](pqxx::connection& c) {
      for (int attempt = 0;; ++attempt) {
        try {
          pqxx::work tx(c);
          if constexpr (std::is_void_v<decltype(f(tx))>) {
            f(tx);
            tx.commit();
            return;
          } else {
            auto result = f(tx);
            tx.commit();
            return result;
          }
        } catch (const pqxx::serialization_failure&) {
          if (attempt >= 4) throw;
        } catch (const pqxx::deadlock_detected&) {
          if (attempt >= 4) throw;
        }
      }
    });
  }

  // Empty when the database can be read and written now; otherwise what is wrong.
  std::string health_check();

 private:
  struct Lease {
    explicit Lease(PgDatabase& db) : db(db), conn(db.take()) {}
    ~Lease() { db.give_back(std::move(conn), broken); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    PgDatabase& db;
    std::unique_ptr<pqxx::connection> conn;
    bool broken = false;
  };
  // What a failure of a call on `conn` says about the connection: other (an SQL error; the
  // connection is fine), broken (lost or closed: repeat on another one) or in_doubt (lost while
  // committing: the change may or may not have been made, so it is not repeated).
  enum class PgFault { other, broken, in_doubt };
  static PgFault pg_fault(const std::exception_ptr& error, const pqxx::connection& conn) noexcept;
  [[noreturn]] void throw_unavailable(const std::exception_ptr& error) const;

  std::unique_ptr<pqxx::connection> take();
  void give_back(std::unique_ptr<pqxx::connection> conn, bool broken);

  std::string url_;
  int max_connections_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_ = 0;  // connections in use or idle
};

// Opens a new connection to `url`; DatabaseUnavailable, with a message naming the (redacted)
// URL, on failure. A URL without its own connect_timeout gets kConnectTimeoutSeconds: an
// unreachable host would otherwise hold the request (or the worker) for minutes.
std::unique_ptr<pqxx::connection> connect_postgres(const std::string& url);
inline constexpr int kConnectTimeoutSeconds = 5;
// `url` (a postgresql:// URI or a key=value string) with connect_timeout added unless present.
std::string with_connect_timeout(const std::string& url);

}  // namespace pastiche
