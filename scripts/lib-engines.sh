# lib-engines.sh - bash helpers shared by scripts/engines-*, scripts/test and
# scripts/quickstart: logging, Debian package installation, background daemon
# bookkeeping (pid files), readiness polling and small Engine API helpers.
#
# Source it; it defines functions only (plus a few defaults) and changes no
# shell options. Callers set WPD_TAG to prefix their log lines.
# shellcheck shell=bash

export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"

: "${WPD_TAG:=wpdock}"
: "${WPDOCK_ENGINES_DIR:=/tmp/wpdock-engines}"

# ---------------------------------------------------------------- logging
wpd_log() { printf '[%s] %s\n' "$WPD_TAG" "$*" >&2; }
wpd_warn() { printf '[%s] WARNING: %s\n' "$WPD_TAG" "$*" >&2; }
wpd_die() {
    printf '[%s] ERROR: %s\n' "$WPD_TAG" "$*" >&2
    exit 1
}
wpd_now_ms() { echo $(($(date +%s%N) / 1000000)); }
wpd_since_ms() { echo $(($(wpd_now_ms) - $1)); }
# wpd_tail FILE: show the end of a log file on stderr, framed
wpd_tail() {
    [ -f "$1" ] || return 0
    printf -- '----- last lines of %s -----\n' "$1" >&2
    tail -n "${2:-30}" "$1" >&2 || true
    printf -- '----- end of %s -----\n' "$1" >&2
}

# ---------------------------------------------------------------- packages
# wpd_missing_pkgs PKG...: print the packages that are not installed
wpd_missing_pkgs() {
    local have p out=''
    have=" $(dpkg-query -W -f='${Package}=${Status}\n' "$@" 2>/dev/null |
        sed -n 's/=install ok installed$//p' | tr '\n' ' ')"
    for p in "$@"; do
        case $have in *" $p "*) ;; *) out="$out $p" ;; esac
    done
    printf '%s' "${out# }"
}
# wpd_ensure_pkgs LOGFILE PKG...: apt-get update + install only what is missing.
# WPDOCK_SKIP_APT=1 turns this into a check that only warns.
wpd_ensure_pkgs() {
    local logf=$1 missing t
    shift
    missing=$(wpd_missing_pkgs "$@")
    [ -n "$missing" ] || return 0
    if [ "${WPDOCK_SKIP_APT:-0}" = 1 ]; then
        wpd_warn "packages missing (WPDOCK_SKIP_APT=1, not installing): $missing"
        return 0
    fi
    [ "$(id -u)" = 0 ] || wpd_die "packages missing: $missing (run as root, or: apt-get install $missing)"
    mkdir -p "$(dirname "$logf")"
    wpd_log "installing missing packages: $missing"
    t=$(wpd_now_ms)
    if ! apt-get update -q >"$logf" 2>&1; then
        wpd_tail "$logf" 20
        wpd_die "apt-get update failed (log: $logf)"
    fi
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >>"$logf" 2>&1; then
        wpd_tail "$logf" 20
        wpd_die "apt-get install $missing failed (log: $logf)"
    fi
    wpd_log "packages installed in $(wpd_since_ms "$t") ms"
}

# ---------------------------------------------------------------- processes
# wpd_alive PID: the process exists and is not a zombie (PID 1 may reap late)
wpd_alive() {
    local st
    [ -n "${1:-}" ] || return 1
    kill -0 "$1" 2>/dev/null || return 1
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "${st:0:1}" != Z ]
}
# wpd_owned RUNDIR NAME COMM: print the pid recorded in RUNDIR/NAME.pid when that
# process is alive and still runs the program COMM (protects against pid reuse)
wpd_owned() {
    local f=$1/$2.pid pid
    [ -f "$f" ] || return 1
    pid=$(tr -dc 0-9 <"$f")
    wpd_alive "$pid" || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$3" ] || return 1
    printf '%s\n' "$pid"
}
# wpd_spawn RUNDIR NAME LOGFILE CMD...: run CMD detached in its own session with
# stdin closed and output appended to LOGFILE; RUNDIR/NAME.pid gets CMD's pid.
# Descriptors above 2 (such as a held lock) are not passed on.
wpd_spawn() {
    local rundir=$1 name=$2 logf=$3 i
    shift 3
    rm -f "$rundir/$name.pid"
    printf '\n===== %s: %s\n' "$(date -u +%FT%TZ)" "$*" >>"$logf"
    rundir=$(cd "$rundir" && pwd)
    # the daemon runs in the state directory, not in the caller's (a
    # checkout): Podman's conmon, for one, writes files such as "oom" into
    # its working directory
    # shellcheck disable=SC2016 # $$ and $0 belong to the inner shell
    (cd "$rundir" && exec setsid sh -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
        "$rundir/$name.pid" "$@") </dev/null >>"$logf" 2>&1 8>&- 9>&- &
    for i in $(seq 1 50); do
        [ -s "$rundir/$name.pid" ] && return 0
        sleep 0.1
    done
    wpd_tail "$logf"
    wpd_die "$name did not start (no pid file after 5 s)"
}
# wpd_wait_ready DESC PID LOGFILE TIMEOUT CMD...: poll CMD every 0.1 s until it
# succeeds. Fails with the log's last lines if PID (may be empty) exits or
# TIMEOUT seconds pass.
wpd_wait_ready() {
    local desc=$1 pid=$2 logf=$3 timeout=$4 deadline
    shift 4
    deadline=$(($(date +%s) + timeout))
    until "$@" >/dev/null 2>&1; do
        if [ -n "$pid" ] && ! wpd_alive "$pid"; then
            wpd_tail "$logf"
            wpd_die "$desc exited while starting (log: $logf)"
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            wpd_tail "$logf"
            wpd_die "$desc not ready after ${timeout}s (log: $logf)"
        fi
        sleep 0.1
    done
}
# wpd_wait_ready_quiet TIMEOUT CMD...: poll CMD every 0.1 s; fail after TIMEOUT s
wpd_wait_ready_quiet() {
    local deadline=$(($(date +%s) + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}
# wpd_stop RUNDIR NAME COMM TIMEOUT: SIGTERM the process recorded in
# RUNDIR/NAME.pid (only if it still runs COMM), SIGKILL after TIMEOUT seconds
wpd_stop() {
    local rundir=$1 name=$2 comm=$3 timeout=$4 pid i
    [ -f "$rundir/$name.pid" ] || return 0
    if ! pid=$(wpd_owned "$rundir" "$name" "$comm"); then
        wpd_log "$name: not running any more (stale pid file removed)"
        rm -f "$rundir/$name.pid"
        return 0
    fi
    wpd_log "$name: stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
        wpd_alive "$pid" || break
        sleep 0.1
    done
    if wpd_alive "$pid"; then
        wpd_warn "$name: pid $pid still running after ${timeout}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$rundir/$name.pid"
}

# ---------------------------------------------------------------- network helpers
# wpd_port_busy PORT: something accepts TCP connections on 127.0.0.1:PORT
wpd_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# wpd_urlencode STRING: percent-encode everything except unreserved characters
wpd_urlencode() {
    local s=$1 out='' c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [a-zA-Z0-9.~_-]) out+=$c ;;
        *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}
# wpd_registry_auth USER PASS SERVER: an X-Registry-Auth header value. The
# engines want base64url *with* '=' padding; unpadded, dockerd silently drops
# the credentials and podman answers 400.
wpd_registry_auth() {
    printf '{"username":"%s","password":"%s","serveraddress":"%s"}' "$1" "$2" "$3" |
        base64 -w0 | tr '+/' '-_'
}
# wpd_api SOCKET CURLARGS...: curl against an Engine API unix socket
wpd_api() {
    local sock=$1
    shift
    curl -sS -m "${WPD_API_TIMEOUT:-120}" --unix-socket "$sock" "$@"
}
# wpd_cli HOST ARGS...: the docker CLI against HOST, ignoring the caller's
# DOCKER_* settings (it speaks to podman's compat API as well)
wpd_cli() {
    local host=$1
    shift
    env -u DOCKER_HOST -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH -u DOCKER_CONTEXT \
        -u DOCKER_API_VERSION docker -H "$host" "$@"
}

# ---------------------------------------------------------------- test leftovers
# wpd_leftovers HOST: print "container <id> <name>", "network <name>" and
# "volume <name>" lines for what a test run leaves behind on the engine at
# HOST: containers labelled wp_uuid, wpdock.engines or io.wpdock.session (the
# test harness's), networks and volumes whose names start with wp_. Fails if
# the engine cannot be listed.
wpd_leftovers() {
    local host=$1 out
    out=$(wpd_cli "$host" ps -a --filter label=wp_uuid --format '{{.ID}} {{.Names}}') || return 1
    [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/container /'
    out=$(wpd_cli "$host" ps -a --filter label=wpdock.engines --format '{{.ID}} {{.Names}}') || return 1
    [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/container /'
    out=$(wpd_cli "$host" ps -a --filter label=io.wpdock.session --format '{{.ID}} {{.Names}}') || return 1
    [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/container /'
    out=$(wpd_cli "$host" network ls --filter name=wp_ --format '{{.Name}}') || return 1
    printf '%s\n' "$out" | grep '^wp_' | sed 's/^/network /' || true
    out=$(wpd_cli "$host" volume ls --filter name=wp_ --format '{{.Name}}') || return 1
    printf '%s\n' "$out" | grep '^wp_' | sed 's/^/volume /' || true
}
# wpd_created_epoch HOST KIND REF: creation time (epoch seconds) of a
# container, network or volume; empty if unknown
wpd_created_epoch() {
    local host=$1 kind=$2 ref=$3 fmt='{{.Created}}' ts
    [ "$kind" = volume ] && fmt='{{.CreatedAt}}'
    ts=$(wpd_cli "$host" "$kind" inspect --format "$fmt" "$ref" 2>/dev/null) || return 0
    # Go's time.String() form: "2006-01-02 15:04:05.999 +0000 UTC [m=+1.2]"
    ts=$(printf '%s' "$ts" | sed 's/ m=[-+].*$//; s/ \([-+][0-9]\{4\}\) [A-Z]\{3,5\}$/ \1/')
    date -d "$ts" +%s 2>/dev/null || true
}
# wpd_remove_leftovers HOST [MIN_AGE]: remove what wpd_leftovers lists, except
# objects created less than MIN_AGE seconds ago (they may belong to a test run
# still in progress on a shared machine). Prints "<removed> <kept>".
wpd_remove_leftovers() {
    local host=$1 min_age=${2:-0} kind a n=0 kept=0 list now created
    list=$(wpd_leftovers "$host") || return 1
    now=$(date +%s)
    while read -r kind a _; do
        [ -n "$kind" ] || continue
        if [ "$min_age" -gt 0 ]; then
            created=$(wpd_created_epoch "$host" "$kind" "$a")
            if [ -n "$created" ] && [ $((now - created)) -lt "$min_age" ]; then
                kept=$((kept + 1))
                continue
            fi
        fi
        case $kind in
        container) wpd_cli "$host" rm -f -v "$a" >/dev/null 2>&1 || true ;;
        network) wpd_cli "$host" network rm "$a" >/dev/null 2>&1 || true ;;
        volume) wpd_cli "$host" volume rm "$a" >/dev/null 2>&1 || true ;;
        esac
        n=$((n + 1))
    done <<<"$list"
    echo "$n $kept"
}
