#!/bin/bash
# `linx list --file` against endless, huge and wrong-kind inputs: each must
# end, within a generous timeout, in a clear one-line error and exit 1 (or,
# for a FIFO nobody writes to, an empty table and exit 0) — never an abort
# (134), an OOM kill (137), a hang (124 from timeout) or a crash.
# The bounds are documented in mountinfo/mountinfo.h (ReadOptions::max_size,
# ParseOptions::max_entries / max_skipped, kMaxOptionalFieldsPerLine).
set -uo pipefail
linx="$1"
tmp="${TEST_TMPDIR:?}"
fail=0

# expect NAME WANT_RC STDERR_REGEX CMD...
expect() {
  local name="$1" want="$2" pattern="$3"; shift 3
  timeout 120 "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [[ $rc != "$want" ]]; then
    echo "FAIL $name: exit $rc, want $want"; head -c 2000 "$tmp/err"; fail=1
  elif [[ -n "$pattern" ]] && ! grep -qE "$pattern" "$tmp/err"; then
    echo "FAIL $name: stderr does not match /$pattern/:"; head -c 2000 "$tmp/err"
    fail=1
  elif grep -q "terminate called\|bad_alloc\|AddressSanitizer\|runtime error" "$tmp/err"; then
    echo "FAIL $name: crash report on stderr:"; head -c 2000 "$tmp/err"; fail=1
  else
    echo "ok   $name: $(head -1 "$tmp/err")"
  fi
}

# Character devices: refused before the first read.
expect dev_zero 1 'is a character device, not a file' "$linx" list --file /dev/zero
expect dev_urandom 1 'is a character device, not a file' "$linx" list --file /dev/urandom
expect dev_zero_json 1 'character device' "$linx" list --json --file /dev/zero

# A multi-GB sparse file: refused from its size, nothing allocated.
truncate -s 8G "$tmp/sparse"
expect sparse_8g 1 'larger than 268435456 bytes \(ReadOptions::max_size\)' \
  "$linx" list --file "$tmp/sparse"
# A procfs file whose size says it is huge.
if [[ -r /proc/kcore ]]; then
  expect proc_kcore 1 'larger than|Operation not permitted|Permission denied' \
    "$linx" list --file /proc/kcore
fi
# A procfs file that reports size 0 and reads for far longer than the bound
# (until the one odd-sized read at the bound, which pagemap refuses).
expect proc_pagemap 1 'larger than 268435456 bytes|read /proc/self/pagemap: EINVAL' \
  "$linx" list --file /proc/self/pagemap

# A FIFO with an endless writer: read up to the bound, then refused.
mkfifo "$tmp/fifo"
yes "1 1 0:1 / / rw - tmpfs t rw" >"$tmp/fifo" 2>/dev/null &
writer=$!
expect fifo_endless 1 'larger than 268435456 bytes' "$linx" list --file "$tmp/fifo"
kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null
# A FIFO nobody writes to: not a hang, an empty table.
expect fifo_no_writer 0 '' "$linx" list --file "$tmp/fifo"
# A directory.
expect directory 1 'Is a directory' "$linx" list --file "$tmp"

# Parser bounds: far more entries than ParseOptions::max_entries, far more
# malformed lines than max_skipped, a line of a million optional fields, and
# a text of newlines alone (must not reserve an entry per line).
python3 - "$tmp" <<'PY'
import sys
d = sys.argv[1]
with open(d + "/many_entries", "w") as f:
    f.write("1 1 0:1 / / rw - tmpfs t rw\n" * ((1 << 20) + 10))
with open(d + "/many_malformed", "w") as f:
    f.write("x\n" * ((1 << 16) + 10))
with open(d + "/many_optional", "w") as f:
    f.write("1 1 0:1 / / rw " + "a " * 1000000 + "- tmpfs t rw\n")
    f.write("2 1 0:2 / /ok rw - tmpfs t rw\n")
with open(d + "/newlines", "w") as f:
    f.write("\n" * (64 << 20))
PY
expect many_entries 1 'more than 1048576 entries \(ParseOptions::max_entries\)' \
  "$linx" list --file "$tmp/many_entries"
expect many_malformed 1 'more than 65536 malformed lines' \
  "$linx" list --file "$tmp/many_malformed"
expect many_optional_fields 0 'more than 64 optional fields' \
  "$linx" list --file "$tmp/many_optional"
grep -qE '^2 +1 +0:2 +/ok ' "$tmp/out" || { echo "FAIL many_optional_fields: /ok not listed"; fail=1; }
expect newlines_only 0 '' "$linx" list --json --file "$tmp/newlines"
grep -q '"mounts": \[\]' "$tmp/out" || { echo "FAIL newlines_only: not an empty table"; fail=1; }

# Output bounds: one 8 MB target among 100 000 short rows must not pad every
# row to 8 MB (kMaxPaddedColumn), and a parent chain 100 000 mounts deep must
# not indent the tree quadratically (kMaxTreeIndent).
python3 - "$tmp" <<'PY'
import sys
d = sys.argv[1]
with open(d + "/wide", "w") as f:
    f.write("1 0 0:1 / /" + "w" * (8 << 20) + " rw - tmpfs t rw\n")
    for i in range(2, 100002):
        f.write("%d 1 0:1 / /m%d rw - tmpfs t rw\n" % (i, i))
with open(d + "/deep", "w") as f:
    for i in range(1, 100001):
        f.write("%d %d 0:1 / /d%d rw - tmpfs t rw\n" % (i, i - 1, i))
PY
for form in "" --tree; do
  expect "wide_target${form:+_tree}" 0 '' "$linx" list $form --file "$tmp/wide"
  size=$(stat -c %s "$tmp/out")
  if ((size > 64 << 20)); then
    echo "FAIL wide_target${form:+_tree}: $size bytes of output"; fail=1
  fi
done
expect deep_chain_tree 0 '' "$linx" list --tree --file "$tmp/deep"
size=$(stat -c %s "$tmp/out")
if ((size > 64 << 20)); then echo "FAIL deep_chain_tree: $size bytes of output"; fail=1; fi
[[ $(wc -l <"$tmp/out") == 100001 ]] || { echo "FAIL deep_chain_tree: $(wc -l <"$tmp/out") lines"; fail=1; }

exit $fail
