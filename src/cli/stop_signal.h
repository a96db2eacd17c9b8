// SIGINT/SIGTERM as a graceful stop for long-running commands (`serve`, `worker`). Threads
// LibTorch started earlier do not block signals, so they are handled, not sigwait()ed: the handler
// only posts a semaphore (async-signal-safe) and a thread of ours waits on it.
#pragma once

namespace pastiche::cli {

void install_stop_signal_handlers();
void wait_for_stop_signal();  // returns once a stop was signalled (or request_stop() called)
void request_stop();          // wakes wait_for_stop_signal() without a signal

}  // namespace pastiche::cli
