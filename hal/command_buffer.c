#include "hal/command_buffer.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "hal/executable.h"
#include "runtime/base/arena.h"
#include "runtime/base/math.h"

struct irhal_command_buffer_s {
  irvm_ref_object_t header;
  irt_allocator_t host_allocator;
  uint32_t mode;
  uint32_t categories;
  uint32_t binding_capacity;
  bool finalized;
  uint32_t count;
  uint32_t capacity;
  irhal_command_t* commands;
  irt_arena_t arena;  // update data, constants and binding arrays
};

static void irhal_command_release_resources(irhal_command_t* command) {
  switch (command->kind) {
    case IRHAL_COMMAND_BARRIER:
      break;
    case IRHAL_COMMAND_FILL:
      irhal_buffer_release(command->fill.target.buffer);
      break;
    case IRHAL_COMMAND_UPDATE:
      irhal_buffer_release(command->update.target.buffer);
      break;
    case IRHAL_COMMAND_COPY:
      irhal_buffer_release(command->copy.source.buffer);
      irhal_buffer_release(command->copy.target.buffer);
      break;
    case IRHAL_COMMAND_DISPATCH:
      irhal_executable_release(command->dispatch.executable);
      irhal_buffer_release(command->dispatch.workgroups_ref.buffer);
      for (uint32_t i = 0; i < command->dispatch.binding_count; ++i) {
        irhal_buffer_release(command->dispatch.bindings[i].buffer);
      }
      break;
  }
}

static void irhal_command_buffer_destroy(void* object) {
  irhal_command_buffer_t* cb = object;
  for (uint32_t i = 0; i < cb->count; ++i) {
    irhal_command_release_resources(&cb->commands[i]);
  }
  irt_arena_deinit(&cb->arena);
  irt_allocator_free(cb->host_allocator, cb->commands);
  irt_allocator_free(cb->host_allocator, cb);
}

const irvm_ref_type_t irhal_command_buffer_type_descriptor = {
    .name = "hal.command_buffer",
    .destroy = irhal_command_buffer_destroy,
};

irt_status_t irhal_command_buffer_create(uint32_t mode, uint32_t categories,
                                         uint32_t binding_capacity,
                                         irt_allocator_t host_allocator,
                                         irhal_command_buffer_t** out) {
  *out = NULL;
  irhal_command_buffer_t* cb = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_calloc(host_allocator, sizeof(*cb), (void**)&cb),
      "allocating a command buffer");
  irt_ref_count_init(&cb->header.count);
  cb->host_allocator = host_allocator;
  cb->mode = mode;
  cb->categories = categories;
  cb->binding_capacity = binding_capacity;
  irt_arena_init(&cb->arena, host_allocator, 0);
  *out = cb;
  return IRT_OK;
}

uint32_t irhal_command_buffer_mode(const irhal_command_buffer_t* cb) {
  return cb->mode;
}

uint32_t irhal_command_buffer_binding_capacity(
    const irhal_command_buffer_t* cb) {
  return cb->binding_capacity;
}

bool irhal_command_buffer_is_finalized(const irhal_command_buffer_t* cb) {
  return cb->finalized;
}

irt_status_t irhal_command_buffer_finalize(irhal_command_buffer_t* cb) {
  if (cb->finalized) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "command buffer is already finalized");
  }
  cb->finalized = true;
  return IRT_OK;
}

uint32_t irhal_command_buffer_command_count(const irhal_command_buffer_t* cb) {
  return cb->count;
}

const irhal_command_t* irhal_command_buffer_command(
    const irhal_command_buffer_t* cb, uint32_t index) {
  assert(index < cb->count);
  return &cb->commands[index];
}

//===----------------------------------------------------------------------===//
// Recording
//===----------------------------------------------------------------------===//

// Checks the command buffer still records and allows |category|, and makes
// room for one more command.
static irt_status_t irhal_command_buffer_begin(irhal_command_buffer_t* cb,
                                               uint32_t category,
                                               const char* what) {
  if (cb->finalized) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "cannot record %s: command buffer is finalized",
                           what);
  }
  if (category && !(cb->categories & category)) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "cannot record %s: command buffer categories 0x%x "
                           "do not include 0x%x",
                           what, cb->categories, category);
  }
  if (cb->count == cb->capacity) {
    if (cb->capacity > UINT32_MAX / 2) {
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "command buffer holds too many commands");
    }
    uint32_t capacity = cb->capacity ? cb->capacity * 2 : 16;
    void* commands = cb->commands;
    IRT_RETURN_IF_ERROR_CTX(
        irt_allocator_realloc(cb->host_allocator,
                              (size_t)capacity * sizeof(irhal_command_t),
                              &commands),
        "growing a command buffer to %" PRIu32 " commands", capacity);
    cb->commands = commands;
    cb->capacity = capacity;
  }
  return IRT_OK;
}

// Appends |command|, retaining nothing (callers retain what it references
// once nothing can fail any more).
static irhal_command_t* irhal_command_buffer_append(
    irhal_command_buffer_t* cb, const irhal_command_t* command) {
  irhal_command_t* slot = &cb->commands[cb->count++];
  *slot = *command;
  return slot;
}

// Validates a recorded reference. Direct: the range must fit the buffer
// (a whole length is resolved now) and the buffer must allow |usage|.
// Indirect: the slot must be within the binding capacity.
static irt_status_t irhal_command_buffer_check_ref(
    const irhal_command_buffer_t* cb, irhal_buffer_ref_t* ref, uint32_t usage,
    const char* what) {
  if (!ref->buffer) {
    if (ref->slot >= cb->binding_capacity) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             "%s binding slot %" PRIu32
                             " is outside the binding capacity %" PRIu32,
                             what, ref->slot, cb->binding_capacity);
    }
    return IRT_OK;
  }
  IRT_RETURN_IF_ERROR(
      irhal_buffer_check_range(ref->buffer, ref->offset, &ref->length, what));
  return irhal_buffer_check_usage(ref->buffer, usage, what);
}

irt_status_t irhal_check_fill_pattern(irhal_device_size_t offset,
                                      irhal_device_size_t length,
                                      uint32_t pattern_length) {
  if (pattern_length != 1 && pattern_length != 2 && pattern_length != 4) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "fill pattern length %" PRIu32
                           " is not 1, 2 or 4 bytes",
                           pattern_length);
  }
  if (offset % pattern_length ||
      (length != IRHAL_WHOLE_LENGTH && length % pattern_length)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "fill range [%" PRIu64 ", +%" PRIu64
                           ") is not aligned to the %" PRIu32 "-byte pattern",
                           offset, length, pattern_length);
  }
  return IRT_OK;
}

irt_status_t irhal_command_buffer_barrier(irhal_command_buffer_t* cb) {
  IRT_RETURN_IF_ERROR(irhal_command_buffer_begin(cb, 0, "a barrier"));
  irhal_command_buffer_append(
      cb, &(irhal_command_t){.kind = IRHAL_COMMAND_BARRIER});
  return IRT_OK;
}

irt_status_t irhal_command_buffer_fill(irhal_command_buffer_t* cb,
                                       irhal_buffer_ref_t target,
                                       uint64_t pattern,
                                       uint32_t pattern_length) {
  IRT_RETURN_IF_ERROR(irhal_command_buffer_begin(
      cb, IRHAL_COMMAND_CATEGORY_TRANSFER, "a fill"));
  IRT_RETURN_IF_ERROR(irhal_command_buffer_check_ref(
      cb, &target, IRHAL_BUFFER_USAGE_TRANSFER_TARGET, "fill target"));
  IRT_RETURN_IF_ERROR(
      irhal_check_fill_pattern(target.offset, target.length, pattern_length));
  irhal_command_t command = {.kind = IRHAL_COMMAND_FILL};
  command.fill.target = target;
  command.fill.pattern = pattern;
  command.fill.pattern_length = pattern_length;
  irhal_command_buffer_append(cb, &command);
  irhal_buffer_retain(target.buffer);
  return IRT_OK;
}

irt_status_t irhal_command_buffer_update(irhal_command_buffer_t* cb,
                                         const void* source,
                                         irhal_buffer_ref_t target) {
  IRT_RETURN_IF_ERROR(irhal_command_buffer_begin(
      cb, IRHAL_COMMAND_CATEGORY_TRANSFER, "an update"));
  IRT_RETURN_IF_ERROR(irhal_command_buffer_check_ref(
      cb, &target, IRHAL_BUFFER_USAGE_TRANSFER_TARGET, "update target"));
  if (target.length == IRHAL_WHOLE_LENGTH) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "update of an indirect target needs an explicit "
                           "length");
  }
  if (!source && target.length) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "update of %" PRIu64 " bytes has no source data",
                           target.length);
  }
  void* data = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_arena_alloc(&cb->arena, (size_t)target.length, 1, &data),
      "capturing %" PRIu64 " bytes of update data", target.length);
  if (target.length) memcpy(data, source, (size_t)target.length);
  irhal_command_t command = {.kind = IRHAL_COMMAND_UPDATE};
  command.update.data = data;
  command.update.target = target;
  irhal_command_buffer_append(cb, &command);
  irhal_buffer_retain(target.buffer);
  return IRT_OK;
}

irt_status_t irhal_command_buffer_copy(irhal_command_buffer_t* cb,
                                       irhal_buffer_ref_t source,
                                       irhal_buffer_ref_t target) {
  IRT_RETURN_IF_ERROR(irhal_command_buffer_begin(
      cb, IRHAL_COMMAND_CATEGORY_TRANSFER, "a copy"));
  IRT_RETURN_IF_ERROR(irhal_command_buffer_check_ref(
      cb, &source, IRHAL_BUFFER_USAGE_TRANSFER_SOURCE, "copy source"));
  IRT_RETURN_IF_ERROR(irhal_command_buffer_check_ref(
      cb, &target, IRHAL_BUFFER_USAGE_TRANSFER_TARGET, "copy target"));
  if (source.length != IRHAL_WHOLE_LENGTH &&
      target.length != IRHAL_WHOLE_LENGTH && source.length != target.length) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "copy source length %" PRIu64
                           " differs from the target length %" PRIu64,
                           source.length, target.length);
  }
  irhal_command_t command = {.kind = IRHAL_COMMAND_COPY};
  command.copy.source = source;
  command.copy.target = target;
  irhal_command_buffer_append(cb, &command);
  irhal_buffer_retain(source.buffer);
  irhal_buffer_retain(target.buffer);
  return IRT_OK;
}

// Checks what a dispatch passes against the executable's declaration.
static irt_status_t irhal_command_buffer_check_dispatch(
    const irhal_command_t* dispatch) {
  const irhal_executable_t* executable = dispatch->dispatch.executable;
  if (!executable) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "dispatch has no executable");
  }
  uint32_t ordinal = dispatch->dispatch.export_ordinal;
  if (ordinal >= executable->export_count) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "dispatch export ordinal %" PRIu32
                           " is outside the executable's %" PRIu32 " exports",
                           ordinal, executable->export_count);
  }
  const uint64_t custom_arguments =
      IRHAL_DISPATCH_FLAG_CUSTOM_DIRECT_ARGUMENTS |
      IRHAL_DISPATCH_FLAG_DYNAMIC_INDIRECT_ARGUMENTS |
      IRHAL_DISPATCH_FLAG_STATIC_INDIRECT_ARGUMENTS;
  if (dispatch->dispatch.flags & custom_arguments) {
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           "dispatch flags 0x%" PRIx64
                           " ask for custom kernel arguments",
                           dispatch->dispatch.flags);
  }
  uint32_t bindings = dispatch->dispatch.binding_count;
  if (bindings > IRHAL_MAX_DISPATCH_BINDINGS) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "dispatch passes %" PRIu32
                           " bindings; at most %d are allowed",
                           bindings, IRHAL_MAX_DISPATCH_BINDINGS);
  }
  uint32_t constants = dispatch->dispatch.constant_count;
  if ((constants && !dispatch->dispatch.constants) ||
      (bindings && !dispatch->dispatch.bindings)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "dispatch constant or binding array is missing");
  }
  if (executable->export_constant_counts &&
      executable->export_constant_counts[ordinal] != constants) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "dispatch of export %" PRIu32 " passes %" PRIu32
                           " constants; the export declares %u",
                           ordinal, constants,
                           executable->export_constant_counts[ordinal]);
  }
  if (executable->export_binding_counts &&
      executable->export_binding_counts[ordinal] != bindings) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "dispatch of export %" PRIu32 " passes %" PRIu32
                           " bindings; the export declares %u",
                           ordinal, bindings,
                           executable->export_binding_counts[ordinal]);
  }
  return IRT_OK;
}

irt_status_t irhal_command_buffer_dispatch(irhal_command_buffer_t* cb,
                                           const irhal_command_t* dispatch) {
  IRT_RETURN_IF_ERROR(irhal_command_buffer_begin(
      cb, IRHAL_COMMAND_CATEGORY_DISPATCH, "a dispatch"));
  IRT_RETURN_IF_ERROR(irhal_command_buffer_check_dispatch(dispatch));
  irhal_command_t command = *dispatch;
  command.kind = IRHAL_COMMAND_DISPATCH;
  if (command.dispatch.indirect) {
    // Three little-endian uint32 counts at a 4-byte aligned offset.
    if (command.dispatch.workgroups_ref.offset % 4) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "indirect workgroup count offset %" PRIu64
                             " is not 4-byte aligned",
                             command.dispatch.workgroups_ref.offset);
    }
    command.dispatch.workgroups_ref.length = 3 * sizeof(uint32_t);
    IRT_RETURN_IF_ERROR(irhal_command_buffer_check_ref(
        cb, &command.dispatch.workgroups_ref, 0, "workgroup count"));
    if (!(command.dispatch.flags &
          IRHAL_DISPATCH_FLAG_STATIC_INDIRECT_PARAMETERS)) {
      command.dispatch.flags |= IRHAL_DISPATCH_FLAG_DYNAMIC_INDIRECT_PARAMETERS;
    }
  } else {
    command.dispatch.workgroups_ref = (irhal_buffer_ref_t){0};
  }
  // Copies validated in place, so whole lengths are resolved once.
  irhal_buffer_ref_t* bindings = NULL;
  if (command.dispatch.binding_count) {
    IRT_RETURN_IF_ERROR_CTX(
        irt_arena_alloc(&cb->arena,
                        command.dispatch.binding_count * sizeof(*bindings),
                        _Alignof(irhal_buffer_ref_t), (void**)&bindings),
        "capturing dispatch bindings");
    memcpy(bindings, dispatch->dispatch.bindings,
           command.dispatch.binding_count * sizeof(*bindings));
    for (uint32_t i = 0; i < command.dispatch.binding_count; ++i) {
      IRT_RETURN_IF_ERROR_CTX(
          irhal_command_buffer_check_ref(cb, &bindings[i], 0, "dispatch"),
          "dispatch binding %" PRIu32, i);
    }
  }
  command.dispatch.bindings = bindings;
  uint32_t* constants = NULL;
  if (command.dispatch.constant_count) {
    size_t size = command.dispatch.constant_count * sizeof(uint32_t);
    IRT_RETURN_IF_ERROR_CTX(
        irt_arena_alloc(&cb->arena, size, _Alignof(uint32_t),
                        (void**)&constants),
        "capturing %" PRIu32 " dispatch constants",
        command.dispatch.constant_count);
    memcpy(constants, dispatch->dispatch.constants, size);
  }
  command.dispatch.constants = constants;
  irhal_command_buffer_append(cb, &command);
  irhal_executable_retain(command.dispatch.executable);
  irhal_buffer_retain(command.dispatch.workgroups_ref.buffer);
  for (uint32_t i = 0; i < command.dispatch.binding_count; ++i) {
    irhal_buffer_retain(bindings[i].buffer);
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Binding table resolution (spec 1.8.5)
//===----------------------------------------------------------------------===//

irt_status_t irhal_command_buffer_resolve(const irhal_buffer_ref_t* ref,
                                          const irhal_binding_table_t* table,
                                          irhal_resolved_ref_t* out_resolved) {
  if (ref->buffer) {
    irhal_device_size_t length = ref->length;
    IRT_RETURN_IF_ERROR(
        irhal_buffer_check_range(ref->buffer, ref->offset, &length, "direct"));
    *out_resolved = (irhal_resolved_ref_t){ref->buffer, ref->offset, length};
    return IRT_OK;
  }
  uint32_t table_count = table ? table->count : 0;
  if (table_count == 0) {
    // No table: the reference resolves to "no buffer"; users decide whether
    // that is an error (dispatch rejects it).
    *out_resolved = (irhal_resolved_ref_t){NULL, ref->offset, ref->length};
    return IRT_OK;
  }
  if (ref->slot >= table_count) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "binding slot %" PRIu32
                           " is outside the binding table of %" PRIu32
                           " entries",
                           ref->slot, table_count);
  }
  const irhal_buffer_ref_t* entry = &table->entries[ref->slot];
  if (!entry->buffer) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "binding table slot %" PRIu32
                           " is referenced but holds no buffer",
                           ref->slot);
  }
  // The entry's own range within its buffer: M available bytes at b.
  irhal_device_size_t available = entry->length;
  IRT_RETURN_IF_ERROR_CTX(irhal_buffer_check_range(entry->buffer, entry->offset,
                                                   &available, "binding"),
                          "binding table slot %" PRIu32, ref->slot);
  if (ref->offset > available) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "offset %" PRIu64 " is beyond the %" PRIu64
                           " bytes of binding table slot %" PRIu32,
                           ref->offset, available, ref->slot);
  }
  irhal_device_size_t length = ref->length;
  if (length == IRHAL_WHOLE_LENGTH) {
    length = available - ref->offset;
  } else if (!irt_range_fits(ref->offset, length, available)) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "range [%" PRIu64 ", +%" PRIu64
                           ") exceeds the %" PRIu64
                           " bytes of binding table slot %" PRIu32,
                           ref->offset, length, available, ref->slot);
  }
  *out_resolved = (irhal_resolved_ref_t){entry->buffer,
                                         entry->offset + ref->offset, length};
  return IRT_OK;
}

// Resolves a recorded reference that must name a buffer.
irt_status_t irhal_command_buffer_resolve_buffer(
    const irhal_buffer_ref_t* ref, const irhal_binding_table_t* table,
    const char* what, irhal_resolved_ref_t* out_resolved) {
  IRT_RETURN_IF_ERROR_CTX(
      irhal_command_buffer_resolve(ref, table, out_resolved),
      "resolving the %s", what);
  if (!out_resolved->buffer) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "%s refers to binding slot %" PRIu32
                           " but the submission has no binding table",
                           what, ref->slot);
  }
  return IRT_OK;
}

// The bytes a copy moves: its explicit length (recording made explicit
// lengths agree), else what the source provides; it must fit both sides.
irt_status_t irhal_command_copy_length(const irhal_command_t* command,
                                       const irhal_resolved_ref_t* source,
                                       const irhal_resolved_ref_t* target,
                                       irhal_device_size_t* out_length) {
  irhal_device_size_t length = source->length;
  if (command->copy.source.length == IRHAL_WHOLE_LENGTH &&
      command->copy.target.length != IRHAL_WHOLE_LENGTH) {
    length = target->length;
  }
  if (length > source->length || length > target->length) {
    bool source_short = length > source->length;
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "copy of %" PRIu64 " bytes does not fit the %" PRIu64
                           " bytes the %s binding provides",
                           length,
                           source_short ? source->length : target->length,
                           source_short ? "source" : "target");
  }
  *out_length = length;
  return IRT_OK;
}

irt_status_t irhal_command_buffer_replay(const irhal_command_buffer_t* cb,
                                         const irhal_binding_table_t* table,
                                         irhal_command_fn_t fn,
                                         void* user_data) {
  uint32_t count = irhal_command_buffer_command_count(cb);
  for (uint32_t i = 0; i < count; ++i) {
    IRT_RETURN_IF_ERROR_CTX(
        fn(user_data, irhal_command_buffer_command(cb, i), table),
        "command %" PRIu32 " of %" PRIu32, i, count);
  }
  return IRT_OK;
}
