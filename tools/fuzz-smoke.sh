#!/bin/sh
# Run each libFuzzer harness for SECONDS on its seed corpus (fuzz/corpus/NAME,
# where NAME is the harness name without "fuzz_"). New inputs go to a scratch
# directory, so the committed corpus only changes on purpose. Crashes leave
# their reproducer in build-fuzz/artifacts/.
#   usage: tools/fuzz-smoke.sh SECONDS FUZZER...
set -eu
secs=$1
shift
mkdir -p build-fuzz/artifacts
for f in "$@"; do
	name=$(basename "$f")
	corpus=fuzz/corpus/${name#fuzz_}
	scratch=build-fuzz/corpus-${name#fuzz_}
	mkdir -p "$scratch"
	echo "fuzz-smoke: $name for ${secs}s (seeds: $corpus)"
	"$f" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/ \
		"$scratch" "$corpus" 2>build-fuzz/"$name".log || {
		tail -n 60 build-fuzz/"$name".log
		echo "fuzz-smoke: $name FAILED"
		exit 1
	}
	grep -E '^stat::number_of_executed_runs|^Done' build-fuzz/"$name".log || true
done
echo "fuzz-smoke: all fuzzers survived ${secs}s"
