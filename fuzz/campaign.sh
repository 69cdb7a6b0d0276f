#!/usr/bin/env bash
# campaign.sh runs the fuzz targets of this package one after another, each
# for a given time, logs every run, and prints a summary table (Markdown, for
# the record in README.md).
#
# Usage: fuzz/campaign.sh [-t DURATION] [-p WORKERS] [-m DURATION] [-o LOGDIR] [TARGET[=DURATION] ...]
#
#   -t DURATION  time per target, as go test -fuzztime takes it (default 10m)
#   -m DURATION  -fuzzminimizetime (default 5s: go's 60 s default stalls
#                short runs while it shrinks each new input; see README.md)
#   -p WORKERS   fuzzing workers per target (default: go's, GOMAXPROCS)
#   -o LOGDIR    where the logs go (default /tmp/ws-fuzz-campaign-DATE)
#   TARGET       targets to run (default: all, as go test -list finds them);
#                TARGET=DURATION overrides the time for that target
#
# A crasher stops only its own target: go test writes the failing input
# under fuzz/testdata/fuzz/TARGET/ (where plain go test ./fuzz then runs it,
# and fails), and the summary names it. New corpus entries stay in go's
# cache ($(go env GOCACHE)/fuzz/...), as usual; they are counted, not
# committed.
set -uo pipefail
cd "$(dirname "$0")/.."

per=10m workers="" logdir="" minimize=5s
while getopts "t:p:m:o:h" opt; do
  case $opt in
    t) per=$OPTARG ;;
    p) workers=$OPTARG ;;
    m) minimize=$OPTARG ;;
    o) logdir=$OPTARG ;;
    *) sed -n '2,22p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
logdir=${logdir:-/tmp/ws-fuzz-campaign-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$logdir"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(go test -list '^Fuzz' ./fuzz | grep '^Fuzz')
fi
cache="$(go env GOCACHE)/fuzz/github.com/wirelevel/ws/fuzz"
count() { find "$cache/$1" -type f 2>/dev/null | wc -l; }

echo "campaign: ${#targets[@]} targets, $per each unless given, logs in $logdir"
echo "go: $(go version), $(nproc) CPUs, $(date -u +%FT%TZ)"

rows=()
failed=0
for spec in "${targets[@]}"; do
  target=${spec%%=*}
  dur=$per
  [ "$spec" != "$target" ] && dur=${spec#*=}
  log="$logdir/$target.log"
  before=$(count "$target")
  args=(-run='^$' -fuzz="^${target}\$" -fuzztime="$dur" -fuzzminimizetime="$minimize")
  [ -n "$workers" ] && args+=(-parallel="$workers")
  printf '%s %-24s %s ... ' "$(date -u +%T)" "$target" "$dur"
  /usr/bin/time -f '%U %S %e' -o "$logdir/$target.time" go test "${args[@]}" ./fuzz >"$log" 2>&1
  rc=$?
  read -r user sys wall <"$logdir/$target.time" || true
  cpu=$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN { printf "%.0f", u + s }')
  last=$(grep -E '^fuzz: elapsed:' "$log" | tail -1)
  execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
  after=$(count "$target")
  finding="none"
  if [ $rc -ne 0 ] && grep -qE '\[build failed\]|\[setup failed\]' "$log"; then
    failed=1
    finding="BUILD FAILED (see $log)"
  elif [ $rc -ne 0 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written to' "$log"; then
    # Go 1.26's coordinator can report the -fuzztime deadline itself as a
    # failure (golang/go#75804); no input is written then.
    finding="none (the fuzztime deadline reported as a failure: golang/go#75804)"
  elif [ $rc -ne 0 ]; then
    failed=1
    crasher=$(sed -nE 's/.*(testdata\/fuzz\/[^ ]+).*/\1/p' "$log" | head -1)
    reason=$(grep -m1 -E -- '--- FAIL|panic:|_test.go:[0-9]+:' "$log" | sed -E 's/^[[:space:]]+//' | cut -c1-120)
    finding="CRASHER ${crasher:-?} ($reason)"
  fi
  echo "execs ${execs:-?}, new corpus $((after - before)), $finding"
  rows+=("| $(date -u +%F) | $target | ${dur} | ${cpu} s | ${execs:-?} | $((after - before)) | $finding |")
done

echo
echo "| date | target | time | CPU time | executions | new corpus entries | findings |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $failed
