// Error types shared by every domain. Messages are written for the person who has to act on them:
// what failed, why, and what to do (e.g. "use --style-layers").
#pragma once
#include <stdexcept>
#include <string>

namespace pastiche {

// Something the caller gave us is wrong (bad file, bad parameter, unknown layer).
// The CLI prints it and exits 2; the server answers 400 (or 413/415 via the subclasses).
class InputError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The input is too large (bytes or pixels). Server: 413.
class TooLargeError : public InputError {
 public:
  using InputError::InputError;
};

// The input is not of a supported type (e.g. not an image). Server: 415.
class UnsupportedTypeError : public InputError {
 public:
  using InputError::InputError;
};

// A named thing does not exist (model, style, job). Server: 404.
class NotFoundError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The database cannot be used now: its server refuses or lost the connection (stopped,
// restarting, out of connections) or, for SQLite, the file stays locked or cannot be read or
// written. Nothing is wrong with the request: the server answers 503 with Retry-After, workers
// pause and try again.
class DatabaseUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A long-running operation was cancelled through its cancel flag.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

}  // namespace pastiche
