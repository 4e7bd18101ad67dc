// The Vulkan queue: queue operations become Vulkan command buffers once
// their wait fence is reached; a timeline semaphore orders the submissions
// and a completion thread signals the operations' fences as the timeline
// reaches them.
#include <inttypes.h>
#include <string.h>

#include "hal/vulkan/vulkan_internal.h"

// One submitted operation and what its command buffer uses.
struct irhal_vulkan_submission_s {
  irhal_vulkan_submission_t* next;
  irhal_vulkan_device_t* device;
  irhal_queue_op_t* op;
  VkCommandBuffer command_buffer;
  VkDescriptorPool descriptor_pool;
  // Host-visible bytes copied into targets: update data and the unaligned
  // head and tail of fills (vkCmdFillBuffer works on whole words only).
  irhal_buffer_t* upload;
  uint8_t* upload_ptr;
  VkBuffer upload_buffer;
  VkDeviceSize upload_used;
  uint64_t value;  // timeline value signalled when it completes
};

static void irhal_vulkan_submission_free(irhal_vulkan_submission_t* s) {
  irhal_vulkan_device_t* device = s->device;
  if (s->command_buffer) {
    pthread_mutex_lock(&device->mutex);
    vkFreeCommandBuffers(device->device, device->command_pool, 1,
                         &s->command_buffer);
    pthread_mutex_unlock(&device->mutex);
  }
  if (s->descriptor_pool) {
    vkDestroyDescriptorPool(device->device, s->descriptor_pool, NULL);
  }
  irhal_buffer_release(s->upload);
  irt_allocator_free(device->base.host_allocator, s);
}

// Completes |op| and drops it from the device's pending count.
static void irhal_vulkan_op_finish(irhal_vulkan_device_t* device,
                                   irhal_queue_op_t* op, irt_status_t status) {
  irhal_queue_op_complete(op, status);
  pthread_mutex_lock(&device->mutex);
  if (--device->pending_count == 0) pthread_cond_broadcast(&device->cond);
  pthread_mutex_unlock(&device->mutex);
}

//===----------------------------------------------------------------------===//
// Recording
//===----------------------------------------------------------------------===//

// Upload bytes and descriptors a command list needs.
typedef struct irhal_vulkan_needs_s {
  VkDeviceSize upload_bytes;
  uint32_t dispatch_count;
  uint32_t descriptor_count;
} irhal_vulkan_needs_t;

static void irhal_vulkan_count_command(const irhal_command_t* command,
                                       irhal_vulkan_needs_t* needs) {
  switch (command->kind) {
    case IRHAL_COMMAND_FILL:
      needs->upload_bytes += 8;  // at most 3 head and 3 tail bytes
      break;
    case IRHAL_COMMAND_UPDATE:
      needs->upload_bytes += command->update.target.length;
      break;
    case IRHAL_COMMAND_DISPATCH:
      ++needs->dispatch_count;
      needs->descriptor_count += command->dispatch.binding_count;
      break;
    default:
      break;
  }
}

static irt_status_t irhal_vulkan_prepare(irhal_vulkan_submission_t* s,
                                         const irhal_vulkan_needs_t* needs) {
  irhal_vulkan_device_t* device = s->device;
  if (needs->upload_bytes) {
    IRT_RETURN_IF_ERROR(irhal_vulkan_allocate_buffer(
        &device->base, IRHAL_MEMORY_TYPE_HOST_LOCAL,
        IRHAL_BUFFER_USAGE_TRANSFER | IRHAL_BUFFER_USAGE_MAPPING,
        needs->upload_bytes, &s->upload));
    irhal_vulkan_memory_t* memory = s->upload->storage;
    s->upload_ptr = memory->host_ptr;
    s->upload_buffer = memory->buffer;
  }
  if (needs->dispatch_count) {
    uint32_t descriptors = needs->descriptor_count ? needs->descriptor_count : 1;
    VkDescriptorPoolSize sizes[2] = {
        {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, descriptors},
        {VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, descriptors},
    };
    VkDescriptorPoolCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = needs->dispatch_count,
        .poolSizeCount = 2,
        .pPoolSizes = sizes,
    };
    VkResult result = vkCreateDescriptorPool(device->device, &info, NULL,
                                             &s->descriptor_pool);
    if (result != VK_SUCCESS) {
      s->descriptor_pool = VK_NULL_HANDLE;
      return irhal_vulkan_result_status(result, "vkCreateDescriptorPool");
    }
  }
  return IRT_OK;
}

// A memory barrier between everything before and after (spec 7.5: all
// shader and transfer writes visible to all later reads and writes).
static void irhal_vulkan_full_barrier(VkCommandBuffer cb,
                                      VkPipelineStageFlags dst_stage,
                                      VkAccessFlags dst_access) {
  VkMemoryBarrier barrier = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
      .dstAccessMask = dst_access,
  };
  vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, dst_stage, 0, 1,
                       &barrier, 0, NULL, 0, NULL);
}

// Copies |length| host bytes through the upload buffer into |target|.
static void irhal_vulkan_record_upload(irhal_vulkan_submission_t* s,
                                       const void* data, VkDeviceSize length,
                                       VkBuffer target,
                                       VkDeviceSize target_offset) {
  if (!length) return;
  memcpy(s->upload_ptr + s->upload_used, data, (size_t)length);
  VkBufferCopy region = {s->upload_used, target_offset, length};
  vkCmdCopyBuffer(s->command_buffer, s->upload_buffer, target, 1, &region);
  s->upload_used += length;
}

static irt_status_t irhal_vulkan_record_fill(
    irhal_vulkan_submission_t* s, const irhal_buffer_t* buffer,
    irhal_device_size_t offset, irhal_device_size_t length, uint64_t pattern,
    uint32_t pattern_length) {
  IRT_RETURN_IF_ERROR(irhal_check_fill_pattern(offset, length, pattern_length));
  VkBuffer target;
  VkDeviceSize start;
  IRT_RETURN_IF_ERROR(irhal_vulkan_buffer_resolve(
      s->device, buffer, offset, "fill target", &target, &start));
  // Byte i of the fill is pattern byte i % pattern_length (little-endian).
  uint8_t bytes[8];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = (uint8_t)(pattern >> (8 * (i % pattern_length)));
  }
  VkDeviceSize head = (4 - start % 4) % 4;
  if (head > length) head = length;
  VkDeviceSize interior = (length - head) & ~(VkDeviceSize)3;
  VkDeviceSize tail = length - head - interior;
  irhal_vulkan_record_upload(s, bytes, head, target, start);
  if (interior) {
    // The word starting at fill byte |head|: 4 is a multiple of every
    // pattern length, so it repeats across the interior.
    uint32_t word = 0;
    for (int i = 0; i < 4; ++i) {
      word |= (uint32_t)bytes[(head + (VkDeviceSize)i) % pattern_length] << (8 * i);
    }
    vkCmdFillBuffer(s->command_buffer, target, start + head, interior, word);
  }
  uint8_t tail_bytes[4];
  for (VkDeviceSize i = 0; i < tail; ++i) {
    tail_bytes[i] = bytes[(head + interior + i) % pattern_length];
  }
  irhal_vulkan_record_upload(s, tail_bytes, tail, target,
                             start + head + interior);
  return IRT_OK;
}

static irt_status_t irhal_vulkan_record_update(irhal_vulkan_submission_t* s,
                                               const uint8_t* data,
                                               const irhal_buffer_t* buffer,
                                               irhal_device_size_t offset,
                                               irhal_device_size_t length) {
  VkBuffer target;
  VkDeviceSize start;
  IRT_RETURN_IF_ERROR(irhal_vulkan_buffer_resolve(
      s->device, buffer, offset, "update target", &target, &start));
  irhal_vulkan_record_upload(s, data, length, target, start);
  return IRT_OK;
}

static irt_status_t irhal_vulkan_record_copy(
    irhal_vulkan_submission_t* s, const irhal_buffer_t* source,
    irhal_device_size_t source_offset, const irhal_buffer_t* target,
    irhal_device_size_t target_offset, irhal_device_size_t length) {
  VkBuffer from, to;
  VkDeviceSize from_offset, to_offset;
  IRT_RETURN_IF_ERROR(irhal_vulkan_buffer_resolve(
      s->device, source, source_offset, "copy source", &from, &from_offset));
  IRT_RETURN_IF_ERROR(irhal_vulkan_buffer_resolve(
      s->device, target, target_offset, "copy target", &to, &to_offset));
  if (!length) return IRT_OK;
  VkBufferCopy region = {from_offset, to_offset, length};
  vkCmdCopyBuffer(s->command_buffer, from, to, 1, &region);
  return IRT_OK;
}

// Descriptor set 0 of a dispatch (spec 7.5 step 3).
static irt_status_t irhal_vulkan_write_descriptors(
    irhal_vulkan_submission_t* s, const irhal_vulkan_pipeline_t* pipeline,
    const irhal_command_t* command, const irhal_binding_table_t* table,
    VkDescriptorSet* out_set) {
  irhal_vulkan_device_t* device = s->device;
  VkDescriptorSetAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
      .descriptorPool = s->descriptor_pool,
      .descriptorSetCount = 1,
      .pSetLayouts = &pipeline->set_layout,
  };
  VkResult result = vkAllocateDescriptorSets(device->device, &info, out_set);
  if (result != VK_SUCCESS) {
    return irhal_vulkan_result_status(result, "vkAllocateDescriptorSets");
  }
  VkDescriptorBufferInfo buffers[IRHAL_MAX_DISPATCH_BINDINGS];
  VkWriteDescriptorSet writes[IRHAL_MAX_DISPATCH_BINDINGS];
  uint32_t count = command->dispatch.binding_count;
  VkDeviceSize alignment =
      device->properties.limits.minStorageBufferOffsetAlignment;
  for (uint32_t i = 0; i < count; ++i) {
    irhal_resolved_ref_t binding;
    IRT_RETURN_IF_ERROR_CTX(
        irhal_command_buffer_resolve_buffer(&command->dispatch.bindings[i], table, "binding",
                             &binding),
        "dispatch binding %" PRIu32, i);
    IRT_RETURN_IF_ERROR(irhal_vulkan_buffer_resolve(
        device, binding.buffer, binding.offset, "a dispatch binding",
        &buffers[i].buffer, &buffers[i].offset));
    if (alignment && buffers[i].offset % alignment) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "dispatch binding %" PRIu32 " starts at byte %" PRIu64
                             " of its allocation, not a multiple of the "
                             "device's %" PRIu64 "-byte storage offset alignment",
                             i, (uint64_t)buffers[i].offset,
                             (uint64_t)alignment);
    }
    // Rounded up to words: shaders read sub-word data as whole words.
    buffers[i].range = (binding.length + 3) & ~(VkDeviceSize)3;
    if (buffers[i].range == 0) buffers[i].range = VK_WHOLE_SIZE;
    uint32_t type = i < pipeline->binding_count
                        ? pipeline->descriptor_types[i]
                        : IRHAL_VULKAN_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i] = (VkWriteDescriptorSet){
        .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
        .dstSet = *out_set,
        .dstBinding = i,
        .descriptorCount = 1,
        .descriptorType = (VkDescriptorType)type,
        .pBufferInfo = &buffers[i],
    };
  }
  if (count) vkUpdateDescriptorSets(device->device, count, writes, 0, NULL);
  return IRT_OK;
}

static irt_status_t irhal_vulkan_record_dispatch(
    irhal_vulkan_submission_t* s, const irhal_command_t* command,
    const irhal_binding_table_t* table) {
  if (command->dispatch.flags & (IRHAL_DISPATCH_FLAG_CUSTOM_DIRECT_ARGUMENTS |
                                 IRHAL_DISPATCH_FLAG_DYNAMIC_INDIRECT_ARGUMENTS |
                                 IRHAL_DISPATCH_FLAG_STATIC_INDIRECT_ARGUMENTS)) {
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           "custom dispatch arguments are not supported");
  }
  const irhal_vulkan_pipeline_t* pipeline = NULL;
  IRT_RETURN_IF_ERROR(irhal_vulkan_executable_pipeline(
      s->device, command->dispatch.executable, command->dispatch.export_ordinal,
      &pipeline));
  VkDescriptorSet set = VK_NULL_HANDLE;
  IRT_RETURN_IF_ERROR(
      irhal_vulkan_write_descriptors(s, pipeline, command, table, &set));
  VkCommandBuffer cb = s->command_buffer;
  if (command->dispatch.constant_count) {
    vkCmdPushConstants(cb, pipeline->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                       4 * command->dispatch.constant_count,
                       command->dispatch.constants);
  }
  vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline->pipeline);
  vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline->layout,
                          0, 1, &set, 0, NULL);
  if (!command->dispatch.indirect) {
    const uint32_t* count = command->dispatch.workgroup_count;
    vkCmdDispatch(cb, count[0], count[1], count[2]);
    return IRT_OK;
  }
  irhal_resolved_ref_t counts;
  IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve_buffer(&command->dispatch.workgroups_ref,
                                           table, "workgroup count buffer",
                                           &counts));
  VkBuffer buffer;
  VkDeviceSize offset;
  IRT_RETURN_IF_ERROR(irhal_vulkan_buffer_resolve(
      s->device, counts.buffer, counts.offset, "the workgroup count buffer",
      &buffer, &offset));
  if (offset % 4) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "workgroup counts at byte %" PRIu64
                           " are not 4-byte aligned",
                           (uint64_t)offset);
  }
  vkCmdDispatchIndirect(cb, buffer, offset);
  return IRT_OK;
}

static irt_status_t irhal_vulkan_record_command(
    void* user_data, const irhal_command_t* command,
    const irhal_binding_table_t* table) {
  irhal_vulkan_submission_t* s = user_data;
  irhal_resolved_ref_t target, source;
  switch (command->kind) {
    case IRHAL_COMMAND_BARRIER:
      irhal_vulkan_full_barrier(
          s->command_buffer, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
          VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
      return IRT_OK;
    case IRHAL_COMMAND_FILL:
      IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve_buffer(&command->fill.target, table,
                                               "fill target", &target));
      return irhal_vulkan_record_fill(s, target.buffer, target.offset,
                                      target.length, command->fill.pattern,
                                      command->fill.pattern_length);
    case IRHAL_COMMAND_UPDATE:
      IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve_buffer(&command->update.target, table,
                                               "update target", &target));
      return irhal_vulkan_record_update(s, command->update.data, target.buffer,
                                        target.offset, target.length);
    case IRHAL_COMMAND_COPY: {
      IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve_buffer(&command->copy.source, table,
                                               "copy source", &source));
      IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve_buffer(&command->copy.target, table,
                                               "copy target", &target));
      irhal_device_size_t length = 0;
      IRT_RETURN_IF_ERROR(
          irhal_command_copy_length(command, &source, &target, &length));
      return irhal_vulkan_record_copy(s, source.buffer, source.offset,
                                      target.buffer, target.offset, length);
    }
    case IRHAL_COMMAND_DISPATCH:
      return irhal_vulkan_record_dispatch(s, command, table);
  }
  return irt_make_status(IRT_STATUS_INTERNAL, "unknown command kind %d",
                         (int)command->kind);
}

// Records the body of |op| into s->command_buffer.
static irt_status_t irhal_vulkan_record_op(irhal_vulkan_submission_t* s) {
  irhal_queue_op_t* op = s->op;
  switch (op->kind) {
    case IRHAL_QUEUE_OP_FILL:
      return irhal_vulkan_record_fill(s, op->fill.target, op->fill.offset,
                                      op->fill.length, op->fill.pattern,
                                      op->fill.pattern_length);
    case IRHAL_QUEUE_OP_UPDATE:
      return irhal_vulkan_record_update(s, op->update.data, op->update.target,
                                        op->update.offset, op->update.length);
    case IRHAL_QUEUE_OP_COPY:
      return irhal_vulkan_record_copy(s, op->copy.source, op->copy.source_offset,
                                      op->copy.target, op->copy.target_offset,
                                      op->copy.length);
    case IRHAL_QUEUE_OP_EXECUTE:
      return irhal_command_buffer_replay(op->execute.command_buffer,
                                         &op->execute.binding_table,
                                         irhal_vulkan_record_command, s);
    default:
      // READ/WRITE are staged by the HAL (stage_file_transfers).
      return irt_make_status(IRT_STATUS_INTERNAL,
                             "queue operation %d reached the Vulkan queue",
                             (int)op->kind);
  }
}

static irt_status_t irhal_vulkan_plan(irhal_vulkan_submission_t* s) {
  irhal_queue_op_t* op = s->op;
  irhal_vulkan_needs_t needs = {0};
  if (op->kind == IRHAL_QUEUE_OP_EXECUTE) {
    const irhal_command_buffer_t* cb = op->execute.command_buffer;
    uint32_t count = irhal_command_buffer_command_count(cb);
    for (uint32_t i = 0; i < count; ++i) {
      irhal_vulkan_count_command(irhal_command_buffer_command(cb, i), &needs);
    }
  } else if (op->kind == IRHAL_QUEUE_OP_FILL) {
    needs.upload_bytes = 8;
  } else if (op->kind == IRHAL_QUEUE_OP_UPDATE) {
    needs.upload_bytes = op->update.length;
  }
  return irhal_vulkan_prepare(s, &needs);
}

// Records |s| and submits it; on success the completion thread owns it.
static irt_status_t irhal_vulkan_record_and_submit(
    irhal_vulkan_submission_t* s) {
  irhal_vulkan_device_t* device = s->device;
  IRT_RETURN_IF_ERROR(irhal_vulkan_plan(s));
  pthread_mutex_lock(&device->mutex);
  VkCommandBufferAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = device->command_pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
  };
  VkResult result =
      vkAllocateCommandBuffers(device->device, &info, &s->command_buffer);
  irt_status_t status = IRT_OK;
  if (result != VK_SUCCESS) {
    s->command_buffer = VK_NULL_HANDLE;
    status = irhal_vulkan_result_status(result, "vkAllocateCommandBuffers");
  }
  if (!status) {
    VkCommandBufferBeginInfo begin = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    vkBeginCommandBuffer(s->command_buffer, &begin);
    status = irhal_vulkan_record_op(s);
    // The host reads what the op wrote once its fence is signalled.
    irhal_vulkan_full_barrier(s->command_buffer, VK_PIPELINE_STAGE_HOST_BIT,
                              VK_ACCESS_HOST_READ_BIT | VK_ACCESS_HOST_WRITE_BIT);
    result = vkEndCommandBuffer(s->command_buffer);
    if (!status && result != VK_SUCCESS) {
      status = irhal_vulkan_result_status(result, "vkEndCommandBuffer");
    }
  }
  if (!status) {
    // Each submission waits for the one before: the timeline then reaches
    // a value only when every earlier submission is done, and the wait
    // makes their writes visible.
    s->value = ++device->timeline_value;
    uint64_t wait_value = s->value - 1;
    VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
    VkTimelineSemaphoreSubmitInfo timeline = {
        .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
        .waitSemaphoreValueCount = 1,
        .pWaitSemaphoreValues = &wait_value,
        .signalSemaphoreValueCount = 1,
        .pSignalSemaphoreValues = &s->value,
    };
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .pNext = &timeline,
        .waitSemaphoreCount = 1,
        .pWaitSemaphores = &device->timeline,
        .pWaitDstStageMask = &wait_stage,
        .commandBufferCount = 1,
        .pCommandBuffers = &s->command_buffer,
        .signalSemaphoreCount = 1,
        .pSignalSemaphores = &device->timeline,
    };
    result = vkQueueSubmit(device->queue, 1, &submit, VK_NULL_HANDLE);
    if (result != VK_SUCCESS) {
      // Later submissions wait for this value: reach it from the host.
      VkSemaphoreSignalInfo signal = {
          .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
          .semaphore = device->timeline,
          .value = s->value,
      };
      vkSignalSemaphore(device->device, &signal);
      status = irhal_vulkan_result_status(result, "vkQueueSubmit");
    } else {
      if (device->in_flight_tail) {
        device->in_flight_tail->next = s;
      } else {
        device->in_flight_head = s;
      }
      device->in_flight_tail = s;
      pthread_cond_broadcast(&device->cond);
    }
  }
  pthread_mutex_unlock(&device->mutex);
  return status;
}

//===----------------------------------------------------------------------===//
// Submission and completion
//===----------------------------------------------------------------------===//

static const char* irhal_vulkan_op_name(irhal_queue_op_kind_t kind) {
  static const char* const kNames[] = {
      "queue.barrier", "queue.fill", "queue.update", "queue.copy",
      "queue.read",    "queue.write", "queue.execute"};
  return (unsigned)kind < 7 ? kNames[kind] : "queue operation";
}

// Fence callback: the op's wait fence is reached (or failed). Runs on the
// thread that got there, so it only records and submits.
static void irhal_vulkan_op_ready(void* user_data, irt_status_t status) {
  irhal_vulkan_submission_t* s = user_data;
  irhal_vulkan_device_t* device = s->device;
  irhal_queue_op_t* op = s->op;
  if (status) {
    status = irt_status_annotate(status,
                                 "waiting for the operation's wait fence; "
                                 "the operation did not run");
  } else if (op->kind != IRHAL_QUEUE_OP_BARRIER) {
    status = irhal_vulkan_record_and_submit(s);
    if (!status) return;  // the completion thread finishes it
    status = irt_status_annotate(status, "running %s on Vulkan",
                                 irhal_vulkan_op_name(op->kind));
  }
  s->op = NULL;
  irhal_vulkan_submission_free(s);
  irhal_vulkan_op_finish(device, op, status);
}

irt_status_t irhal_vulkan_queue_submit(irhal_device_t* base,
                                       irhal_queue_op_t* op) {
  irhal_vulkan_device_t* device = irhal_vulkan_device_cast(base);
  irhal_vulkan_submission_t* s = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_calloc(base->host_allocator, sizeof(*s), (void**)&s),
      "allocating a Vulkan submission");
  s->device = device;
  s->op = op;
  pthread_mutex_lock(&device->mutex);
  ++device->pending_count;
  pthread_mutex_unlock(&device->mutex);
  irt_status_t status =
      irhal_fence_notify(op->wait_fence, irhal_vulkan_op_ready, s);
  if (status) {
    // Not registered: the callback never runs and the caller keeps |op|.
    irt_allocator_free(base->host_allocator, s);
    pthread_mutex_lock(&device->mutex);
    if (--device->pending_count == 0) pthread_cond_broadcast(&device->cond);
    pthread_mutex_unlock(&device->mutex);
  }
  return status;
}

// Waits for the oldest submission, then completes it; until stopped (or
// asked to tear the device down, see irhal_vulkan_queue_destroy).
static void* irhal_vulkan_completion_main(void* arg) {
  irhal_vulkan_device_t* device = arg;
  for (;;) {
    pthread_mutex_lock(&device->mutex);
    while (!device->in_flight_head && !device->shutting_down &&
           !(device->destroy_requested && device->pending_count == 0)) {
      pthread_cond_wait(&device->cond, &device->mutex);
    }
    irhal_vulkan_submission_t* s = device->in_flight_head;
    bool teardown = !s && device->destroy_requested;
    pthread_mutex_unlock(&device->mutex);
    if (!s) {
      if (teardown) {
        pthread_detach(pthread_self());
        irhal_vulkan_device_teardown(device);
      }
      break;
    }
    VkSemaphoreWaitInfo wait = {
        .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
        .semaphoreCount = 1,
        .pSemaphores = &device->timeline,
        .pValues = &s->value,
    };
    VkResult result = vkWaitSemaphores(device->device, &wait, UINT64_MAX);
    pthread_mutex_lock(&device->mutex);
    device->in_flight_head = s->next;
    if (!device->in_flight_head) device->in_flight_tail = NULL;
    pthread_mutex_unlock(&device->mutex);
    irhal_queue_op_t* op = s->op;
    irt_status_t status =
        result == VK_SUCCESS
            ? IRT_OK
            : irt_status_annotate(
                  irhal_vulkan_result_status(result, "vkWaitSemaphores"),
                  "waiting for %s on Vulkan", irhal_vulkan_op_name(op->kind));
    irhal_vulkan_submission_free(s);
    irhal_vulkan_op_finish(device, op, status);
  }
  return NULL;
}

irt_status_t irhal_vulkan_queue_start(irhal_vulkan_device_t* device) {
  int error = pthread_create(&device->completion_thread, NULL,
                             irhal_vulkan_completion_main, device);
  if (error) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "cannot start the Vulkan completion thread "
                           "(error %d)",
                           error);
  }
  return IRT_OK;
}

void irhal_vulkan_queue_destroy(irhal_vulkan_device_t* device) {
  pthread_mutex_lock(&device->mutex);
  if (pthread_equal(pthread_self(), device->completion_thread)) {
    device->destroy_requested = true;
    pthread_mutex_unlock(&device->mutex);
    return;
  }
  while (device->pending_count) {
    pthread_cond_wait(&device->cond, &device->mutex);
  }
  device->shutting_down = true;
  pthread_cond_broadcast(&device->cond);
  pthread_mutex_unlock(&device->mutex);
  pthread_join(device->completion_thread, NULL);
  irhal_vulkan_device_teardown(device);
}
