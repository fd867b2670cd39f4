#!/usr/bin/env bash
# cli_bench.sh seq|par N IMAGE - the docker CLI baseline: `docker run -d -p
# 127.0.0.1::8080` then a shell loop connecting to the mapped port every
# 100 ms (what suites without a harness do). Prints ms per container (and
# "total ms" for par), as harness_bench does; containers removed after.
set -euo pipefail
mode=$1 n=$2 image=$3
now() { date +%s%3N; }
one() {
    local t0 id port
    t0=$(now)
    id=$(docker run -d -p 127.0.0.1::8080 --label io.wpdock.bench=cli "$image" httpd -f -p 8080 -h /)
    port=$(docker port "$id" 8080/tcp | head -n 1 | sed 's/.*://')
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.1; done
    echo $(($(now) - t0))
    echo "$id" >>"$ids"
}
ids=$(mktemp)
trap 'xargs -r docker rm -f <"$ids" >/dev/null 2>&1 || true; rm -f "$ids"' EXIT
if [ "$mode" = seq ]; then
    for _ in $(seq "$n"); do
        one
        xargs -r docker rm -f <"$ids" >/dev/null
        : >"$ids"
    done
else
    t0=$(now)
    outs=()
    for i in $(seq "$n"); do
        outs+=("$(mktemp)")
        one >"${outs[$((i - 1))]}" &
    done
    wait
    cat "${outs[@]}"
    echo "total $(($(now) - t0))"
    rm -f "${outs[@]}"
fi
