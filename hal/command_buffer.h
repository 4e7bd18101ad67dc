// Command buffers (HAL spec 1.5.5, 1.8.4, 1.8.5): a device-independent list
// of recorded commands, replayed by each device when submitted.
//
// Recording captures everything a replay needs (update data is copied,
// direct buffers retained); buffer references are either direct or a slot of
// the binding table given at submission. Devices walk the commands with the
// table resolved (irhal_command_buffer_resolve) and execute them their own
// way: the CPU runs them, Vulkan/CUDA translate them into native command
// streams. Recording one list and replaying it per submission is what makes
// memoized (reusable) command buffers work on every device.
#ifndef IRHAL_COMMAND_BUFFER_H
#define IRHAL_COMMAND_BUFFER_H

#include "hal/buffer.h"

typedef struct irhal_executable_s irhal_executable_t;

// The most bindings one dispatch may pass (spec 1.5.5).
#define IRHAL_MAX_DISPATCH_BINDINGS 32

// A buffer as recorded: direct (buffer != NULL) or binding-table slot.
typedef struct irhal_buffer_ref_s {
  irhal_buffer_t* buffer;  // retained when direct
  uint32_t slot;
  irhal_device_size_t offset;
  irhal_device_size_t length;  // IRHAL_WHOLE_LENGTH = to the end
} irhal_buffer_ref_t;

typedef enum irhal_command_kind_e {
  IRHAL_COMMAND_BARRIER = 0,
  IRHAL_COMMAND_FILL = 1,
  IRHAL_COMMAND_UPDATE = 2,
  IRHAL_COMMAND_COPY = 3,
  IRHAL_COMMAND_DISPATCH = 4,
} irhal_command_kind_t;

typedef struct irhal_command_s {
  irhal_command_kind_t kind;
  union {
    struct {
      irhal_buffer_ref_t target;
      uint64_t pattern;
      uint32_t pattern_length;  // 1, 2 or 4
    } fill;
    struct {
      const uint8_t* data;  // captured at record time (owned by the list)
      irhal_buffer_ref_t target;
    } update;
    struct {
      irhal_buffer_ref_t source;
      irhal_buffer_ref_t target;
    } copy;
    struct {
      irhal_executable_t* executable;  // retained
      uint32_t export_ordinal;
      uint32_t workgroup_count[3];
      bool indirect;  // workgroup count read from |workgroups_ref|
      irhal_buffer_ref_t workgroups_ref;
      uint64_t flags;
      uint32_t constant_count;
      const uint32_t* constants;
      uint32_t binding_count;
      irhal_buffer_ref_t* bindings;
    } dispatch;
  };
} irhal_command_t;

typedef struct irhal_command_buffer_s irhal_command_buffer_t;

extern const irvm_ref_type_t irhal_command_buffer_type_descriptor;
static inline const irvm_ref_type_t* irhal_command_buffer_type(void) {
  return &irhal_command_buffer_type_descriptor;
}
static inline irhal_command_buffer_t* irhal_command_buffer_deref(
    const irvm_ref_t* ref) {
  return ref->type == &irhal_command_buffer_type_descriptor
             ? (irhal_command_buffer_t*)ref->ptr
             : NULL;
}
static inline void irhal_command_buffer_retain(irhal_command_buffer_t* cb) {
  irvm_object_retain(cb);
}
static inline void irhal_command_buffer_release(irhal_command_buffer_t* cb) {
  irvm_object_release(cb, &irhal_command_buffer_type_descriptor);
}

// Creates a command buffer in the recording state.
irt_status_t irhal_command_buffer_create(uint32_t mode, uint32_t categories,
                                         uint32_t binding_capacity,
                                         irt_allocator_t host_allocator,
                                         irhal_command_buffer_t** out)
    IRT_MUST_USE;
uint32_t irhal_command_buffer_mode(const irhal_command_buffer_t* cb);
uint32_t irhal_command_buffer_binding_capacity(const irhal_command_buffer_t* cb);
bool irhal_command_buffer_is_finalized(const irhal_command_buffer_t* cb);
// Ends recording (FAILED_PRECONDITION if already finalized).
irt_status_t irhal_command_buffer_finalize(irhal_command_buffer_t* cb)
    IRT_MUST_USE;

// Fill arguments shared by command buffers and queue fills: a pattern of 1,
// 2 or 4 bytes, and an offset and length (unless IRHAL_WHOLE_LENGTH) that
// are multiples of it. INVALID_ARGUMENT otherwise.
irt_status_t irhal_check_fill_pattern(irhal_device_size_t offset,
                                      irhal_device_size_t length,
                                      uint32_t pattern_length) IRT_MUST_USE;

// Recording; each fails with FAILED_PRECONDITION after finalize and
// validates what can be checked at record time (pattern sizes, alignment,
// slots < binding capacity, direct ranges in bounds).
irt_status_t irhal_command_buffer_barrier(irhal_command_buffer_t* cb)
    IRT_MUST_USE;
irt_status_t irhal_command_buffer_fill(irhal_command_buffer_t* cb,
                                       irhal_buffer_ref_t target,
                                       uint64_t pattern,
                                       uint32_t pattern_length) IRT_MUST_USE;
irt_status_t irhal_command_buffer_update(irhal_command_buffer_t* cb,
                                         const void* source,
                                         irhal_buffer_ref_t target)
    IRT_MUST_USE;  // copies target.length bytes of |source|
irt_status_t irhal_command_buffer_copy(irhal_command_buffer_t* cb,
                                       irhal_buffer_ref_t source,
                                       irhal_buffer_ref_t target) IRT_MUST_USE;
// |dispatch| describes the dispatch; its arrays are copied.
irt_status_t irhal_command_buffer_dispatch(irhal_command_buffer_t* cb,
                                           const irhal_command_t* dispatch)
    IRT_MUST_USE;

// The recorded commands, in order.
uint32_t irhal_command_buffer_command_count(const irhal_command_buffer_t* cb);
const irhal_command_t* irhal_command_buffer_command(
    const irhal_command_buffer_t* cb, uint32_t index);

// A binding table given at submission (entries retained by the caller).
typedef struct irhal_binding_table_s {
  uint32_t count;
  const irhal_buffer_ref_t* entries;  // .buffer may be NULL; slot unused
} irhal_binding_table_t;

// A recorded reference resolved against |table| (spec 1.8.5): the buffer
// (borrowed), absolute offset within it and the effective length.
typedef struct irhal_resolved_ref_s {
  irhal_buffer_t* buffer;
  irhal_device_size_t offset;
  irhal_device_size_t length;
} irhal_resolved_ref_t;
irt_status_t irhal_command_buffer_resolve(const irhal_buffer_ref_t* ref,
                                          const irhal_binding_table_t* table,
                                          irhal_resolved_ref_t* out_resolved)
    IRT_MUST_USE;

// irhal_command_buffer_resolve for a reference that must name a buffer:
// FAILED_PRECONDITION, naming |what|, when it resolves to none.
irt_status_t irhal_command_buffer_resolve_buffer(
    const irhal_buffer_ref_t* ref, const irhal_binding_table_t* table,
    const char* what, irhal_resolved_ref_t* out_resolved) IRT_MUST_USE;

// The bytes a recorded copy moves between its resolved |source| and
// |target|: its explicit length (recording made explicit lengths agree),
// else what the source provides; OUT_OF_RANGE unless it fits both.
irt_status_t irhal_command_copy_length(const irhal_command_t* command,
                                       const irhal_resolved_ref_t* source,
                                       const irhal_resolved_ref_t* target,
                                       irhal_device_size_t* out_length)
    IRT_MUST_USE;

// Calls |fn| on every command of |cb| in order with |table|, stopping at
// the first error (annotated with the command's index).
typedef irt_status_t (*irhal_command_fn_t)(void* user_data,
                                           const irhal_command_t* command,
                                           const irhal_binding_table_t* table);
irt_status_t irhal_command_buffer_replay(const irhal_command_buffer_t* cb,
                                         const irhal_binding_table_t* table,
                                         irhal_command_fn_t fn,
                                         void* user_data) IRT_MUST_USE;

#endif  // IRHAL_COMMAND_BUFFER_H
