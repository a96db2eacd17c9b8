// Restart safety: jobs survive the server object and the process.
#include "serve_process.h"

namespace pastiche::testing {
namespace {

constexpr const char* kRestartToken = "restart-client-token-01";

class ServiceRestart : public BackendServerTest {};

TEST_P(ServiceRestart, JobInterruptedByServerShutdownCompletesAfterRestart) {
  std::string id, queued_id;
  start();
  {
    Api api = ServerTest::api(kRestartToken);
    id = api.submit(gatys_fields(400), png_of(test_photo(64, 64)));
    queued_id = api.submit({{"style", "stripes"},
                            {"method", "gatys"},
                            {"size", "64"},
                            {"steps", "5"},
                            {"scales", "1"}},
                           png_of(test_photo(64, 64)));
    api.wait_running(id);
  }
  server.reset();  // destroyed mid-job: the job is interrupted and queued again
  start();
  Api api = ServerTest::api(kRestartToken);
  auto job = api.wait_finished(id, std::chrono::seconds(100));
  EXPECT_EQ(job["status"], "done") << job.dump();
  EXPECT_EQ(job["attempts"], 1);  // a graceful interruption does not count as an attempt
  EXPECT_EQ(api.wait_finished(queued_id)["status"], "done");
  EXPECT_EQ(api.get("/api/jobs/" + id + "/result")->status, 200);
}

PASTICHE_INSTANTIATE_IMAGE_BACKENDS(ServiceRestart);

TEST(ServiceRestartProcess, KilledProcessRequeuesTheRunningJobAndSigtermExitsCleanly) {
  ServiceFiles files;
  int port = free_port();
  std::string id;
  {
    ServeProcess serve(files, port);
    ASSERT_GT(serve.pid, 0);
    Api api(port, kRestartToken);
    id = api.submit(gatys_fields(400), png_of(test_photo(64, 64)));
    api.wait_running(id);
    EXPECT_EQ(serve.stop(SIGKILL), -SIGKILL);  // dies mid-job, nothing checkpointed
  }
  ServeProcess serve(files, port);
  ASSERT_GT(serve.pid, 0);
  Api api(port, kRestartToken);
  auto job = api.wait_finished(id, std::chrono::seconds(100));
  EXPECT_EQ(job["status"], "done") << job.dump();
  EXPECT_EQ(job["attempts"], 2);  // started again after the crash
  EXPECT_EQ(api.get("/api/jobs/" + id + "/result")->status, 200);
  EXPECT_EQ(serve.stop(SIGTERM), 0);  // graceful shutdown exits 0
}

}  // namespace
}  // namespace pastiche::testing
