# Sourced by scripts/setup (and tests/test_setup.py): the package lock, and apt-get's lines cut down.
# Needs `say` (a "setup: ..." line on stderr) from the caller.

# Another package installation (unattended-upgrades, a second set-up) holds dpkg's lock: wait for it, a bounded
# time, instead of failing at once. The holder is read from /proc/locks (the lock files' inodes).
lock_wait="${SETUP_LOCK_WAIT:-600}"  # seconds
apt_locks=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock)
lock_holder() {  # "1234 (apt-get)" for the process holding one of the locks; nothing when they are all free
  local f ino pid
  for f in "${apt_locks[@]}"; do
    [ -e "$f" ] || continue
    ino=$(stat -c %i "$f")
    pid=$(awk -v ino="$ino" '$2 != "->" { n = split($6, a, ":"); if (a[n] == ino) { print $5; exit } }' /proc/locks)
    if [ -n "$pid" ]; then
      echo "$pid ($(cat "/proc/$pid/comm" 2>/dev/null || echo "?"))"
      return
    fi
  done
}
wait_for_lock() {
  local holder waited=0
  holder=$(lock_holder)
  [ -n "$holder" ] || return 0
  say "another package installation (process $holder) holds the package lock; waiting for it, at most ${lock_wait} s"
  while [ -n "$holder" ] && [ "$waited" -lt "$lock_wait" ]; do
    sleep 1
    waited=$((waited + 1))
    holder=$(lock_holder)
  done
  if [ -n "$holder" ]; then
    say "error: process $holder still holds the package lock after ${lock_wait} s; let it finish (or stop it), then run scripts/setup again"
    exit 1
  fi
  say "the package lock is free after ${waited} s"
}
# apt-get's own lines (stdout and stderr), cut down to one line per package with a count:
# "[12/106] setting up tesseract-ocr-deu". Dropped: debconf's remark that apt-utils is missing (it configures the
# packages anyway) and apt's chatter; kept: its errors and warnings (E:, W:), dpkg's and debconf's other lines. A
# lock taken between our wait and apt's own (DPkg::Lock::Timeout) becomes one line. pipefail keeps apt's exit code.
apt_lines() {
  awk -v wait="$lock_wait" '
    function out(s) { print s > "/dev/stderr"; fflush("/dev/stderr") }
    / upgraded, .* newly installed, / { total = $1 + $3
                                       out(sprintf("setup: %d package%s to install, with what they need", total,
                                                   (total == 1 ? "" : "s"))); next }
    /^Need to get / { s = $0; sub(/^Need to get /, "", s); sub(/ of archives\.?$/, "", s)
                      if (split(s, part, "/") == 2) out("setup: downloading " part[1] " (of " part[2] \
                                                        "; the rest is already here)")
                      else out("setup: downloading " s); next }
    /^Get:[0-9]+ / { g++; out(sprintf("setup: [%d/%s] downloading %s", (total && g > total ? total : g),
                                      (total ? total : "?"), $5)); next }
    /^Setting up / { n++; sub(/:[a-z0-9]+$/, "", $3)
                     out(sprintf("setup: [%d/%s] setting up %s", (total && n > total ? total : n),
                                 (total ? total : "?"), $3)); next }
    /^debconf: delaying package configuration, since apt-utils is not installed/ { next }
    /Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock directory/ && !/are you root|Permission denied/ {
      if (!locked) out("setup: error: another package installation still holds the package lock after " wait \
                       " s; let it finish (or stop it), then run scripts/setup again")
      locked = 1; next }
    /^(E|W|Err):|^dpkg: |^debconf: / { out($0) }'
}
