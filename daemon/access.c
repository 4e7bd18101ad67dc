#include "daemon/access.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

//===----------------------------------------------------------------------===//
// Peer credentials
//===----------------------------------------------------------------------===//

// Supplementary groups from the "Groups:" line of /proc/PID/status.
static void ireed_peer_read_proc_groups(ireed_peer_t* peer) {
  if (peer->pid <= 0) return;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/status", (int)peer->pid);
  FILE* file = fopen(path, "re");
  if (!file) return;
  char line[4096];
  while (fgets(line, sizeof(line), file)) {
    if (strncmp(line, "Groups:", 7) != 0) continue;
    char* cursor = line + 7;
    for (;;) {
      char* end = NULL;
      unsigned long value = strtoul(cursor, &end, 10);
      if (end == cursor || peer->group_count == IREED_PEER_MAX_GROUPS) break;
      peer->groups[peer->group_count++] = (gid_t)value;
      cursor = end;
    }
    break;
  }
  fclose(file);
}

irt_status_t ireed_peer_read(int fd, bool with_groups, ireed_peer_t* out_peer) {
  memset(out_peer, 0, sizeof(*out_peer));
  struct ucred credentials;
  socklen_t length = sizeof(credentials);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "cannot read the peer's credentials: %s",
                           strerror(errno));
  }
  out_peer->uid = credentials.uid;
  out_peer->gid = credentials.gid;
  out_peer->pid = credentials.pid;
  if (!with_groups) return IRT_OK;
  // SO_PEERGROUPS: the groups as of connect(), immune to pid reuse.
  // Older kernels (ENOPROTOOPT) and peers with more groups than fit
  // (ERANGE returns none) fall back to /proc.
  length = sizeof(out_peer->groups);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, out_peer->groups, &length) ==
      0) {
    out_peer->group_count = length / sizeof(gid_t);
  } else {
    ireed_peer_read_proc_groups(out_peer);
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Rules
//===----------------------------------------------------------------------===//

bool ireed_access_uses_groups(const ireed_access_config_t* access) {
  return access && access->enabled &&
         (access->admin.gid_count || access->client.gid_count);
}

static bool ireed_rule_has_gid(const ireed_access_rule_t* rule, gid_t gid) {
  for (size_t i = 0; i < rule->gid_count; ++i) {
    if (rule->gids[i] == gid) return true;
  }
  return false;
}

static bool ireed_rule_matches(const ireed_access_rule_t* rule,
                               const ireed_peer_t* peer) {
  for (size_t i = 0; i < rule->uid_count; ++i) {
    if (rule->uids[i] == peer->uid) return true;
  }
  if (ireed_rule_has_gid(rule, peer->gid)) return true;
  for (size_t i = 0; i < peer->group_count; ++i) {
    if (ireed_rule_has_gid(rule, peer->groups[i])) return true;
  }
  return false;
}

ireed_role_t ireed_access_role(const ireed_access_config_t* access,
                               const ireed_peer_t* peer) {
  if (!access || !access->enabled) return IREED_ROLE_ADMIN;
  if (ireed_rule_matches(&access->admin, peer)) return IREED_ROLE_ADMIN;
  if (ireed_rule_matches(&access->client, peer)) return IREED_ROLE_CLIENT;
  return IREED_ROLE_NONE;
}

bool ireed_access_allows(ireed_role_t role, Ireed__Frame__BodyCase body_case) {
  if (role == IREED_ROLE_ADMIN) return true;
  if (role != IREED_ROLE_CLIENT) return false;
  switch (body_case) {
    case IREED__FRAME__BODY_HELLO:
    case IREED__FRAME__BODY_LIST_MODELS:
    case IREED__FRAME__BODY_INVOKE:
    case IREED__FRAME__BODY_ATTACH_RING:  // invocations, through the ring
    case IREED__FRAME__BODY_REGISTER_SHM:
    case IREED__FRAME__BODY_UNREGISTER_SHM:
    case IREED__FRAME__BODY_STATUS:
      return true;
    default:
      return false;
  }
}

const char* ireed_role_name(ireed_role_t role) {
  switch (role) {
    case IREED_ROLE_ADMIN:
      return "admin";
    case IREED_ROLE_CLIENT:
      return "client";
    default:
      return "none";
  }
}

//===----------------------------------------------------------------------===//
// Copies
//===----------------------------------------------------------------------===//

static irt_status_t ireed_copy_ids(const void* source, size_t count,
                                   size_t size, irt_allocator_t allocator,
                                   void** out_ids) {
  *out_ids = NULL;
  if (!count) return IRT_OK;
  IRT_RETURN_IF_ERROR(irt_allocator_malloc(allocator, count * size, out_ids));
  memcpy(*out_ids, source, count * size);
  return IRT_OK;
}

static irt_status_t ireed_rule_copy(const ireed_access_rule_t* source,
                                    irt_allocator_t allocator,
                                    ireed_access_rule_t* out_rule) {
  out_rule->role = source->role;
  IRT_RETURN_IF_ERROR(ireed_copy_ids(source->uids, source->uid_count,
                                     sizeof(uid_t), allocator,
                                     (void**)&out_rule->uids));
  out_rule->uid_count = source->uid_count;
  IRT_RETURN_IF_ERROR(ireed_copy_ids(source->gids, source->gid_count,
                                     sizeof(gid_t), allocator,
                                     (void**)&out_rule->gids));
  out_rule->gid_count = source->gid_count;
  return IRT_OK;
}

irt_status_t ireed_access_copy(const ireed_access_config_t* source,
                               irt_allocator_t allocator,
                               ireed_access_config_t* out_access) {
  memset(out_access, 0, sizeof(*out_access));
  if (!source) return IRT_OK;
  out_access->enabled = source->enabled;
  irt_status_t status =
      ireed_rule_copy(&source->admin, allocator, &out_access->admin);
  if (irt_status_is_ok(status)) {
    status = ireed_rule_copy(&source->client, allocator, &out_access->client);
  }
  if (!irt_status_is_ok(status)) {
    ireed_access_deinitialize(out_access, allocator);
  }
  return status;
}

void ireed_access_deinitialize(ireed_access_config_t* access,
                               irt_allocator_t allocator) {
  irt_allocator_free(allocator, access->admin.uids);
  irt_allocator_free(allocator, access->admin.gids);
  irt_allocator_free(allocator, access->client.uids);
  irt_allocator_free(allocator, access->client.gids);
  memset(access, 0, sizeof(*access));
}
