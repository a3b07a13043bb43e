// See standby.hpp.
#include "pg/standby.hpp"

namespace ms::pg {

namespace {

// The primary the WAL receiver streams from: "host:port" (or a socket directory and port),
// empty when no WAL receiver is streaming (archive recovery, or not connected yet). Read from
// shared memory under its spinlock, as pg_stat_wal_receiver does; the host and port only.
void primary_leaf(char* out, size_t size) {
    out[0] = '\0';
    if (WalRcv == nullptr) return;
    char host[NI_MAXHOST];
    int port = 0;
    bool ready = false;
    SpinLockAcquire(&WalRcv->mutex);
    ready = WalRcv->pid != 0 && WalRcv->ready_to_display;
    snprintf(host, sizeof host, "%s", (char*)WalRcv->sender_host);
    port = WalRcv->sender_port;
    SpinLockRelease(&WalRcv->mutex);
    if (!ready || host[0] == '\0') return;
    if (port > 0)
        snprintf(out, size, "%s port %d", host, port);
    else
        snprintf(out, size, "%s", host);
}

}  // namespace

bool on_standby() {
    return guard([] { return RecoveryInProgress(); });
}

void refuse_on_standby(const std::string& function, const std::string& what) {
    if (!on_standby()) return;
    char primary[NI_MAXHOST + 32];
    guard([&] { primary_leaf(primary, sizeof primary); });
    std::string hint = primary[0] != '\0'
                           ? "Call it on the primary, the server this standby streams from: host " +
                                 std::string(primary) + "."
                           : std::string(
                                 "Call it on the primary, the server named by this standby's "
                                 "primary_conninfo.");
    throw Error(ERRCODE_READ_ONLY_SQL_TRANSACTION, function + " cannot run on a standby",
                "This server is a hot standby: it replays the primary's changes and writes "
                "nothing of its own, and " +
                    function + " " + what + ".",
                hint + " What it writes reaches this standby through replication.");
}

}  // namespace ms::pg
