// Devices (HAL spec 1.5.6, 1.6): the vtable each driver implements, and the
// queue entry points the `hal` module and hosts call, which validate their
// arguments and build queue ops (queue.h) for the driver.
#ifndef IRHAL_DEVICE_H
#define IRHAL_DEVICE_H

#include "hal/buffer.h"
#include "hal/command_buffer.h"
#include "hal/executable.h"
#include "hal/fence.h"
#include "hal/file.h"
#include "hal/memory_stats.h"
#include "hal/queue.h"
#include "runtime/base/string_view.h"

typedef struct irhal_device_s irhal_device_t;

typedef struct irhal_device_vtable_s {
  void (*destroy)(irhal_device_t* device);
  // The value for (category, key), or NOT_FOUND for pairs the device does
  // not answer. `hal.device.id` and `hal.executable.format` are answered by
  // irhal_device_query_i64 from |id| and supports_format.
  irt_status_t (*query_i64)(irhal_device_t* device, irt_string_view_t category,
                            irt_string_view_t key, int64_t* out_value);
  bool (*supports_format)(irhal_device_t* device, irt_string_view_t format);
  irt_status_t (*allocate_buffer)(irhal_device_t* device, uint32_t memory_type,
                                  uint32_t usage, irhal_device_size_t size,
                                  irhal_buffer_t** out_buffer);
  // Imports host memory without copying; UNAVAILABLE if the device cannot
  // use host memory directly (callers then fall back to a copy).
  irt_status_t (*import_host_buffer)(irhal_device_t* device, void* data,
                                     irhal_device_size_t length,
                                     uint32_t memory_type, uint32_t usage,
                                     uint32_t access,
                                     irhal_release_callback_t release,
                                     irhal_buffer_t** out_buffer);
  // Loads an executable. |data| stays valid while |data_owner| (a vm.buffer
  // ref, may be NULL) is retained, so loaders may alias it.
  irt_status_t (*create_executable)(irhal_device_t* device,
                                    irt_string_view_t format,
                                    const uint8_t* data, size_t size,
                                    const irvm_ref_t* data_owner,
                                    const uint32_t* constants,
                                    uint32_t constant_count,
                                    irhal_executable_t** out_executable);
  // Takes ownership of |op| and completes it eventually. Errors returned
  // here mean the op was not accepted (the caller still owns it).
  irt_status_t (*queue_submit)(irhal_device_t* device, irhal_queue_op_t* op);
  // Optional: pins host memory the device copies to and from often (the
  // daemon's shared-memory regions) so imports inside it are used in place
  // and copies run at DMA speed. NULL for devices that use host memory as
  // it is (CPU devices). Unregistering happens before the memory is
  // unmapped.
  irt_status_t (*register_host_memory)(irhal_device_t* device, void* data,
                                       size_t length);
  void (*unregister_host_memory)(irhal_device_t* device, void* data);
  // How queue reads and writes of files run (spec 4.3). false: the driver
  // executes READ/WRITE ops itself (CPU devices: their buffers are host
  // memory). true: the host cannot map the device's buffers, so
  // irhal_device_queue_read/write stream through a bounded ring of
  // allocate_buffer host-visible staging and COPY ops (hal/file_transfer.h);
  // the driver never sees READ/WRITE ops.
  bool stage_file_transfers;
  // Optional, with stage_file_transfers: true when the driver executes the
  // READ/WRITE ops of |file| itself after all (a CUDA device with cuFile
  // reads fd files straight into device memory).
  bool (*transfers_file_directly)(irhal_device_t* device,
                                  const irhal_file_t* file);
} irhal_device_vtable_t;

struct irhal_device_s {
  irvm_ref_object_t header;
  const irhal_device_vtable_t* vtable;
  irt_string_view_t id;  // "local-sync", "local-task", "vulkan", "cuda"
  irt_allocator_t host_allocator;
  irhal_memory_stats_t* memory_stats;  // of |id| (hal/memory_stats.h)
  // Bytes of the staging ring of streamed file transfers (devices that set
  // stage_file_transfers); 0: IRHAL_STAGING_DEFAULT_*. Set by the host
  // (irhal_device_set_staging_size) before the device is used.
  irhal_device_size_t staging_size;
};

extern const irvm_ref_type_t irhal_device_type_descriptor;
static inline const irvm_ref_type_t* irhal_device_type(void) {
  return &irhal_device_type_descriptor;
}
static inline irhal_device_t* irhal_device_deref(const irvm_ref_t* ref) {
  return ref->type == &irhal_device_type_descriptor ? (irhal_device_t*)ref->ptr
                                                    : NULL;
}
static inline void irhal_device_retain(irhal_device_t* device) {
  irvm_object_retain(device);
}
static inline void irhal_device_release(irhal_device_t* device) {
  irvm_object_release(device, &irhal_device_type_descriptor);
}

void irhal_device_initialize(irhal_device_t* device,
                             const irhal_device_vtable_t* vtable,
                             irt_string_view_t id,
                             irt_allocator_t host_allocator);

// vtable->allocate_buffer, counted in the device's memory_stats until the
// buffer is destroyed. Every allocation made for compiled code or the
// caller goes through this.
irt_status_t irhal_device_allocate_buffer(
    irhal_device_t* device, uint32_t memory_type, uint32_t usage,
    irhal_device_size_t size, irhal_buffer_t** out_buffer) IRT_MUST_USE;
// Bounds the staging of the device's streamed file transfers to |size|
// bytes (spread over the default number of slots; 0: the default ring).
void irhal_device_set_staging_size(irhal_device_t* device,
                                   irhal_device_size_t size);

// hal.device.query.i64: *out_ok false (value 0) for unknown pairs.
irt_status_t irhal_device_query_i64(irhal_device_t* device,
                                    irt_string_view_t category,
                                    irt_string_view_t key, bool* out_ok,
                                    int64_t* out_value) IRT_MUST_USE;

// Pins |length| bytes at |data| for |device| when it wants host memory
// registered (*out_registered true: call irhal_device_unregister_host_memory
// before unmapping); does nothing for devices that use host memory as is.
irt_status_t irhal_device_register_host_memory(irhal_device_t* device,
                                               void* data, size_t length,
                                               bool* out_registered)
    IRT_MUST_USE;
void irhal_device_unregister_host_memory(irhal_device_t* device, void* data);

// Queue entry points. Each checks its arguments (ranges, usage, access,
// pattern sizes) synchronously and submits an op. Fences may be NULL.
irt_status_t irhal_device_queue_alloca(irhal_device_t* device, uint64_t affinity,
                                       irhal_fence_t* wait, irhal_fence_t* signal,
                                       uint32_t memory_type, uint32_t usage,
                                       irhal_device_size_t size,
                                       irhal_buffer_t** out_buffer) IRT_MUST_USE;
irt_status_t irhal_device_queue_dealloca(irhal_device_t* device,
                                         uint64_t affinity, irhal_fence_t* wait,
                                         irhal_fence_t* signal,
                                         irhal_buffer_t* buffer) IRT_MUST_USE;
irt_status_t irhal_device_queue_barrier(irhal_device_t* device,
                                        uint64_t affinity, irhal_fence_t* wait,
                                        irhal_fence_t* signal) IRT_MUST_USE;
irt_status_t irhal_device_queue_fill(irhal_device_t* device, uint64_t affinity,
                                     irhal_fence_t* wait, irhal_fence_t* signal,
                                     irhal_buffer_t* target,
                                     irhal_device_size_t offset,
                                     irhal_device_size_t length,
                                     uint64_t pattern,
                                     uint32_t pattern_length) IRT_MUST_USE;
irt_status_t irhal_device_queue_update(irhal_device_t* device, uint64_t affinity,
                                       irhal_fence_t* wait, irhal_fence_t* signal,
                                       const void* source, irhal_buffer_t* target,
                                       irhal_device_size_t offset,
                                       irhal_device_size_t length) IRT_MUST_USE;
irt_status_t irhal_device_queue_copy(irhal_device_t* device, uint64_t affinity,
                                     irhal_fence_t* wait, irhal_fence_t* signal,
                                     irhal_buffer_t* source,
                                     irhal_device_size_t source_offset,
                                     irhal_buffer_t* target,
                                     irhal_device_size_t target_offset,
                                     irhal_device_size_t length) IRT_MUST_USE;
// Checks the operands of a queue.read (|read|: file -> buffer) or
// queue.write (buffer -> file) and resolves a whole |inout_length|: what
// irhal_device_queue_read/write and the staged path (file_transfer.h) check.
irt_status_t irhal_device_check_file_transfer(
    bool read, const irhal_file_t* file, uint64_t file_offset,
    const irhal_buffer_t* buffer, irhal_device_size_t buffer_offset,
    irhal_device_size_t* inout_length) IRT_MUST_USE;
// File transfers: executed by the driver, or staged when the vtable says
// stage_file_transfers (then they run partly on the calling thread; see
// hal/file_transfer.h).
irt_status_t irhal_device_queue_read(irhal_device_t* device, uint64_t affinity,
                                     irhal_fence_t* wait, irhal_fence_t* signal,
                                     irhal_file_t* source, uint64_t file_offset,
                                     irhal_buffer_t* target,
                                     irhal_device_size_t target_offset,
                                     irhal_device_size_t length) IRT_MUST_USE;
irt_status_t irhal_device_queue_write(irhal_device_t* device, uint64_t affinity,
                                      irhal_fence_t* wait, irhal_fence_t* signal,
                                      irhal_buffer_t* source,
                                      irhal_device_size_t source_offset,
                                      irhal_file_t* target, uint64_t file_offset,
                                      irhal_device_size_t length) IRT_MUST_USE;
// Executes a finalized command buffer with |table| (copied; may be empty).
irt_status_t irhal_device_queue_execute(irhal_device_t* device,
                                        uint64_t affinity, irhal_fence_t* wait,
                                        irhal_fence_t* signal,
                                        irhal_command_buffer_t* command_buffer,
                                        const irhal_binding_table_t* table)
    IRT_MUST_USE;

#endif  // IRHAL_DEVICE_H
