#include "hal/cpu/system_library_loader.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hal/cpu/elf_loader.h"
#include "runtime/base/math.h"

#define SYSTEM_LIBRARY_MAX_SEGMENTS 16

// Trailing debug-database footer (hal-abi.md 5.9.1).
#define DEBUG_FOOTER_SIZE 48
static const char kDebugFooterMagic[8] = {'I', 'R', 'E', 'E',
                                          'D', 'B', 'G', '\0'};

struct irhal_system_library_s {
  irt_allocator_t allocator;
  void* handle;
  // Held open while loaded so no other library can be given the same
  // /proc/self/fd/N name (the loader identifies libraries by name).
  int fd;
  size_t segment_count;
  irhal_cpu_image_segment_t segments[SYSTEM_LIBRARY_MAX_SEGMENTS];
};

// Returns the length of the library proper: the whole data, or
// footer.library_size when a debug footer is present.
static irt_status_t system_library_strip_footer(const uint8_t* data,
                                                size_t size, size_t* out_size) {
  *out_size = size;
  if (size < DEBUG_FOOTER_SIZE) return IRT_OK;
  const uint8_t* footer = data + size - DEBUG_FOOTER_SIZE;
  if (memcmp(footer, kDebugFooterMagic, sizeof(kDebugFooterMagic)) != 0) {
    return IRT_OK;
  }
  uint64_t library_size = 0, debug_offset = 0, debug_size = 0;
  memcpy(&library_size, footer + 24, sizeof(library_size));
  memcpy(&debug_offset, footer + 32, sizeof(debug_offset));
  memcpy(&debug_size, footer + 40, sizeof(debug_size));
  size_t body = size - DEBUG_FOOTER_SIZE;
  if (library_size == 0 || library_size > body ||
      !irt_range_fits(debug_offset, debug_size, body)) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "system library debug footer ranges (library "
                           "%llu bytes, debug [%llu, +%llu)) exceed the "
                           "%zu-byte data",
                           (unsigned long long)library_size,
                           (unsigned long long)debug_offset,
                           (unsigned long long)debug_size, body);
  }
  *out_size = (size_t)library_size;
  return IRT_OK;
}

static irt_status_t system_library_write_memfd(const uint8_t* data, size_t size,
                                               int* out_fd) {
  int fd = memfd_create("ireed-executable", MFD_CLOEXEC);
  if (fd < 0) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "memfd_create for a system library failed: %s",
                           strerror(errno));
  }
  size_t written = 0;
  while (written < size) {
    ssize_t n = write(fd, data + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = n < 0 ? errno : EIO;
      close(fd);
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "writing a system library to its memfd failed: "
                             "%s",
                             strerror(error));
    }
    written += (size_t)n;
  }
  *out_fd = fd;
  return IRT_OK;
}

// A library that was dlclose()d but stayed resident (e.g. marked NODELETE)
// keeps its /proc/self/fd/N name; dlopen would hand that stale library back
// for our new file. Move to another descriptor number until the name is free.
static irt_status_t system_library_unique_path(int* inout_fd, char* path,
                                               size_t path_capacity) {
  for (int attempt = 0; attempt < 64; ++attempt) {
    snprintf(path, path_capacity, "/proc/self/fd/%d", *inout_fd);
    void* stale = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    if (!stale) return IRT_OK;
    dlclose(stale);
    int moved = fcntl(*inout_fd, F_DUPFD_CLOEXEC, *inout_fd + 1);
    if (moved < 0) break;
    close(*inout_fd);
    *inout_fd = moved;
  }
  return irt_make_status(IRT_STATUS_UNAVAILABLE,
                         "no free /proc/self/fd name to dlopen a system "
                         "library under");
}

typedef struct segment_search_s {
  const struct link_map* link_map;
  irhal_system_library_t* library;
  bool found;
  bool overflow;
} segment_search_t;

static int system_library_collect_segments(struct dl_phdr_info* info,
                                           size_t info_size, void* user_data) {
  segment_search_t* search = user_data;
  if (info->dlpi_addr != search->link_map->l_addr || !info->dlpi_name ||
      strcmp(info->dlpi_name, search->link_map->l_name) != 0) {
    return 0;
  }
  irhal_system_library_t* library = search->library;
  for (size_t i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)* phdr = &info->dlpi_phdr[i];
    if (phdr->p_type != PT_LOAD) continue;
    if (library->segment_count == SYSTEM_LIBRARY_MAX_SEGMENTS) {
      search->overflow = true;
      break;
    }
    irhal_cpu_image_segment_t* segment =
        &library->segments[library->segment_count++];
    segment->start = info->dlpi_addr + phdr->p_vaddr;
    segment->size = phdr->p_memsz;
    segment->access = 0;
    if (phdr->p_flags & PF_R) segment->access |= IRHAL_CPU_ACCESS_READ;
    if (phdr->p_flags & PF_W) segment->access |= IRHAL_CPU_ACCESS_WRITE;
    if (phdr->p_flags & PF_X) segment->access |= IRHAL_CPU_ACCESS_EXECUTE;
  }
  search->found = true;
  return 1;
}

static irt_status_t system_library_find_segments(
    irhal_system_library_t* library) {
  struct link_map* link_map = NULL;
  if (dlinfo(library->handle, RTLD_DI_LINKMAP, &link_map) != 0 || !link_map) {
    return irt_make_status(IRT_STATUS_INTERNAL,
                           "dlinfo on a loaded system library failed: %s",
                           dlerror());
  }
  segment_search_t search = {.link_map = link_map, .library = library};
  dl_iterate_phdr(system_library_collect_segments, &search);
  if (!search.found || search.overflow) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "system library segments could not be enumerated "
                           "(%s)",
                           search.overflow ? "more than 16 PT_LOAD segments"
                                           : "not in the loaded object list");
  }
  return IRT_OK;
}

static irt_status_t system_library_open(const uint8_t* data, size_t size,
                                        irhal_system_library_t* library) {
  size_t library_size = 0;
  IRT_RETURN_IF_ERROR(system_library_strip_footer(data, size, &library_size));
  IRT_RETURN_IF_ERROR(
      irhal_elf_check_header(data, library_size, 0, "system library"));
  IRT_RETURN_IF_ERROR(
      system_library_write_memfd(data, library_size, &library->fd));
  char path[64];
  IRT_RETURN_IF_ERROR(
      system_library_unique_path(&library->fd, path, sizeof(path)));
  library->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library->handle) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "dlopen of a system library failed: %s", dlerror());
  }
  return system_library_find_segments(library);
}

irt_status_t irhal_system_library_load(irt_allocator_t allocator,
                                       const void* data, size_t size,
                                       irhal_system_library_t** out_library) {
  *out_library = NULL;
  irhal_system_library_t* library = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*library), (void**)&library));
  library->allocator = allocator;
  library->fd = -1;
  irt_status_t status = system_library_open(data, size, library);
  if (!irt_status_is_ok(status)) {
    irhal_system_library_unload(library);
    return status;
  }
  *out_library = library;
  return IRT_OK;
}

void irhal_system_library_unload(irhal_system_library_t* library) {
  if (!library) return;
  if (library->handle) dlclose(library->handle);
  if (library->fd >= 0) close(library->fd);
  irt_allocator_free(library->allocator, library);
}

irt_status_t irhal_system_library_lookup(const irhal_system_library_t* library,
                                         const char* name, void** out_address) {
  dlerror();  // clear any stale error
  *out_address = dlsym(library->handle, name);
  if (!*out_address) {
    const char* error = dlerror();
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "system library does not export symbol '%s'%s%s",
                           name, error ? ": " : "", error ? error : "");
  }
  return IRT_OK;
}

irhal_cpu_image_t irhal_system_library_image(
    const irhal_system_library_t* library) {
  irhal_cpu_image_t image = {library->segments, library->segment_count};
  return image;
}
