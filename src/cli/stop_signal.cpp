#include "cli/stop_signal.h"

#include <semaphore.h>
#include <signal.h>

namespace pastiche::cli {

namespace {

sem_t stop_requested;

extern "C" void on_stop_signal(int) {
  sem_post(&stop_requested);
}

}  // namespace

void install_stop_signal_handlers() {
  sem_init(&stop_requested, 0, 0);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void wait_for_stop_signal() {
  while (sem_wait(&stop_requested) != 0) {
  }
}

void request_stop() {
  sem_post(&stop_requested);
}

}  // namespace pastiche::cli
