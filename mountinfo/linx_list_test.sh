#!/bin/bash
# End-to-end checks of `linx list`: exit statuses, one JSON object, the
# surrogateescape round trip of a non-UTF-8 byte, strict mode, --tree, and
# the statmount back end printing byte for byte what the text one prints.
set -uo pipefail
linx="$1"
corpus="$(dirname "$2")"
fail=0
check() {  # check NAME WANT_RC CMD...
  local name="$1" want="$2"; shift 2
  "$@" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err"
  local rc=$?
  if [[ $rc != "$want" ]]; then
    echo "FAIL $name: exit $rc, want $want"; cat "$TEST_TMPDIR/err"; fail=1
  else
    echo "ok   $name"
  fi
}
check help 0 "$linx" list --help
check usage_unknown 2 "$linx" list --nope
check usage_pid_and_file 2 "$linx" list --pid 1 --file /x
check usage_bad_pid 2 "$linx" list --pid 12x
check usage_missing_value 2 "$linx" list --file
check missing_file 1 "$linx" list --file /nonexistent/mountinfo
check strict_malformed 1 "$linx" list --strict --file "$corpus/snapd-malformed-alpha-major.txt"
check lenient_malformed 0 "$linx" list --json --file "$corpus/snapd-malformed-alpha-major.txt"
check self_table 0 "$linx" list
check self_json 0 "$linx" list --json
python3 - "$TEST_TMPDIR/out" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
assert set(d) == {"mounts", "skipped"}, d.keys()
assert any(m["target"] == "/" for m in d["mounts"]), "no / entry"
print("ok   self_json_is_one_object")
PY
check pid_json 0 "$linx" list --json --pid $$
check non_utf8 0 "$linx" list --json --file "$corpus/tailhook-libmount-non-utf8.txt"
python3 - "$TEST_TMPDIR/out" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
t = d["mounts"][0]["target"]
assert t.encode("utf-8", "surrogateescape") == b"/\xff", repr(t)
print("ok   non_utf8_round_trip")
PY
check usage_json_and_tree 2 "$linx" list --json --tree
check tree 0 "$linx" list --tree --file "$corpus/util-linux-libmount-mountinfo.txt"
python3 - "$TEST_TMPDIR/out" <<'PY' || fail=1
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines[0].split()[0] == "TARGET", lines[0]
assert lines[1].split()[0] == "/", lines[1]           # the root first
proc = [l for l in lines if l.split()[0].endswith("/proc")]
assert proc and proc[0].startswith("\u251c\u2500/proc"), proc  # a child of /
nested = [l for l in lines if "/proc/sys/fs/binfmt_misc" in l]
assert nested and nested[0].startswith("\u2502 "), nested     # one level deeper
print("ok   tree_nests_children")
PY
check escapes 0 "$linx" list --json --file "$corpus/snapd-escapes-in-every-field.txt"
python3 - "$TEST_TMPDIR/out" <<'PY' || fail=1
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))["mounts"][0]
assert m["target"] == "/mnt 2" and m["optional_fields"] == ["mas ter:1"], m
assert m["fs_options"] == "rw ,errors=continue", m
print("ok   escapes_decoded")
PY
check usage_bad_backend 2 "$linx" list --backend proc
check usage_backend_and_file 2 "$linx" list --backend statmount --file "$corpus/duf-wsl2-9p.txt"
check usage_backend_and_strict 2 "$linx" list --backend auto --strict
# The same table from both back ends: this test's namespace does not change
# between the calls. --backend auto must work on any kernel.
for form in "" --json --tree; do
  for who in self pid; do
    pid_args=(); [[ $who == pid ]] && pid_args=(--pid $$)
    name="auto_${who}${form:+_${form#--}}"
    check "$name" 0 "$linx" list $form "${pid_args[@]}" --backend auto
    cp "$TEST_TMPDIR/out" "$TEST_TMPDIR/auto"
    "$linx" list $form "${pid_args[@]}" >"$TEST_TMPDIR/text" || fail=1
    if ! cmp -s "$TEST_TMPDIR/text" "$TEST_TMPDIR/auto"; then
      echo "FAIL $name: differs from the text back end"
      diff "$TEST_TMPDIR/text" "$TEST_TMPDIR/auto" | head -5; fail=1
    fi
    if "$linx" list $form "${pid_args[@]}" --backend statmount \
        >"$TEST_TMPDIR/sm" 2>"$TEST_TMPDIR/err"; then
      if cmp -s "$TEST_TMPDIR/text" "$TEST_TMPDIR/sm"; then
        echo "ok   statmount_${name#auto_}_equals_text"
      else
        echo "FAIL statmount_${name#auto_}: differs from the text back end"
        diff "$TEST_TMPDIR/text" "$TEST_TMPDIR/sm" | head -5; fail=1
      fi
    elif grep -q "needs Linux 6.13" "$TEST_TMPDIR/err" &&
         [[ "${LINX_REQUIRE_PRIVILEGED:-}" != 1 ]]; then
      # An older kernel: skipped with the reason, except in CI, where the
      # kernel is new enough and a skip is a failure.
      echo "skip statmount_${name#auto_}: $(cat "$TEST_TMPDIR/err")"
    else
      echo "FAIL statmount_${name#auto_}: $(cat "$TEST_TMPDIR/err")"; fail=1
    fi
  done
done
exit $fail
