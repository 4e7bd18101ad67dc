// Argument checking shared by every export: bad calls become errors that
// name the argument, never crashes.
#include <inttypes.h>
#include <stdio.h>

#include "runtime/base/math.h"
#include "runtime/modules/hal/module_internal.h"

static const char* irmod_hal_ref_type_name(const irvm_ref_t* ref) {
  if (irvm_ref_is_null(ref)) return "null";
  return ref->type && ref->type->name ? ref->type->name : "an untyped ref";
}

irt_status_t irmod_hal_deref(const irvm_ref_t* ref, const irvm_ref_type_t* type,
                             bool nullable, const char* name, int64_t index,
                             void** out_object) {
  *out_object = NULL;
  if (irvm_ref_is_null(ref) && nullable) return IRT_OK;
  if (irvm_ref_is_type(ref, type)) {
    *out_object = ref->ptr;
    return IRT_OK;
  }
  char label[64];
  if (index >= 0) {
    snprintf(label, sizeof(label), "%s[%" PRId64 "]", name, index);
  } else {
    snprintf(label, sizeof(label), "%s", name);
  }
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                         "argument '%s' must be a %s%s, got %s", label,
                         type->name, nullable ? " or null" : "",
                         irmod_hal_ref_type_name(ref));
}

void* irmod_hal_args_check(irmod_hal_args_t* args, const irvm_ref_t* ref,
                           const irvm_ref_type_t* type, bool nullable,
                           const char* name) {
  if (!irt_status_is_ok(args->status)) return NULL;
  void* object = NULL;
  args->status = irmod_hal_deref(ref, type, nullable, name, -1, &object);
  return object;
}

irt_status_t irmod_hal_host_range(int64_t offset, int64_t length,
                                  uint64_t total, irt_status_code_t code,
                                  const char* what, uint64_t* out_offset,
                                  uint64_t* out_length) {
  if (offset < 0 || (uint64_t)offset > total) {
    return irt_make_status(
        code, "%s offset %" PRId64 " is outside the %" PRIu64 "-byte source",
        what, offset, total);
  }
  uint64_t resolved =
      length == -1 ? total - (uint64_t)offset : (uint64_t)length;
  if (length < -1 || !irt_range_fits((uint64_t)offset, resolved, total)) {
    return irt_make_status(code,
                           "%s range [%" PRId64 ", +%" PRId64
                           ") does not fit the %" PRIu64 "-byte source",
                           what, offset, length, total);
  }
  *out_offset = (uint64_t)offset;
  *out_length = resolved;
  return IRT_OK;
}

void irmod_hal_release_vm_buffer(void* user_data) {
  irvm_buffer_release((irvm_buffer_t*)user_data);
}
