// Access control from a connecting peer's credentials (config->access).
//
// At accept the daemon reads the peer's uid, gid and pid (SO_PEERCRED) and
// supplementary groups (SO_PEERGROUPS, as of connect(); /proc/PID/status
// "Groups:" on kernels without it) and gives the connection a role: admin
// when a uid or group of the admin rule matches, else client when the
// client rule matches, else none. With access control off (no `access:`
// key) every peer is admin, as before access control existed.
//
// A peer with no role is refused at accept: it gets PERMISSION_DENIED
// (request_id 0) naming its uid, and the connection is closed. Refusing at
// once (rather than per request) keeps strangers from holding connections,
// regions or file descriptors. A client-role peer keeps its connection;
// each admin-only request gets PERMISSION_DENIED naming the uid and the
// request, and the connection goes on.
#ifndef IREED_DAEMON_ACCESS_H
#define IREED_DAEMON_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon/config.h"
#include "ireed.pb-c.h"
#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

// Groups of a peer looked at (more are ignored).
#define IREED_PEER_MAX_GROUPS 256

typedef struct ireed_peer_s {
  uid_t uid;
  gid_t gid;
  pid_t pid;           // 0 when the peer is in another pid namespace
  size_t group_count;  // supplementary groups
  gid_t groups[IREED_PEER_MAX_GROUPS];
} ireed_peer_t;

// Reads the credentials of the peer of socket |fd|; |with_groups| false
// skips the supplementary groups (nothing would look at them).
irt_status_t ireed_peer_read(int fd, bool with_groups,
                             ireed_peer_t* out_peer) IRT_MUST_USE;

// Whether the rules of |access| look at groups at all.
bool ireed_access_uses_groups(const ireed_access_config_t* access);

// The role |access| grants |peer|.
ireed_role_t ireed_access_role(const ireed_access_config_t* access,
                               const ireed_peer_t* peer);

// Whether |role| may send a request of |body_case| (hello, list, invoke,
// shared-memory registration and status for clients; everything for
// admins).
bool ireed_access_allows(ireed_role_t role, Ireed__Frame__BodyCase body_case);

const char* ireed_role_name(ireed_role_t role);

// A deep copy of |source| (the server keeps its own across reloads); free
// with ireed_access_deinitialize.
irt_status_t ireed_access_copy(const ireed_access_config_t* source,
                               irt_allocator_t allocator,
                               ireed_access_config_t* out_access) IRT_MUST_USE;
void ireed_access_deinitialize(ireed_access_config_t* access,
                               irt_allocator_t allocator);

#endif  // IREED_DAEMON_ACCESS_H
