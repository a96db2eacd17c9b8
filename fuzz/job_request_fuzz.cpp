// libFuzzer target for the upload/parameter parsing path of the service: form fields (or a JSON
// body) -> JobSpec -> its stored JSON and back, and uploaded bytes -> probe_image/decode_image. Bad input must only ever
// raise InputError (400/413/415 in the server); anything else is a bug and aborts.
//
// Input layout: "<fields>\0\0<image bytes>", fields as "k=v&k=v" or a JSON object.
// Build and run: scripts/fuzz.sh [seconds]. tests/service/fuzz_replay_test.cpp replays the corpus
// through the same function in every test run.
#include "job_request_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pastiche::fuzz::parse_fields_and_upload(data, size);
  return 0;
}
