# shellcheck shell=bash
# Shared by test/run_all.sh, test/demo.sh, test/bench/*.sh and test/corpus/*.sh:
# install what is missing, build and install the extension, and run throwaway clusters.
#
# A throwaway cluster lives in its own temporary directory (data, socket, log), listens on no
# TCP address, runs as a non-root OS user (initdb refuses root) and is stopped and removed by
# ms_cluster_stop, which every script calls from an EXIT trap. Nothing here touches a cluster
# it did not start.

MS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MS_PACKAGES=(postgresql-15 postgresql-server-dev-15 postgresql-client-15 libboost-dev g++ make
             cmake libipc-run-perl python3 python3-alembic python3-psycopg2 sqitch libdbd-pg-perl)

ms_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
ms_die() { ms_log "ERROR: $*"; exit 1; }

ms_as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages that are missing. Debian's postgresql-common would create and
# start a "main" cluster on port 5432 on first install; we switch that off first.
ms_install_deps() {
    local missing=() p
    for p in "${MS_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    ms_log "installing: ${missing[*]}"
    ms_as_root mkdir -p /etc/postgresql-common
    if ! grep -qs '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then
        echo 'create_main_cluster = false' | ms_as_root tee -a /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    ms_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    ms_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
}

# The dbmate binary (npm package dbmate $MS_DBMATE_VERSION, the version ../shared/bench pins), installed
# once into a cache directory that the non-root test user can read; prints its path, or nothing
# when npm is missing or the registry cannot be reached.
MS_DBMATE_VERSION=2.36.0
ms_dbmate() {
    local cache=${MS_CACHE:-/var/tmp/migrations_schema_cache}/dbmate
    local bin=$cache/node_modules/@dbmate/linux-x64/bin/dbmate
    if [[ ! -x $bin ]] && command -v npm >/dev/null && mkdir -p "$cache"; then
        if ! (cd "$cache" && timeout 300 npm install --no-save --no-audit --no-fund \
            "dbmate@$MS_DBMATE_VERSION" >/dev/null 2>&1); then
            ms_log "dbmate could not be installed from npm (tests make its folder by hand)"
        fi
        chmod -R a+rX "${MS_CACHE:-/var/tmp/migrations_schema_cache}" 2>/dev/null || true
    fi
    [[ -x $bin ]] && echo "$bin"
    return 0
}

# node-pg-migrate $MS_NODE_PG_MIGRATE_VERSION with its driver pg $MS_NODE_PG_VERSION (npm),
# installed once into the same cache as dbmate (a directory of its own, so neither install
# prunes the other); prints the path of its command, or nothing when npm is missing or the
# registry cannot be reached.
MS_NODE_PG_MIGRATE_VERSION=9.0.0
MS_NODE_PG_VERSION=8.23.1
ms_node_pg_migrate() {
    local cache=${MS_CACHE:-/var/tmp/migrations_schema_cache}/node-pg-migrate
    local bin=$cache/node_modules/.bin/node-pg-migrate
    if [[ ! -x $bin ]] && command -v npm >/dev/null && mkdir -p "$cache"; then
        if ! (cd "$cache" && timeout 300 npm install --no-save --no-audit --no-fund \
            "node-pg-migrate@$MS_NODE_PG_MIGRATE_VERSION" "pg@$MS_NODE_PG_VERSION" >/dev/null 2>&1); then
            ms_log "node-pg-migrate could not be installed from npm (its part of the tests is skipped)"
        fi
        chmod -R a+rX "${MS_CACHE:-/var/tmp/migrations_schema_cache}" 2>/dev/null || true
    fi
    [[ -x $bin ]] && echo "$bin"
    return 0
}

ms_pg_config() { echo "${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"; }
ms_pgbin() { "$(ms_pg_config)" --bindir; }

# Builds and installs the extension into the PostgreSQL 15 that pg_config names.
ms_build_install() {
    local pgc
    pgc=$(ms_pg_config)
    ms_log "building and installing the extension"
    make -C "$MS_ROOT" -s -j2 PG_CONFIG="$pgc" >/dev/null || ms_die "build failed"
    ms_as_root make -C "$MS_ROOT" -s PG_CONFIG="$pgc" install >/dev/null || ms_die "install failed"
}

# Builds and installs the test-only module ms_selftest (test/selftest): the boundary's
# self-test, which the extension does not ship.
ms_build_install_tests() {
    local pgc
    pgc=$(ms_pg_config)
    make -C "$MS_ROOT/test/selftest" -s PG_CONFIG="$pgc" >/dev/null || ms_die "test module build failed"
    ms_as_root make -C "$MS_ROOT/test/selftest" -s PG_CONFIG="$pgc" install >/dev/null \
        || ms_die "test module install failed"
}

# The OS user that runs our servers: the current user, or `postgres` when we are root.
ms_run_user() {
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
        echo postgres
    else
        id -un
    fi
}

ms_as_run_user() {
    local u
    u=$(ms_run_user)
    if [[ $(id -un) == "$u" ]]; then "$@"; else runuser -u "$u" -- "$@"; fi
}

# ms_cluster_start NAME [extra postgres -c settings...]
# Starts a throwaway cluster and exports PGHOST, PGPORT, PGUSER, PGDATABASE, MS_CLUSTER_DIR.
ms_cluster_start() {
    local name=$1
    shift
    local dir port pgbin opts="" s
    pgbin=$(ms_pgbin)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/ms_${name}_XXXXXX")
    chmod 755 "$dir"
    chown "$(ms_run_user)" "$dir" 2>/dev/null || true
    port=$((20000 + RANDOM % 20000))
    ms_as_run_user "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; ms_die "initdb failed"; }
    for s in "$@"; do opts+=" -c $s"; done
    ms_as_run_user "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses='' $opts" start >/dev/null \
        || { cat "$dir/server.log" >&2; ms_die "could not start the cluster in $dir"; }
    export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres MS_CLUSTER_DIR=$dir
    export PATH=$pgbin:$PATH
    ms_log "cluster '$name' started: $dir (port $port)"
}

# Stops the cluster started by ms_cluster_start (by its own data directory) and removes it.
ms_cluster_stop() {
    [[ -n ${MS_CLUSTER_DIR:-} && -d $MS_CLUSTER_DIR/data ]] || return 0
    ms_as_run_user "$(ms_pgbin)/pg_ctl" -D "$MS_CLUSTER_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    if [[ -n ${MS_KEEP_CLUSTER:-} ]]; then
        ms_log "kept $MS_CLUSTER_DIR"
    else
        rm -rf "$MS_CLUSTER_DIR"
    fi
    MS_CLUSTER_DIR=
}

# ms_build_version VERSION DIR: the work tree copied into DIR and built there against
# PostgreSQL VERSION (fetched once by test/versions/setup.sh); prints that version's pg_config.
# Fails on a compiler warning or error, showing them (the whole log: DIR/build.log).
ms_build_version() {
    local pgc
    pgc=$(ms_as_root bash "$MS_ROOT/test/versions/setup.sh" "$1") || return 1
    ms_copy_sources "$2"
    if ! make -C "$2" -j2 PG_CONFIG="$pgc" >"$2/build.log" 2>&1 || grep -q 'warning:' "$2/build.log"; then
        grep -E 'warning:|error:|Error' "$2/build.log" >&2 || tail -20 "$2/build.log" >&2
        return 1
    fi
    echo "$pgc"
}

# ms_summary PASSED FAILED SKIPPED: a test run's last line ("N passed, N failed", and
# ", N skipped" when some were).
ms_summary() {
    if [[ $3 -gt 0 ]]; then echo "$1 passed, $2 failed, $3 skipped"; else echo "$1 passed, $2 failed"; fi
}

# ms_copy_sources DEST: the work tree's files as they are (tracked and new, not ignored: no
# build products) into DEST, for a build against another PostgreSQL (test/versions/).
ms_copy_sources() {
    mkdir -p "$1"
    (cd "$MS_ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
        [[ -e $f ]] && printf '%s\0' "$f"  # not a file deleted in the work tree
    done | xargs -0 cp --parents -t "$1")
}

# ms_workdir NAME [FIRST]: WORK, a throwaway directory ($TMPDIR/ms_NAME_XXXXXX, mode 755 so that
# the server's OS user can read what is written there), removed at exit with the cluster of
# ms_cluster_start, also on failure or Ctrl-C (INT and TERM exit 130). FIRST, a command, runs
# before that at exit (a script stopping its own background jobs). Sets the EXIT, INT and TERM
# traps; call it in the script itself, not in a subshell.
ms_workdir() {
    WORK=
    MS_WORKDIR_FIRST=${2:-}
    trap ms_workdir_cleanup EXIT
    trap 'exit 130' INT TERM
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/ms_$1_XXXXXX")
    chmod 755 "$WORK"
}

# The EXIT trap of ms_workdir.
ms_workdir_cleanup() {
    if [[ -n ${MS_WORKDIR_FIRST:-} ]]; then "$MS_WORKDIR_FIRST" || true; fi
    ms_cluster_stop
    if [[ -n ${WORK:-} ]]; then rm -rf "$WORK"; fi
    return 0
}

MS_PSQL=(psql -X -q -v ON_ERROR_STOP=1)

# ms_dollar_quote FILE: prints the file's exact contents as a dollar-quoted SQL literal, with a
# tag that does not occur in the file (no trailing-newline trimming, no escaping needed).
ms_dollar_quote() {
    local f=$1 tag
    tag="m$RANDOM$RANDOM"
    while grep -qF "\$$tag\$" "$f"; do tag="m$RANDOM$RANDOM"; done
    printf '$%s$' "$tag"
    cat "$f"
    printf '$%s$' "$tag"
}

# ms_sql_literal TEXT: TEXT as a standard SQL string literal.
ms_sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }

# ms_apply_sql VERSION UPFILE [DOWNFILE] [NAME]: prints the SQL that applies one migration
# file through the extension.
ms_apply_sql() {
    local version=$1 up=$2 down=${3:-} name=${4:-}
    printf 'SELECT migrate.apply(%s, ' "$(ms_sql_literal "$version")"
    ms_dollar_quote "$up"
    printf ', '
    if [[ -n $down && -f $down ]]; then ms_dollar_quote "$down"; else printf 'NULL'; fi
    printf ', %s);\n' "$([[ -n $name ]] && ms_sql_literal "$name" || echo NULL)"
}
