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
