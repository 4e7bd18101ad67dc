#include "runtime/modules/hal/hal_module.h"

#include "runtime/modules/hal/module_internal.h"

irt_status_t irmod_hal_register_types(irvm_instance_t* instance) {
  for (size_t i = 0; i < IRHAL_REF_TYPE_COUNT; ++i) {
    IRT_RETURN_IF_ERROR(
        irvm_instance_register_type(instance, irhal_ref_types[i]));
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Device group
//===----------------------------------------------------------------------===//

irt_status_t irmod_hal_devices_count(irvm_native_call_t* call) {
  irvm_abi_write_i32(&call->results,
                     (int32_t)irmod_hal_module(call)->device_count);
  return IRT_OK;
}

irt_status_t irmod_hal_devices_get(irvm_native_call_t* call) {
  irmod_hal_module_t* module = irmod_hal_module(call);
  int32_t index = irvm_abi_read_i32(&call->arguments);
  irhal_device_t* device = NULL;
  if (index >= 0 && (size_t)index < module->device_count) {
    device = module->devices[index];
    irhal_device_retain(device);
  }
  irmod_hal_result_ref(call, device, irhal_device_type());
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// The module
//===----------------------------------------------------------------------===//

// Sorted by byte-wise name comparison (spec 1.5); the cconvs are matched
// byte for byte against compiled modules' imports.
static const irvm_native_export_t irmod_hal_exports[] = {
    {"allocator.allocate", "0rIiiI_r", irmod_hal_allocator_allocate},
    {"allocator.import", "0riIiirII_r", irmod_hal_allocator_import},
    {"allocator.select", "0iiICrID_rI", irmod_hal_allocator_select},
    {"buffer.allocation.discard", "0r_i", irmod_hal_buffer_allocation_discard},
    {"buffer.allocation.is_terminal", "0r_i",
     irmod_hal_buffer_allocation_is_terminal},
    {"buffer.allocation.preserve", "0r_v",
     irmod_hal_buffer_allocation_preserve},
    {"buffer.assert", "0rrrIii_v", irmod_hal_buffer_assert},
    {"buffer.length", "0r_I", irmod_hal_buffer_length},
    {"buffer.load", "0rIi_i", irmod_hal_buffer_load},
    {"buffer.store", "0irIi_v", irmod_hal_buffer_store},
    {"buffer.subspan", "0rII_r", irmod_hal_buffer_subspan},
    {"buffer_view.assert", "0rriiCID_v", irmod_hal_buffer_view_assert},
    {"buffer_view.buffer", "0r_r", irmod_hal_buffer_view_buffer},
    {"buffer_view.create", "0rIIiiCID_r", irmod_hal_buffer_view_create},
    {"buffer_view.dim", "0ri_I", irmod_hal_buffer_view_dim},
    {"buffer_view.element_type", "0r_i", irmod_hal_buffer_view_element_type},
    {"buffer_view.encoding_type", "0r_i", irmod_hal_buffer_view_encoding_type},
    {"buffer_view.rank", "0r_i", irmod_hal_buffer_view_rank},
    {"buffer_view.trace", "0rCrD_v", irmod_hal_buffer_view_trace},
    {"channel.create", "0rIIrrii_r", irmod_hal_channel_create},
    {"channel.rank_and_count", "0r_ii", irmod_hal_channel_rank_and_count},
    {"channel.split", "0riiI_r", irmod_hal_channel_split},
    {"command_buffer.advise_buffer", "0rrIIIi_v",
     irmod_hal_command_buffer_advise_buffer},
    {"command_buffer.begin_debug_group", "0rr_v",
     irmod_hal_command_buffer_begin_debug_group},
    {"command_buffer.collective", "0rriiiirrIIIII_v",
     irmod_hal_command_buffer_collective},
    {"command_buffer.copy_buffer", "0riirIrIII_v",
     irmod_hal_command_buffer_copy_buffer},
    {"command_buffer.create", "0riiIi_r", irmod_hal_command_buffer_create},
    {"command_buffer.dispatch", "0rriiiiICiDCiirIID_v",
     irmod_hal_command_buffer_dispatch},
    {"command_buffer.dispatch.indirect", "0rriirIICiDCiirIID_v",
     irmod_hal_command_buffer_dispatch_indirect},
    {"command_buffer.end_debug_group", "0r_v",
     irmod_hal_command_buffer_end_debug_group},
    {"command_buffer.execution_barrier", "0riiI_v",
     irmod_hal_command_buffer_execution_barrier},
    {"command_buffer.fill_buffer", "0rrIIiIiI_v",
     irmod_hal_command_buffer_fill_buffer},
    {"command_buffer.finalize", "0r_v", irmod_hal_command_buffer_finalize},
    {"command_buffer.update_buffer", "0rrIrIIiI_v",
     irmod_hal_command_buffer_update_buffer},
    {"device.allocator", "0r_r", irmod_hal_device_allocator},
    {"device.query.i64", "0rrr_iI", irmod_hal_device_query_i64},
    {"device.queue.alloca", "0rIrrIiiII_r", irmod_hal_device_queue_alloca},
    {"device.queue.barrier", "0rIrrI_v", irmod_hal_device_queue_barrier},
    {"device.queue.copy", "0rIrrrIrIII_v", irmod_hal_device_queue_copy},
    {"device.queue.dealloca", "0rIrrrI_v", irmod_hal_device_queue_dealloca},
    {"device.queue.execute", "0rIrrrI_v", irmod_hal_device_queue_execute},
    {"device.queue.execute.indirect", "0rIrrrICrIID_v",
     irmod_hal_device_queue_execute_indirect},
    {"device.queue.fill", "0rIrrrIIIiI_v", irmod_hal_device_queue_fill},
    {"device.queue.flush", "0rI_v", irmod_hal_device_queue_flush},
    {"device.queue.read", "0rIrrrIrIII_v", irmod_hal_device_queue_read},
    {"device.queue.update", "0rIrrrIrIII_v", irmod_hal_device_queue_update},
    {"device.queue.write", "0rIrrrIrIII_v", irmod_hal_device_queue_write},
    {"devices.count", "0v_i", irmod_hal_devices_count},
    {"devices.get", "0i_r", irmod_hal_devices_get},
    {"ex.file.from_memory", "0rIirIIi_r", irmod_hal_ex_file_from_memory},
    {"executable.create", "0rIrrr_r", irmod_hal_executable_create},
    {"fence.await", "0iICrD_i", irmod_hal_fence_await},
    {"fence.create", "0rI_r", irmod_hal_fence_create},
    {"fence.fail", "0ri_v", irmod_hal_fence_fail},
    {"fence.join", "0ICrD_r", irmod_hal_fence_join},
    {"fence.query", "0r_i", irmod_hal_fence_query},
    {"fence.signal", "0r_v", irmod_hal_fence_signal},
};

static void irmod_hal_module_destroy(void* self) {
  irmod_hal_module_t* module = (irmod_hal_module_t*)self;
  for (size_t i = 0; i < module->device_count; ++i) {
    if (module->executable_caches) {
      irhal_executable_cache_release(module->executable_caches[i]);
    }
    irhal_device_release(module->devices[i]);
  }
  irt_allocator_free(module->host_allocator, module->executable_caches);
  irt_allocator_free(module->host_allocator, module->devices);
  irt_allocator_free(module->host_allocator, module);
}

static const irvm_native_module_desc_t irmod_hal_module_desc = {
    .name = "hal",
    .version = IRMOD_HAL_MODULE_VERSION,
    .export_count = sizeof(irmod_hal_exports) / sizeof(irmod_hal_exports[0]),
    .exports = irmod_hal_exports,
    .destroy = irmod_hal_module_destroy,
};

irt_status_t irmod_hal_module_create(irvm_instance_t* instance,
                                     irhal_device_t* const* devices,
                                     size_t device_count,
                                     irt_allocator_t host_allocator,
                                     irvm_module_t** out_module) {
  *out_module = NULL;
  for (size_t i = 0; i < device_count; ++i) {
    if (!devices[i]) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "hal module: device %zu of %zu is NULL", i,
                             device_count);
    }
  }
  IRT_RETURN_IF_ERROR(irmod_hal_register_types(instance));
  irmod_hal_module_t* module = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(host_allocator, sizeof(*module), (void**)&module));
  module->host_allocator = host_allocator;
  irt_status_t status = irt_allocator_calloc_array(host_allocator, device_count,
                                                   sizeof(module->devices[0]),
                                                   (void**)&module->devices);
  if (irt_status_is_ok(status)) {
    status = irt_allocator_calloc_array(host_allocator, device_count,
                                        sizeof(module->executable_caches[0]),
                                        (void**)&module->executable_caches);
  }
  if (!irt_status_is_ok(status)) {
    irmod_hal_module_destroy(module);
    return status;
  }
  for (size_t i = 0; i < device_count; ++i) {
    irhal_device_retain(devices[i]);
    module->devices[i] = devices[i];
    ++module->device_count;
    // Shared per device object: other contexts' modules over this device
    // (the daemon's models) reuse what this one loads, and vice versa.
    status = irhal_executable_cache_acquire_shared(
        devices[i], &module->executable_caches[i]);
    if (!irt_status_is_ok(status)) {
      irmod_hal_module_destroy(module);
      return status;
    }
  }
  status = irvm_native_module_create(&irmod_hal_module_desc, module,
                                     host_allocator, out_module);
  if (!irt_status_is_ok(status)) irmod_hal_module_destroy(module);
  return status;
}
