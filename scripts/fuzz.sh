#!/usr/bin/env bash
# Builds and runs the libFuzzer targets: job_request (upload/parameter parsing) and service (any
# request to the whole service, in-process; a 5xx or a crash is a finding).
#   scripts/fuzz.sh [seconds=20 | --smoke] [build-dir=build]     (--smoke = 10 s per target)
#   FUZZ_RUNS=1000000 scripts/fuzz.sh 0      # a fixed number of inputs per target instead
# Needs clang with libFuzzer and a configured CMake build (for the core library and its link
# line). Exits 0 when clang or the build is missing (prints why), so test scripts can always call
# it; the corpus is replayed by the gtest FuzzReplay either way.
set -euo pipefail
seconds=${1:-20}
if [[ "$seconds" == "--smoke" ]]; then seconds=10; fi
build=${2:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found; skipping (FuzzReplay in the test binary covers the corpus)"
  exit 0
fi
if [[ ! -f "$build/build.ninja" && ! -f "$build/Makefile" ]]; then
  echo "fuzz: no CMake build in '$build'; configure and build first; skipping"
  exit 0
fi
cmake --build "$build" --target pastiche -- -j2 >/dev/null
out="$build/fuzz"
mkdir -p "$out"
# Include directories and link libraries of the core library, as CMake computed them: the flags
# of any source of the service library (all share them); in a unity build (the default) its
# sources compile as Unity/unity_N_cxx.cxx, so the entry is found by its object's folder.
flags=$(python3 - "$build" <<'PY'
import json, shlex, sys
for c in json.load(open(sys.argv[1] + "/compile_commands.json")):
    args = shlex.split(c["command"])
    obj = c.get("output") or (args[args.index("-o") + 1] if "-o" in args else "")
    if "pastiche_service.dir/" in obj:
        out, i = [], 1
        while i < len(args):
            a = args[i]
            if a == "-isystem":
                out += [a, args[i + 1]]
                i += 1
            elif a.startswith(("-I", "-D", "-std=")):
                out.append(a)
            i += 1
        print(" ".join(shlex.quote(x) for x in out))
        break
PY
)
libs=$(sed -n '/^build pastiche:/,/^$/p' "$build/build.ninja" | sed -n 's/^ *LINK_LIBRARIES = //p')
if [[ -z "$flags" || -z "$libs" ]]; then
  echo "fuzz: cannot read flags from $build (needs CMAKE_EXPORT_COMPILE_COMMANDS and Ninja)"
  exit 1
fi
# The sources instrumented here replace the libraries' copies at link time; CMakeLists.txt keeps
# them out of the unity batches (SKIP_UNITY_BUILD_INCLUSION), so name any new one there too.
sanitize=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
echo "fuzz: building $out/job_request_fuzz"
(cd "$build" && eval clang++ "${sanitize[@]}" \
  $flags -w "$root/fuzz/job_request_fuzz.cpp" "$root/src/service/job_request.cpp" \
  "$root/src/service/ids.cpp" "$root/src/common/secure_random.cpp" -o "fuzz/job_request_fuzz" \
  $libs -lcpp-httplib)
# The service target: the HTTP layer and the request parsing are instrumented (coverage and
# sanitizers); the rest of the service links from the core library as built.
echo "fuzz: building $out/service_fuzz"
(cd "$build" && eval clang++ "${sanitize[@]}" \
  $flags -I"$root/tests" -w "$root/fuzz/service_fuzz.cpp" "$root/tests/common/fixtures.cpp" \
  "$root"/src/http/*.cpp "$root/src/common/text.cpp" "$root/src/service/job_request.cpp" \
  "$root/src/service/web_security.cpp" "$root/src/service/routes_common.cpp" \
  -o "fuzz/service_fuzz" $libs -lcpp-httplib)

runs=()
if [[ -n "${FUZZ_RUNS:-}" ]]; then runs=(-runs="$FUZZ_RUNS"); fi
status=0
for target in job_request service; do
  mkdir -p "$out/corpus-$target"
  echo "fuzz: running $target for ${seconds}s ${runs[*]}"
  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
    "$out/${target}_fuzz" -max_total_time="$seconds" "${runs[@]}" -max_len=65536 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/$target-" "$out/corpus-$target" "$root/fuzz/corpus/$target" \
    2> "$out/$target.log" || status=1
  grep -E "^(stat::|Done|==|SUMMARY|5xx)" "$out/$target.log" | tail -8 || true
  if [[ $status -ne 0 ]]; then tail -40 "$out/$target.log"; exit 1; fi
done
