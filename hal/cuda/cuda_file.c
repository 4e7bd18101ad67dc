#include "hal/cuda/cuda_file.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

// The slice of cufile.h ireed uses (the GPUDirect Storage API reference):
// declared here because the header ships only with the GDS packages.
typedef struct irhal_cufile_error_s {
  int err;  // CUfileOpError; 0 = CU_FILE_SUCCESS
  CUresult cu_err;
} irhal_cufile_error_t;
typedef void* irhal_cufile_handle_t;
typedef struct irhal_cufile_descr_s {
  int type;  // CUfileFileHandleType
  union {
    int fd;
    void* handle;
  } handle;
  const void* fs_ops;
} irhal_cufile_descr_t;
#define IRHAL_CUFILE_HANDLE_TYPE_OPAQUE_FD 1

struct irhal_cuda_file_driver_s {
  irt_allocator_t host_allocator;
  void* library;
  irhal_cufile_error_t (*driver_open)(void);
  irhal_cufile_error_t (*driver_close)(void);
  irhal_cufile_error_t (*handle_register)(irhal_cufile_handle_t*,
                                          irhal_cufile_descr_t*);
  void (*handle_deregister)(irhal_cufile_handle_t);
  ssize_t (*read)(irhal_cufile_handle_t, void*, size_t, off_t, off_t);
  ssize_t (*write)(irhal_cufile_handle_t, const void*, size_t, off_t, off_t);
};

irhal_cuda_file_driver_t* irhal_cuda_file_driver_open(
    irt_allocator_t host_allocator) {
  const char* enabled = getenv("IREED_CUFILE");
  if (enabled && strcmp(enabled, "0") == 0) return NULL;
  void* library = dlopen("libcufile.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!library) return NULL;
  irhal_cuda_file_driver_t* driver = NULL;
  if (irt_allocator_calloc(host_allocator, sizeof(*driver), (void**)&driver)) {
    dlclose(library);
    return NULL;
  }
  driver->host_allocator = host_allocator;
  driver->library = library;
  *(void**)&driver->driver_open = dlsym(library, "cuFileDriverOpen");
  *(void**)&driver->driver_close = dlsym(library, "cuFileDriverClose");
  *(void**)&driver->handle_register = dlsym(library, "cuFileHandleRegister");
  *(void**)&driver->handle_deregister =
      dlsym(library, "cuFileHandleDeregister");
  *(void**)&driver->read = dlsym(library, "cuFileRead");
  *(void**)&driver->write = dlsym(library, "cuFileWrite");
  bool usable = driver->driver_open && driver->driver_close &&
                driver->handle_register && driver->handle_deregister &&
                driver->read && driver->write && driver->driver_open().err == 0;
  if (!usable) {
    dlclose(library);
    irt_allocator_free(host_allocator, driver);
    return NULL;
  }
  return driver;
}

void irhal_cuda_file_driver_release(irhal_cuda_file_driver_t* driver) {
  if (!driver) return;
  driver->driver_close();
  dlclose(driver->library);
  irt_allocator_free(driver->host_allocator, driver);
}

// Registers |file|'s fd with cuFile.
static irhal_cufile_error_t irhal_cuda_file_register(
    const irhal_cuda_file_driver_t* driver, const irhal_file_t* file,
    irhal_cufile_handle_t* out_handle) {
  irhal_cufile_descr_t descr = {.type = IRHAL_CUFILE_HANDLE_TYPE_OPAQUE_FD};
  descr.handle.fd = irhal_file_fd(file);
  return driver->handle_register(out_handle, &descr);
}

bool irhal_cuda_file_driver_accepts(const irhal_cuda_file_driver_t* driver,
                                    const irhal_file_t* file) {
  if (!driver || irhal_file_fd(file) < 0) return false;
  irhal_cufile_handle_t handle = NULL;
  if (irhal_cuda_file_register(driver, file, &handle).err != 0) return false;
  driver->handle_deregister(handle);
  return true;
}

irt_status_t irhal_cuda_file_transfer(irhal_cuda_file_driver_t* driver,
                                      irhal_cuda_context_t* context,
                                      irhal_queue_op_t* op) {
  bool read = op->kind == IRHAL_QUEUE_OP_READ;
  if (!irhal_cuda_file_driver_accepts(driver, op->transfer.file)) {
    return irt_make_status(IRT_STATUS_INTERNAL,
                           "a file transfer reached the CUDA queue without "
                           "cuFile");
  }
  irhal_device_size_t length = op->transfer.length;
  if (length == 0) return IRT_OK;
  CUdeviceptr address = 0;
  IRT_RETURN_IF_ERROR(irhal_cuda_buffer_address(
      op->transfer.buffer, op->transfer.buffer_offset, length, &address, NULL));
  IRT_RETURN_IF_ERROR(
      IRHAL_CUDA_CALL(context->cu, cuStreamSynchronize, (context->stream)));
  irhal_cufile_handle_t handle = NULL;
  irhal_cufile_error_t error =
      irhal_cuda_file_register(driver, op->transfer.file, &handle);
  if (error.err != 0) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "cuFileHandleRegister failed (error %d)", error.err);
  }
  void* device_ptr = (void*)(uintptr_t)address;
  uint64_t done = 0;
  irt_status_t status = IRT_OK;
  while (!status && done < length) {
    ssize_t n = read
                    ? driver->read(handle, device_ptr, (size_t)(length - done),
                                   (off_t)(op->transfer.file_offset + done),
                                   (off_t)done)
                    : driver->write(handle, device_ptr, (size_t)(length - done),
                                    (off_t)(op->transfer.file_offset + done),
                                    (off_t)done);
    if (n <= 0) {
      status = irt_make_status(
          IRT_STATUS_DATA_LOSS,
          "cuFile%s at file offset %" PRIu64 " returned %zd after %" PRIu64
          " of %" PRIu64 " bytes",
          read ? "Read" : "Write", op->transfer.file_offset + done, n, done,
          length);
    } else {
      done += (uint64_t)n;
    }
  }
  driver->handle_deregister(handle);
  return status;
}
