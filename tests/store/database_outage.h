// A PostgreSQL outage for one test database, without touching the cluster the other tests share:
// new connections refused (ALLOW_CONNECTIONS false: "database does not allow connections", the
// same broken connection a stopped server gives) and every open one terminated
// (pg_terminate_backend, as a restart does). Ended explicitly or on destruction.
#pragma once
#include <gtest/gtest.h>

#include <chrono>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "store/store_backends.h"

namespace pastiche::testing {

class DatabaseOutage {
 public:
  explicit DatabaseOutage(const std::string& url) : admin_(pg_test_url()) {
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    name_ = tx.exec1("SELECT current_database()")[0].as<std::string>();
  }
  ~DatabaseOutage() {
    try {
      end();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cannot end the outage of " << name_ << ": " << e.what();
    }
  }
  DatabaseOutage(const DatabaseOutage&) = delete;
  DatabaseOutage& operator=(const DatabaseOutage&) = delete;

  // Terminates every connection to the database and waits until their backends are gone.
  // Returns how many there were.
  int terminate_connections() {
    std::vector<int> pids;
    {
      pqxx::nontransaction tx(admin_);
      auto rows = tx.exec_params(
          "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname=$1 AND "
          "pid<>pg_backend_pid()",
          name_);
      for (const auto& row : rows) pids.push_back(row[0].as<int>());
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (int pid : pids) {
      while (true) {
        pqxx::nontransaction tx(admin_);
        if (tx.exec_params1("SELECT COUNT(*) FROM pg_stat_activity WHERE pid=$1", pid)[0]
                .as<int>() == 0) {
          break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
          ADD_FAILURE() << "backend " << pid << " still there 10 s after it was terminated";
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling interval
      }
    }
    return static_cast<int>(pids.size());
  }

  // The database refuses new connections and loses its open ones.
  void begin() {
    set_allow_connections(false);
    terminate_connections();
    down_ = true;
  }
  void end() {
    if (!down_) return;
    set_allow_connections(true);
    down_ = false;
  }
  const std::string& name() const { return name_; }

 private:
  void set_allow_connections(bool allow) {
    pqxx::nontransaction tx(admin_);
    tx.exec("ALTER DATABASE " + admin_.quote_name(name_) + " ALLOW_CONNECTIONS " +
            (allow ? "true" : "false"));
  }

  pqxx::connection admin_;
  std::string name_;
  bool down_ = false;
};

}  // namespace pastiche::testing
