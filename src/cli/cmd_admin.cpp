// `pastiche admin backup|restore`: a consistent copy of the job database while the service runs
// (SQLite's online backup API), and putting one back while it is stopped. Job and style images
// live beside it in DATA_DIR/images: copy that folder too (files are written once, never changed).
#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "common/error.h"
#include "store/data_dir_lock.h"
#include "store/sqlite_job_store.h"

namespace pastiche::cli {
namespace {

namespace fs = std::filesystem;

struct AdminArgs {
  std::string data_dir = "data";
  std::string file;
  bool force = false;
};

std::string database_path(const AdminArgs& args) {
  return (fs::path(args.data_dir) / "jobs.db").string();
}

void backup(const AdminArgs& args) {
  std::string db = database_path(args);
  if (!fs::exists(db)) throw NotFoundError("no job database at '" + db + "' (check --data-dir)");
  if (fs::exists(args.file) && !args.force) {
    throw InputError("'" + args.file + "' exists; choose another name or pass --force");
  }
  if (args.force) fs::remove(args.file);
  SqliteJobStore store(db);
  store.backup_to(args.file);
  std::cout << "backed up " << db << " to " << args.file << "\n";
}

void restore(const AdminArgs& args) {
  if (!fs::exists(args.file)) throw NotFoundError("no backup at '" + args.file + "'");
  std::string db = database_path(args);
  DataDirLock lock(args.data_dir, "stop it before restoring");
  // Write-ahead log and shared-memory files of the old database would be replayed over the
  // restored one.
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(db + suffix);
  SqliteJobStore::restore(args.file, db);
  std::cout << "restored " << args.file << " into " << db << "\n";
}

const bool admin_registered = register_command(70, [](CLI::App& app) {
  auto args = std::make_shared<AdminArgs>();
  auto* cmd = app.add_subcommand("admin", "Service maintenance: back up and restore the jobs");
  cmd->require_subcommand(1);
  auto* b = cmd->add_subcommand("backup", "Copy the job database (safe while the server runs)");
  b->add_option("FILE", args->file, "Backup file to write")->required();
  b->add_option("--data-dir", args->data_dir, "The server's data directory")->capture_default_str();
  b->add_flag("--force", args->force, "Overwrite FILE if it exists");
  b->callback([args] { backup(*args); });
  auto* r = cmd->add_subcommand("restore",
                                "Replace the job database with a backup (stop the server first)");
  r->add_option("FILE", args->file, "Backup file to read")->required();
  r->add_option("--data-dir", args->data_dir, "The server's data directory")->capture_default_str();
  r->callback([args] { restore(*args); });
});

}  // namespace
}  // namespace pastiche::cli
