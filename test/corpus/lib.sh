# shellcheck shell=bash
# Shared by the corpus scripts (sourced after test/lib/common.sh).

# corpus_find LABEL: sets CORPUS to the crates.io corpus next to the repository (absolute), or
# says that it is absent and exits 0 (the suite reports it skipped).
corpus_find() {
    CORPUS=$MS_ROOT/../shared/corpora/crates_io
    if [[ ! -d $CORPUS ]]; then
        echo "$1: corpus not found at $CORPUS, skipped"
        exit 0
    fi
    CORPUS=$(cd "$CORPUS" && pwd)
}

# corpus_for_server: call after ms_workdir. On PostgreSQL 17 and later, CORPUS becomes a copy
# ($WORK/corpus) in which 0182's down script creates to_semver_no_prerelease() with
# "SET search_path FROM CURRENT", as 0126 created it and as that script's own comment says it
# restores it. Since 17 the functions of an index expression run with search_path pg_catalog,
# pg_temp while the index is built; without the clause, rolling everything back fails at 0129's
# down (its CREATE INDEX calls the function, whose body names type semver_triple without its
# schema), then at 0126's (its index is missing), and re-applying 0126 finds its type still
# there: with plain psql as with the extension, no round trip. The copy is what crates.io would
# change to migrate on 17; the facts of the corpus README hold for it on 17 as on 15.
corpus_for_server() {
    local major down
    major=$("$(ms_pg_config)" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
    [[ $major -ge 17 ]] || return 0
    cp -r "$CORPUS" "$WORK/corpus"
    down=$(echo "$WORK"/corpus/0182_*/down.sql)
    sed -i 's/^  \$\$ LANGUAGE SQL$/  $$ LANGUAGE SQL\n  SET search_path FROM CURRENT/' "$down"
    [[ $(grep -c '^  SET search_path FROM CURRENT$' "$down") -eq 1 ]] ||
        ms_die "corpus_for_server: 0182's down script is not the expected one ($down)"
    CORPUS=$WORK/corpus
    echo "  PostgreSQL $major: the corpus with 0182's down script keeping the function's search_path (test/corpus/lib.sh)"
}

# corpus_schema_dump DB: the schema outside the extension, comparable between databases.
corpus_schema_dump() {
    pg_dump -s -N migrate -d "$1" | grep -vE '^(--|SET |SELECT pg_catalog.set_config|\\(un)?restrict )' \
        | grep -v 'migrations_schema' | sed '/^$/d'
}

# corpus_server_log_check: no crash, no worker that died, in the server log of the cluster of
# ms_cluster_start; reports through the calling script's problem().
corpus_server_log_check() {
    local log=$MS_CLUSTER_DIR/server.log bad
    bad=$(grep -E 'terminated by signal|PANIC|TRAP:|was terminated|exited with exit code [1-9]|server process .* exited' \
        "$log" || true)
    if [[ -n $bad ]]; then
        problem "the server log shows a crash or a worker that died:"
        head -20 <<<"$bad" | sed 's/^/      /'
    else
        echo "  server log: no crash, no worker that died"
    fi
}
