#!/usr/bin/env bash
# bench/run.sh - vroot against native and its peers, in one run.
#
# Builds vroot from this checkout, prepares the Debian sources of hello, lua5.4
# and zlib, and runs every workload under every runner, interleaved round-robin
# (rep 1: A B C ..., rep 2: B C ... A, ...), N repetitions, each run on a fresh
# copy of the source tree it modifies. Prints median wall seconds per
# (workload, runner) with the ratio to the native median of the same run, and
# writes it to $OUT/results.md (raw figures in $OUT/raw.tsv). Then times the
# per-syscall cost with bench/stat-loop.c. Installs nothing: missing tools are
# named, with the apt-get line that provides them (see bench/README.md).
#
# Usage: bench/run.sh [-n N] [-w workload,...] [-r runner,...] [-o OUT]
#
# Env:  N            (5) repetitions per (workload, runner)
#       REPS         per-workload override of N, e.g. REPS=stat-storm=3,configure=3
#       WORKLOADS    (stat-storm,exec-storm,configure,compile,zlib,install)
#       RUNNERS      (native,vroot,strace,proot,fakechroot,fakeroot)
#       OUT          (/tmp/vroot-bench/out-<utc date>) vroot binary, results.md, raw.tsv, logs/
#       WORK         (/tmp/vroot-bench/work) scratch tree, emptied on each start
#       SRC_CACHE    (/tmp/vroot-bench/src) where `apt-get source --download-only` puts
#                    the tarballs; fetched when missing (needs deb-src, see README)
#       PIN          (empty) CPU list: every runner, native included, starts under
#                    `taskset -c $PIN` (PIN=0: tracer and tracee share CPU 0)
#       BENCH_USER   when started as root, the measurements run as this user through
#                    setpriv: default `builder` if that user exists, else uid 65534
#                    (nobody). BENCH_USER= (empty) stays root.
#       WARMUP       untimed native runs of each workload before the timed ones: 0 when
#                    SYSCOUNT=1 (its strace -c run warms the caches), 1 otherwise
#       QUIET_WAIT   (3) seconds to wait, before each run, for the machine to go idle
#                    (< 0.15 CPU busy); runs that started busy are counted in results.md
#       RUN_TIMEOUT  (600) seconds before a run is killed and counted as FAIL
#       SYSCOUNT     (1) before each workload's timed runs, count its syscalls with one
#                    untimed native run under `strace -f -c` (turns overheads into µs
#                    per syscall, and serves as the warm-up run)
#       MICRO        (1) run the stat-loop micro-benchmark; MICRO_N (200000) calls per
#                    loop, MICRO_REPS (5), MICRO_RUNNERS (native,vroot,strace)
#       VROOT_BIN    use this vroot binary instead of building one
#       BENCH_PHASE=report OUT=DIR bench/run.sh [-w ...]: rewrite DIR/results.md from the
#                    raw files of a finished run (no measurement)
set -u

# vroot runs as `vroot --stage <fresh dir> -- CMD` everywhere and `make
# install` runs without DESTDIR. Set to 0 to measure `vroot -- CMD` (an
# automatic stage under $TMPDIR) and leave vroot out of the install workload.
VROOT_HAS_STAGE=1

N=${N:-5}
REPS=${REPS:-}
WORKLOADS=${WORKLOADS:-stat-storm,exec-storm,configure,compile,zlib,install}
RUNNERS=${RUNNERS:-native,vroot,strace,proot,fakechroot,fakeroot}
OUT=${OUT:-}
WORK=${WORK:-/tmp/vroot-bench/work}
SRC_CACHE=${SRC_CACHE:-/tmp/vroot-bench/src}
PIN=${PIN:-}
SYSCOUNT=${SYSCOUNT:-1}
WARMUP=${WARMUP:-$((1 - SYSCOUNT))}
QUIET_WAIT=${QUIET_WAIT:-3}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}
MICRO=${MICRO:-1}
MICRO_N=${MICRO_N:-200000}
MICRO_REPS=${MICRO_REPS:-5}
MICRO_RUNNERS=${MICRO_RUNNERS:-native,vroot,strace}
VROOT_BIN=${VROOT_BIN:-}

while getopts "n:w:r:o:h" opt; do
  case $opt in
    n) N=$OPTARG ;;
    w) WORKLOADS=$OPTARG ;;
    r) RUNNERS=$OPTARG ;;
    o) OUT=$OPTARG ;;
    h) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
  esac
done

export LC_ALL=C
umask 022
SELF=$(readlink -f "$0")
BENCH_DIR=$(dirname "$SELF")
REPO=$(dirname "$BENCH_DIR")
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

IFS=, read -r -a RUNNER_LIST <<<"$RUNNERS"
IFS=, read -r -a WL_LIST <<<"$WORKLOADS"
IFS=, read -r -a MICRO_LIST <<<"$MICRO_RUNNERS"
has() { local x=$1; shift; local e; for e in "$@"; do [ "$e" = "$x" ] && return 0; done; return 1; }

# =============================================================== phase 2: measure
# (runs as the unprivileged bench user; phase 1 is at the bottom of the file)
measure() {
  RAW=$OUT/raw.tsv
  MICRO_RAW=$OUT/micro.tsv
  HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
  T_START=$EPOCHREALTIME
  mkdir -p "$OUT/logs" "$WORK" || exit 1
  find "$WORK" -mindepth 1 -delete 2>/dev/null
  chmod -R u+rwX "$WORK" 2>/dev/null; find "$WORK" -mindepth 1 -delete || die "cannot empty $WORK"
  WORK=$(readlink -f "$WORK")
  mkdir -p "$WORK/pristine" "$WORK/run" "$HOME"

  # ------------------------------------------------------------ sources (untimed)
  log "preparing sources in $WORK/pristine"
  local p t top
  : >"$OUT/sources.txt"
  for p in hello lua5.4 zlib; do
    t=$(ls "$SRC_CACHE/${p}"_*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -1)
    [ -n "$t" ] || die "no ${p}_*.orig.tar.* in $SRC_CACHE"
    top=$(tar tf "$t" | head -1); top=${top%%/*}
    tar xf "$t" -C "$WORK/pristine" || die "cannot extract $t"
    mv "$WORK/pristine/$top" "$WORK/pristine/$p" || die "unexpected layout of $t"
    printf '%s\t%s\n' "$p" "$(basename "$t")" >>"$OUT/sources.txt"
  done
  # hello configured (--prefix=/usr) and built, for the install workload
  if has install "${WL_LIST[@]}"; then
    cp -a "$WORK/pristine/hello" "$WORK/pristine/hello-built"
    (cd "$WORK/pristine/hello-built" && ./configure --prefix=/usr && make -j2) >"$OUT/logs/prep-hello-built.log" 2>&1 ||
      die "building hello for the install workload failed: $OUT/logs/prep-hello-built.log"
  fi

  declare -gA NSYS=() NTRAP=()
  # ------------------------------------------------------------ timed runs
  printf 'workload\trep\trunner\tseconds\trc\tuser_s\tsys_s\tforeign_cpu_s\tstarted_idle\n' >"$RAW"
  local wl r i k rep nreps start
  for wl in "${WL_LIST[@]}"; do
    nreps=$(reps_for "$wl")
    [ "$SYSCOUNT" = 1 ] && count_syscalls "$wl"     # untimed; also warms the caches
    for ((i = 0; i < WARMUP; i++)); do
      log "$wl: warm-up (native, untimed)"
      timed_run "$wl" native warmup
    done
    declare -A FAILED=()
    for ((rep = 1; rep <= nreps; rep++)); do
      k=${#ACTIVE[@]}; start=$(((rep - 1) % k))
      for ((i = 0; i < k; i++)); do
        r=${ACTIVE[$(((start + i) % k))]}
        skip_cell "$wl" "$r" && continue
        [ -n "${FAILED[$r]:-}" ] && continue     # a failing combination is not repeated
        timed_run "$wl" "$r" "$rep"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$wl" "$rep" "$r" "$T_SECS" "$T_RC" \
          "$T_USER" "$T_SYS" "$T_FOREIGN" "$T_IDLE" >>"$RAW"
        log "$wl rep $rep/$nreps $r: ${T_SECS}s rc=$T_RC user=${T_USER}s sys=${T_SYS}s foreign=${T_FOREIGN}s idle=$T_IDLE"
        [ "$T_RC" = 0 ] || FAILED[$r]=1
      done
    done
    unset FAILED
  done

  # ------------------------------------------------------------ micro-benchmark
  if [ "$MICRO" = 1 ]; then
    printf 'rep\trunner\tloop\tcalls\ttotal_ns\tns_per_call\n' >"$MICRO_RAW"
    local out
    for ((rep = 1; rep <= MICRO_REPS; rep++)); do
      for r in "${MICRO_LIST[@]}"; do
        has "$r" "${ACTIVE[@]}" || continue
        runner_prefix "$r" "$WORK/run/micro-stage" micro
        mkdir -p "$WORK/run/micro-stage"
        wait_quiet || true
        out=$(cd "$WORK" && timeout -k 10 "$RUN_TIMEOUT" "${PFX[@]}" "$OUT/stat-loop" "$MICRO_N" 2>&1 </dev/null)
        if [ $? = 0 ]; then
          printf '%s\n' "$out" | awk -v rep="$rep" -v r="$r" 'NF==4{printf "%s\t%s\t%s\t%s\t%s\t%s\n", rep, r, $1, $2, $3, $4}' >>"$MICRO_RAW"
        else
          printf '%s\t%s\tFAIL\t0\t0\t0\n' "$rep" "$r" >>"$MICRO_RAW"
          printf '%s\n' "$out" >"$OUT/logs/micro.$r.$rep.log"
        fi
        log "micro rep $rep $r: $(printf '%s' "$out" | tr '\n' ' ')"
        rm -rf "$WORK/run/micro-stage"
      done
    done
  fi
  T_END=$EPOCHREALTIME
  { printf 'RAN_AS=%q\nBENCH_STARTED_AS=%q\nRUN_DATE=%q\n' "$(id -un 2>/dev/null || echo '?') (uid $(id -u))" \
      "${BENCH_STARTED_AS:-the same user}" "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf '%s=%q\n' T_START "$T_START" T_END "$T_END" PIN "$PIN" QUIET_WAIT "$QUIET_WAIT" WARMUP "$WARMUP" \
      SYSCOUNT "$SYSCOUNT" MICRO "$MICRO" MICRO_N "$MICRO_N" MICRO_REPS "$MICRO_REPS" VROOT_DESC "$VROOT_DESC"
  } >"$OUT/meta.env"
  report_only
}

# report_only: (re)write results.md from the files of a finished run in $OUT
report_only() {
  RAW=$OUT/raw.tsv MICRO_RAW=$OUT/micro.tsv
  [ -r "$RAW" ] || die "no $RAW"
  # shellcheck disable=SC1091
  . "$OUT/meta.env" || die "no $OUT/meta.env"
  declare -gA NSYS=() NTRAP=()
  local wl f
  for wl in "${WL_LIST[@]}"; do
    f=$OUT/syscalls-$wl.txt
    [ -s "$f" ] || continue
    # strace -c lines: % time, seconds, usecs/call, calls, [errors], syscall
    NSYS[$wl]=$(awk '$NF=="total"{print $4; exit}' "$f")
    [ -n "$TRAPPED_RE" ] && NTRAP[$wl]=$(awk -v re="^($TRAPPED_RE)\$" \
      '$NF ~ re && $4 ~ /^[0-9]+$/ {n+=$4} END{print n+0}' "$f")
  done
  report >"$OUT/results.md"
  cat "$OUT/results.md"
}

# count_syscalls WL: one untimed native run under strace -f -c, into $OUT/syscalls-WL.txt
count_syscalls() {
  local wl=$1 f=$OUT/syscalls-$1.txt
  prepare_run "$wl" syscount || return
  log "$wl: counting syscalls (native under strace -f -c, untimed)"
  (cd "$CWD" && timeout -k 10 "$RUN_TIMEOUT" strace -f -c -o "$f" /bin/sh -c "$CMD") >/dev/null 2>&1 </dev/null
  log "$wl: $(awk '$NF=="total"{print $4; exit}' "$f") syscalls"
  cleanup_run
}

# reps_for WL: repetitions of WL (the configured number; after a run, the one in raw.tsv)
reps_for() {
  local kv n=$N
  if [ -n "${RAW:-}" ] && [ -s "$RAW" ]; then
    n=$(awk -F'\t' -v w="$1" '$1==w && $2 ~ /^[0-9]+$/ && $2>m {m=$2} END{print m+0}' "$RAW")
    [ "$n" != 0 ] && { echo "$n"; return; }
    n=$N
  fi
  IFS=, read -r -a kvs <<<"$REPS"
  for kv in "${kvs[@]}"; do [ "${kv%%=*}" = "$1" ] && n=${kv#*=}; done
  echo "$n"
}

# skip_cell WL RUNNER: cells that cannot run (reported n/a, not FAIL)
skip_cell() { [ "$1" = install ] && [ "$2" = vroot ] && [ "$VROOT_HAS_STAGE" = 0 ]; }

# ------------------------------------------------------------ workloads
# prepare_run WL RUNNER: fresh tree (untimed); sets CWD, CMD, STAGE, RUNDIR
prepare_run() {
  local wl=$1 runner=$2 dry=${DRY:-0} cp=cp
  RUNDIR=$WORK/run/$runner
  STAGE=$RUNDIR/stage    # vroot's --stage dir, or DESTDIR
  if [ "$dry" = 0 ]; then
    chmod -R u+rwX "$RUNDIR" 2>/dev/null; rm -rf "$RUNDIR"; mkdir -p "$STAGE"
  else cp=:; fi
  CWD=$RUNDIR
  case $wl in
    stat-storm) CMD='ls -lR /usr/lib /usr/include >/dev/null' ;;
    exec-storm) CMD='i=0; while [ $i -lt 500 ]; do /bin/true; i=$((i+1)); done' ;;
    configure)  $cp -a "$WORK/pristine/hello" "$RUNDIR/src"; CWD=$RUNDIR/src
                CMD='./configure --prefix=/usr' ;;
    compile)    $cp -a "$WORK/pristine/lua5.4" "$RUNDIR/src"; CWD=$RUNDIR/src
                CMD='make -j2' ;;
    zlib)       $cp -a "$WORK/pristine/zlib" "$RUNDIR/src"; CWD=$RUNDIR/src
                CMD='./configure && make -j2' ;;
    install)    $cp -a "$WORK/pristine/hello-built" "$RUNDIR/src"; CWD=$RUNDIR/src
                if [ "$runner" = vroot ]; then CMD='make install'     # lands in the stage
                else CMD="make install DESTDIR='$STAGE'"; fi ;;
    *) log "unknown workload $wl"; return 1 ;;
  esac
  CMD="cd '$CWD' && $CMD"
}
# check_run WL: extra success check after exit status 0
check_run() {
  case $1 in
    configure) [ -f "$CWD/config.status" ] ;;
    compile) [ -x "$CWD/src/lua" ] ;;
    zlib) [ -f "$CWD/libz.a" ] ;;
    install) [ -n "$(find "$STAGE" -path '*/usr/bin/hello' -type f 2>/dev/null | head -1)" ] ;;
    *) true ;;
  esac
}
cleanup_run() { chmod -R u+rwX "$RUNDIR" 2>/dev/null; rm -rf "$RUNDIR"; }

# ------------------------------------------------------------ runners
# runner_prefix RUNNER STAGE: sets array PFX, the command prefix of RUNNER
runner_prefix() {
  case $1 in
    native) PFX=() ;;
    vroot) if [ "$VROOT_HAS_STAGE" = 1 ]; then PFX=("$VROOT" --stage "$2" --); else PFX=("$VROOT" --); fi ;;
    strace) PFX=(strace -f -qq -o /dev/null) ;;
    proot) PFX=(proot -r /) ;;
    fakechroot) PFX=(fakechroot) ;;
    fakeroot) PFX=(fakeroot) ;;
    *) PFX=(false) ;;
  esac
  if [ -n "$PIN" ]; then PFX=(taskset -c "$PIN" "${PFX[@]}"); fi
}

# Before a run, wait up to QUIET_WAIT s for the machine to be idle: < 0.15 CPU
# busy over a 0.25 s sample. Returns 1 if it did not get idle in time.
wait_quiet() {
  [ "$QUIET_WAIT" -gt 0 ] 2>/dev/null || return 0
  local end=$((SECONDS + QUIET_WAIT)) c u n sy idle io irq sirq st rest b0
  while :; do
    read -r c u n sy idle io irq sirq st rest </proc/stat; b0=$((u + n + sy + irq + sirq))
    sleep 0.25
    read -r c u n sy idle io irq sirq st rest </proc/stat
    [ $((u + n + sy + irq + sirq - b0)) -le $((HZ * 15 / 400)) ] && return 0
    [ $SECONDS -ge $end ] && return 1
  done
}
# busy jiffies of the machine, and CPU jiffies of this shell's reaped children
cpu_sample() {
  local c u n sy idle io irq sirq st rest l
  read -r c u n sy idle io irq sirq st rest </proc/stat
  read -r -a l </proc/$BASHPID/stat
  CPU_BUSY=$((u + n + sy + irq + sirq)); CPU_KIDS=$((l[15] + l[16]))
}

# timed_run WL RUNNER REP: one run; sets T_SECS T_RC T_USER T_SYS T_FOREIGN T_IDLE
timed_run() {
  local wl=$1 runner=$2 rep=$3 logf=$OUT/logs/$1.$2.$3.log t0 t1 b0 k0 tf rc
  prepare_run "$wl" "$runner" || { T_SECS=0 T_RC=253 T_USER=0 T_SYS=0 T_FOREIGN=0 T_IDLE=1; return; }
  runner_prefix "$runner" "$STAGE"
  T_IDLE=1; wait_quiet || T_IDLE=0
  tf=$RUNDIR.time
  cpu_sample; b0=$CPU_BUSY; k0=$CPU_KIDS
  local TIMEFORMAT='%3U %3S'
  t0=$EPOCHREALTIME
  { time {
      (cd "$CWD" && exec timeout -k 10 "$RUN_TIMEOUT" "${PFX[@]}" /bin/sh -c "$CMD") >"$logf" 2>&1 </dev/null
      rc=$?
  }; } 2>"$tf"
  t1=$EPOCHREALTIME
  cpu_sample
  read -r T_USER T_SYS <"$tf"; rm -f "$tf"
  if [ $rc = 0 ] && ! check_run "$wl"; then rc=254; echo "run.sh: success check of $wl failed" >>"$logf"; fi
  T_RC=$rc
  T_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
  T_FOREIGN=$(awk -v b=$((CPU_BUSY - b0)) -v k=$((CPU_KIDS - k0)) -v hz="$HZ" 'BEGIN{f=(b-k)/hz; if(f<0)f=0; printf "%.2f", f}')
  cleanup_run
  [ $rc = 0 ] && rm -f "$logf"      # keep the logs of failed runs only
  return 0
}

# ------------------------------------------------------------ report
median() { sort -g | awk '{a[NR]=$1} END{if(NR==0)exit; if(NR%2) printf "%.3f", a[(NR+1)/2]; else printf "%.3f", (a[NR/2]+a[NR/2+1])/2}'; }
col() { awk -F'\t' -v w="$1" -v r="$2" -v c="$3" '$1==w && $3==r && $5==0 {print $c}' "$RAW"; }
cell_median() { col "$1" "$2" 4 | median; }
cell_fail_rc() { awk -F'\t' -v w="$1" -v r="$2" '$1==w && $3==r && $5!=0 {print $5; exit}' "$RAW"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.2f", a/b; else printf "?"}'; }
versions() {
  local pk v
  for pk in strace proot fakechroot fakeroot gcc-12 make dash coreutils libc6; do
    v=$(dpkg-query -W -f='${Version}' "$pk" 2>/dev/null) && printf '%s %s\n' "$pk" "$v"
  done | paste -sd';' | sed 's/;/; /g'
}
table_header() {
  printf '| workload (reps) |'; for r in "${ACTIVE[@]}"; do printf ' %s |' "$r"; done; echo
  printf '|---|'; for r in "${ACTIVE[@]}"; do printf -- '---:|'; done; echo
}
report() {
  local wl r m nat f s
  echo "# vroot bench results"
  echo
  echo "- date: ${RUN_DATE:-$(date -u '+%Y-%m-%d %H:%M UTC')} (end of the run)"
  echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME")"
  if [ -n "$PIN" ]; then echo "- pinned: yes, every runner (native included) started under \`taskset -c $PIN\`"
  else echo "- pinned: no (set PIN=0 to start every runner under \`taskset -c 0\`)"; fi
  echo "- repetitions: $(for wl in "${WL_LIST[@]}"; do printf '%s %s, ' "$wl" "$(reps_for "$wl")"; done | sed 's/, $//'); interleaved round-robin (start rotated per rep); before each workload: $( { [ "$SYSCOUNT" = 1 ] && echo 'one untimed native run under strace -f -c (syscall count, warm-up)'; [ "$WARMUP" -gt 0 ] && echo "$WARMUP untimed native warm-up run(s)"; } | paste -sd'+' | sed 's/+/, then /')"
  echo "- ran as: $RAN_AS, started as ${BENCH_STARTED_AS:-?}"
  echo "- vroot: $VROOT_DESC; $( [ "$VROOT_HAS_STAGE" = 1 ] && echo "invoked as \`vroot --stage <fresh dir> -- CMD\`" || echo "no stage: invoked as \`vroot -- CMD\` (default profile)")"
  echo "- versions: $(versions)"
  echo "- sources: $(awk -F'\t' '{printf "%s%s", (NR>1?", ":""), $2}' "$OUT/sources.txt")"
  echo "- runs that started while the machine was busy (QUIET_WAIT=${QUIET_WAIT}s expired): $(awk -F'\t' 'NR>1 && $9==0{n++} END{print n+0}' "$RAW") of $(awk 'END{print NR-1}' "$RAW")"
  echo "- total harness time: $(awk -v a="$T_START" -v b="$T_END" 'BEGIN{printf "%.0f s", b-a}')"
  echo
  echo "Median wall seconds (ratio to the native median of this run). FAIL = non-zero exit or failed output check (rc shown; logs in \`$OUT/logs/\`)."
  echo
  table_header
  for wl in "${WL_LIST[@]}"; do
    printf '| %s (%s) |' "$wl" "$(reps_for "$wl")"
    nat=$(cell_median "$wl" native)
    for r in "${ACTIVE[@]}"; do
      if skip_cell "$wl" "$r"; then printf ' n/a (needs the stage) |'; continue; fi
      f=$(cell_fail_rc "$wl" "$r"); m=$(cell_median "$wl" "$r")
      if [ -n "$f" ] || [ -z "$m" ]; then printf ' FAIL (rc %s) |' "${f:-?}"
      elif [ "$r" = native ]; then printf ' %s |' "$m"
      else printf ' %s (%s×) |' "$m" "$(ratio "$m" "$nat")"; fi
    done; echo
  done
  echo
  echo "Min–max wall seconds of the successful runs:"
  echo
  table_header
  for wl in "${WL_LIST[@]}"; do
    printf '| %s |' "$wl"
    for r in "${ACTIVE[@]}"; do
      printf ' %s |' "$(col "$wl" "$r" 4 | sort -g | awk 'NR==1{a=$1} {b=$1} END{if(NR) printf "%.2f–%.2f", a, b}')"
    done; echo
  done
  echo
  echo "Median CPU seconds, user + sys of the runner's whole process tree (bash \`time\`: tracer and tracees; not"
  echo "fakeroot's daemon faked), ratio to native, and the share of it spent in the kernel. Less disturbed by other"
  echo "load on the machine than wall time:"
  echo
  table_header
  for wl in "${WL_LIST[@]}"; do
    printf '| %s |' "$wl"
    nat=$(awk -F'\t' -v w="$wl" '$1==w && $3=="native" && $5==0 {print $6+$7}' "$RAW" | median)
    for r in "${ACTIVE[@]}"; do
      m=$(awk -F'\t' -v w="$wl" -v r="$r" '$1==w && $3==r && $5==0 {print $6+$7}' "$RAW" | median)
      s=$(awk -F'\t' -v w="$wl" -v r="$r" '$1==w && $3==r && $5==0 {print ($6+$7>0) ? 100*$7/($6+$7) : 0}' "$RAW" | median)
      if skip_cell "$wl" "$r"; then printf ' n/a |'
      elif [ -z "$m" ]; then printf ' – |'
      elif [ "$r" = native ]; then printf ' %.1f (%.0f%% sys) |' "$m" "$s"
      else printf ' %.1f (%s×, %.0f%% sys) |' "$m" "$(ratio "$m" "$nat")" "$s"; fi
    done; echo
  done
  if [ ${#NSYS[@]} -gt 0 ]; then
    echo
    echo "Syscalls per workload, counted natively with \`strace -f -c\` (the untimed run); \"traced set\" = those whose"
    echo "name is a KindPath/KindSpecial row of tracer/sysent_*.go, i.e. what vroot's seccomp filter sends to the tracer"
    echo "(an upper estimate: NULL-path calls are not sent). Overhead per call, µs = (median(runner) − median(native)) /"
    echo "calls, from wall time / from CPU time; vroot's is divided by its traced set, the others by all syscalls."
    echo "For exec-storm and configure this lumps the cost of fork/exec/exit events into the calls."
    echo
    printf '| workload | syscalls | traced set (vroot) |'
    for r in "${ACTIVE[@]}"; do [ "$r" = native ] || printf ' %s wall / CPU |' "$r"; done; echo
    printf '|---|---:|---:|'; for r in "${ACTIVE[@]}"; do [ "$r" = native ] || printf -- '---:|'; done; echo
    for wl in "${WL_LIST[@]}"; do
      [ -n "${NSYS[$wl]:-}" ] || continue
      printf '| %s | %s | %s |' "$wl" "${NSYS[$wl]}" "${NTRAP[$wl]:-?}"
      nat=$(cell_median "$wl" native)
      local natc; natc=$(awk -F'\t' -v w="$wl" '$1==w && $3=="native" && $5==0 {print $6+$7}' "$RAW" | median)
      for r in "${ACTIVE[@]}"; do
        [ "$r" = native ] && continue
        m=$(cell_median "$wl" "$r"); f=$(cell_fail_rc "$wl" "$r")
        local mc; mc=$(awk -F'\t' -v w="$wl" -v r="$r" '$1==w && $3==r && $5==0 {print $6+$7}' "$RAW" | median)
        local n=${NSYS[$wl]}; [ "$r" = vroot ] && n=${NTRAP[$wl]:-0}
        if skip_cell "$wl" "$r"; then printf ' n/a |'
        elif [ -n "$f" ] || [ -z "$m" ] || [ -z "$nat" ] || [ "${n:-0}" = 0 ]; then printf ' – |'
        else printf ' %s |' "$(awk -v a="$m" -v b="$nat" -v c="$mc" -v d="$natc" -v n="$n" 'BEGIN{printf "%.1f / %.1f", (a-b)*1e6/n, (c-d)*1e6/n}')"; fi
      done; echo
    done
  fi
  echo
  echo "Noise: CPU seconds used outside the measured process tree during the timed runs, summed over the reps"
  echo "(/proc/stat busy minus the runner's own CPU; includes fakeroot's faked and other users of the machine), of"
  echo "wall × $(nproc) CPUs available:"
  echo
  table_header
  for wl in "${WL_LIST[@]}"; do
    printf '| %s |' "$wl"
    for r in "${ACTIVE[@]}"; do
      printf ' %s |' "$(awk -F'\t' -v w="$wl" -v r="$r" -v c="$(nproc)" '$1==w && $3==r {f+=$8; t+=$4} END{if(t>0) printf "%.1f of %.0f", f, t*c}' "$RAW")"
    done; echo
  done
  if [ "$MICRO" = 1 ] && [ -s "$MICRO_RAW" ]; then
    local nm ns ms mf
    nm=$(awk -F'\t' '$2=="native" && $3=="stat"{print $6}' "$MICRO_RAW" | median)
    nf=$(awk -F'\t' '$2=="native" && $3=="fstat"{print $6}' "$MICRO_RAW" | median)
    echo
    echo "Micro-benchmark \`bench/stat-loop.c\`: $MICRO_N \`stat(\"/usr/include/stdio.h\")\` then $MICRO_N \`fstat(fd)\`, timed inside"
    echo "the program (start-up excluded), median of $MICRO_REPS reps. Overhead = (runner − native) per call."
    echo
    echo '| runner | stat ns/call | fstat ns/call | stat overhead µs/call | fstat overhead µs/call |'
    echo '|---|---:|---:|---:|---:|'
    for r in "${MICRO_LIST[@]}"; do
      has "$r" "${ACTIVE[@]}" || continue
      if awk -F'\t' -v r="$r" '$2==r && $3=="FAIL"{f=1} END{exit !f}' "$MICRO_RAW"; then
        echo "| $r | FAIL | FAIL | | |"; continue
      fi
      ms=$(awk -F'\t' -v r="$r" '$2==r && $3=="stat"{print $6}' "$MICRO_RAW" | median)
      mf=$(awk -F'\t' -v r="$r" '$2==r && $3=="fstat"{print $6}' "$MICRO_RAW" | median)
      printf '| %s | %.0f | %.0f | %s | %s |\n' "$r" "$ms" "$mf" \
        "$( [ "$r" = native ] && echo – || awk -v a="$ms" -v b="$nm" 'BEGIN{printf "%.2f", (a-b)/1000}')" \
        "$( [ "$r" = native ] && echo – || awk -v a="$mf" -v b="$nf" 'BEGIN{printf "%.2f", (a-b)/1000}')"
    done
  fi
  echo
  echo "Runner prefixes (each workload runs as \`PREFIX /bin/sh -c 'cd TREE && CMD'\`, started in TREE):"
  echo
  for r in "${ACTIVE[@]}"; do runner_prefix "$r" "<stage>"; echo "    $r: ${PFX[*]:-(none)}"; done
  echo
  echo "Workload commands:"
  echo
  for wl in "${WL_LIST[@]}"; do
    DRY=1 prepare_run "$wl" native && echo "    $wl: ${CMD#*&& }" | sed "s|$STAGE|<stage>|"
  done
  local fails; fails=$(awk -F'\t' 'NR>1 && $5!=0' "$RAW")
  if [ -n "$fails" ]; then
    echo; echo "Failed runs (workload rep runner seconds rc ...; logs in $OUT/logs/):"; echo
    printf '%s\n' "$fails" | sed 's/^/    /'
  fi
}

# ------------------------------------------------------------ active runners
select_runners() {
  ACTIVE=()
  local r
  for r in "${RUNNER_LIST[@]}"; do
    case $r in native|vroot|strace|proot|fakechroot|fakeroot) ACTIVE+=("$r") ;;
      *) die "unknown runner $r (known: native,vroot,strace,proot,fakechroot,fakeroot)" ;; esac
  done
  has native "${ACTIVE[@]}" || die "the native runner is required (ratios are to native)"
}

if [ "${BENCH_PHASE:-}" = measure ]; then
  select_runners
  measure
  exit 0
fi
if [ "${BENCH_PHASE:-}" = report ]; then   # BENCH_PHASE=report OUT=DIR bench/run.sh [-w ..] [-r ..]
  [ -n "$OUT" ] || die "set OUT to the directory of a finished run"
  select_runners
  TRAPPED_RE=$(grep -o 'Name: "[a-z0-9_]*", Kind: Kind\(Path\|Special\)' \
    "$REPO/tracer/sysent_$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/').go" 2>/dev/null | cut -d'"' -f2 | paste -sd'|')
  VROOT=$OUT/vroot VROOT_DESC=${VROOT_DESC:-$(cat "$OUT/vroot-desc.txt" 2>/dev/null)}
  report_only
  exit 0
fi

# =============================================================== phase 1: prepare
# (as the invoking user: check tools, build vroot and stat-loop, fetch sources)
select_runners
for wl in "${WL_LIST[@]}"; do
  case $wl in stat-storm|exec-storm|configure|compile|zlib|install) ;; *) die "unknown workload $wl" ;; esac
done
[ -n "$OUT" ] || OUT=/tmp/vroot-bench/out-$(date -u +%Y%m%d-%H%M%S)

# tool check: name what is missing, with the Debian package that has it
missing=() pkgs=()
need() { command -v "$1" >/dev/null 2>&1 || { missing+=("$1"); pkgs+=("$2"); }; }
need gcc gcc; need make make; need tar tar; need bzip2 bzip2; need gzip gzip; need xz xz-utils
need timeout coreutils; need awk mawk; need find findutils
[ -z "$VROOT_BIN" ] && need go "golang (Go >= the version in go.mod)"
[ -n "$PIN" ] && need taskset util-linux
[ "$(id -u)" = 0 ] && [ -n "${BENCH_USER-x}" ] && need setpriv util-linux
{ [ "$SYSCOUNT" = 1 ] || has strace "${ACTIVE[@]}"; } && need strace strace
has proot "${ACTIVE[@]}" && need proot proot
has fakechroot "${ACTIVE[@]}" && need fakechroot fakechroot
has fakeroot "${ACTIVE[@]}" && need fakeroot fakeroot
[ -e /usr/include/stdio.h ] || { missing+=("/usr/include/stdio.h"); pkgs+=("libc6-dev"); }
if [ ${#missing[@]} -gt 0 ]; then
  log "missing: ${missing[*]}"
  log "install with: apt-get install -y $(printf '%s\n' "${pkgs[@]}" | grep -v ' ' | sort -u | tr '\n' ' ')(see bench/README.md)"
  log "or leave a runner out with -r (e.g. -r native,vroot,strace)"
  exit 2
fi

mkdir -p "$OUT" "$SRC_CACHE" || die "cannot create $OUT or $SRC_CACHE"
OUT=$(readlink -f "$OUT")
VROOT=$OUT/vroot
if [ -n "$VROOT_BIN" ]; then
  cp "$VROOT_BIN" "$VROOT" || die "cannot copy $VROOT_BIN"
  VROOT_DESC="$VROOT_BIN"
else
  log "building vroot: go build -o $VROOT ./cmd/vroot"
  (cd "$REPO" && go build -o "$VROOT" ./cmd/vroot) || die "go build failed"
  VROOT_DESC="built from $REPO at $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
  # uncommitted changes that can reach the binary (tests, bench/ and integration/ cannot)
  dirty=$(git -C "$REPO" status --porcelain -- . ':!bench' ':!integration' ':!*_test.go' ':!*.md' 2>/dev/null | awk '{print $2}' | paste -sd' ')
  [ -n "$dirty" ] && VROOT_DESC="$VROOT_DESC + uncommitted changes to: $dirty"
fi
VROOT_DESC="$VROOT_DESC, $("$VROOT" version 2>/dev/null | head -1)"
printf '%s\n' "$VROOT_DESC" >"$OUT/vroot-desc.txt"
gcc -O2 -Wall -o "$OUT/stat-loop" "$BENCH_DIR/stat-loop.c" || die "cannot build stat-loop"

# sources: the orig tarballs of the Debian source packages (debian/ patches are not needed)
for p in hello lua5.4 zlib; do
  ls "$SRC_CACHE/${p}"_*.orig.tar.* >/dev/null 2>&1 && continue
  log "fetching the $p source: apt-get source --download-only $p (into $SRC_CACHE)"
  (cd "$SRC_CACHE" && apt-get source --download-only "$p") >"$OUT/apt-source-$p.log" 2>&1 || {
    cat "$OUT/apt-source-$p.log" >&2
    die "apt-get source $p failed: deb-src entries are needed, see the one-time setup in bench/README.md"
  }
done
chmod -R a+rX "$SRC_CACHE" "$OUT" 2>/dev/null    # best effort: the bench user reads them
# the syscalls vroot's seccomp filter sends to the tracer: KindPath/KindSpecial rows of its table
TRAPPED_RE=""
sysent=$REPO/tracer/sysent_$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/').go
[ -r "$sysent" ] && TRAPPED_RE=$(grep -o 'Name: "[a-z0-9_]*", Kind: Kind\(Path\|Special\)' "$sysent" | cut -d'"' -f2 | paste -sd'|')

export N REPS WORKLOADS RUNNERS OUT WORK SRC_CACHE PIN WARMUP QUIET_WAIT RUN_TIMEOUT SYSCOUNT \
  MICRO MICRO_N MICRO_REPS MICRO_RUNNERS VROOT VROOT_DESC TRAPPED_RE BENCH_PHASE=measure
if [ "$(id -u)" = 0 ] && [ -n "${BENCH_USER-x}" ]; then
  if [ -z "${BENCH_USER+x}" ]; then
    if id builder >/dev/null 2>&1; then BENCH_USER=builder; else BENCH_USER=65534; fi
  fi
  uid=$(id -u "$BENCH_USER" 2>/dev/null || echo "$BENCH_USER")
  gid=$(id -g "$BENCH_USER" 2>/dev/null || echo "$uid")
  case $uid$gid in *[!0-9]*) die "unknown BENCH_USER $BENCH_USER" ;; esac
  mkdir -p "$WORK" && chown -R "$uid:$gid" "$WORK" "$OUT" || die "cannot hand $WORK and $OUT to uid $uid"
  log "dropping to uid $uid gid $gid (BENCH_USER=$BENCH_USER) for the measurements"
  exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all \
    env HOME="$WORK/home" USER="$(id -un "$uid" 2>/dev/null || echo "$uid")" BENCH_STARTED_AS=root \
    bash "$SELF"
fi
export HOME=${HOME:-$WORK/home}
exec bash "$SELF"
