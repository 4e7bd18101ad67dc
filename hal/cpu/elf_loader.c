#include "hal/cpu/elf_loader.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/base/math.h"

// Limits that keep a hostile image from asking for absurd resources. Real
// compiler output has 7 program headers, 4 KiB (x86_64) or 64 KiB (aarch64)
// alignment and spans a few pages.
#define ELF_MAX_PROGRAM_HEADERS 64
#define ELF_MAX_SEGMENT_ALIGNMENT ((uint64_t)2 << 20)
#define ELF_MAX_IMAGE_SPAN ((uint64_t)1 << 30)

// Dynamic tags below this value are recorded by tag number; all the loader
// needs (up to DT_INIT_ARRAYSZ = 27) fit.
#define ELF_TRACKED_TAG_LIMIT 32

struct irhal_elf_module_s {
  irt_allocator_t allocator;
  uint8_t* reservation;
  size_t reservation_size;
  // Loaded address = bias + ELF virtual address (unsigned wrap-around).
  uintptr_t bias;
  const uint8_t* symbols;  // symbol_count Elf64_Sym, possibly unaligned
  uint32_t symbol_count;
  const char* strings;  // strings_size bytes, NUL-terminated
  uint64_t strings_size;
  size_t segment_count;
  irhal_cpu_image_segment_t segments[];
};

//===----------------------------------------------------------------------===//
// Machines and headers
//===----------------------------------------------------------------------===//

uint16_t irhal_elf_host_machine(void) {
#if defined(__x86_64__)
  return EM_X86_64;
#elif defined(__aarch64__)
  return EM_AARCH64;
#else
  return 0;
#endif
}

const char* irhal_elf_machine_name(uint16_t machine) {
  switch (machine) {
    case EM_386: return "x86";
    case EM_ARM: return "arm";
    case EM_X86_64: return "x86_64";
    case EM_AARCH64: return "aarch64";
    case EM_RISCV: return "riscv";
    case EM_PPC: return "ppc";
    case EM_PPC64: return "ppc64";
    case EM_S390: return "s390";
    case EM_MIPS: return "mips";
    case EM_LOONGARCH: return "loongarch";
    case EM_BPF: return "bpf";
    default: return "unknown";
  }
}

static uint16_t elf_resolve_machine(uint16_t machine) {
  return machine ? machine : irhal_elf_host_machine();
}

static irt_status_t elf_check_table(const char* kind, uint64_t offset,
                                    uint64_t count, uint64_t entry_size,
                                    size_t size, const char* what) {
  uint64_t bytes = 0;
  if (offset == 0 || count == 0) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "%s has no %s (offset %llu, count %llu)", kind, what,
                           (unsigned long long)offset,
                           (unsigned long long)count);
  }
  if (!irt_mul_u64(count, entry_size, &bytes) ||
      !irt_range_fits(offset, bytes, size)) {
    return irt_make_status(
        IRT_STATUS_FAILED_PRECONDITION,
        "%s %s (offset %llu, %llu entries) extends past the %zu-byte image",
        kind, what, (unsigned long long)offset, (unsigned long long)count,
        size);
  }
  return IRT_OK;
}

irt_status_t irhal_elf_check_header(const void* data, size_t size,
                                    uint16_t machine, const char* kind) {
  const uint8_t* bytes = data;
  uint16_t host = elf_resolve_machine(machine);
  if (size < SELFMAG || memcmp(bytes, ELFMAG, SELFMAG) != 0) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "%s is not an ELF image (no \\x7fELF magic; %zu "
                           "bytes)",
                           kind, size);
  }
  // e_machine sits at offset 18 in both classes, so a foreign 32-bit image
  // can still be named.
  uint16_t image_machine = 0;
  if (size >= 20) memcpy(&image_machine, bytes + 18, sizeof(image_machine));
  if (size > EI_CLASS && bytes[EI_CLASS] != ELFCLASS64) {
    return irt_make_status(
        IRT_STATUS_FAILED_PRECONDITION,
        "%s is %s for %s (EM %u); this host runs %s and needs ELFCLASS64", kind,
        bytes[EI_CLASS] == ELFCLASS32 ? "32-bit (ELFCLASS32)"
                                      : "not 64-bit (bad EI_CLASS)",
        irhal_elf_machine_name(image_machine), image_machine,
        irhal_elf_machine_name(host));
  }
  if (size < sizeof(Elf64_Ehdr)) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "%s is truncated: %zu bytes, the ELF64 header "
                           "alone needs %zu",
                           kind, size, sizeof(Elf64_Ehdr));
  }
  if (bytes[EI_DATA] != ELFDATA2LSB) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "%s is not little-endian (EI_DATA %u)", kind,
                           bytes[EI_DATA]);
  }
  Elf64_Ehdr header;
  memcpy(&header, bytes, sizeof(header));
  if (header.e_version != EV_CURRENT) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "%s has e_version %u, expected 1", kind,
                           header.e_version);
  }
  if (host == 0) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "%s for %s cannot run: this host architecture has "
                           "no CPU executable support",
                           kind, irhal_elf_machine_name(header.e_machine));
  }
  if (header.e_machine != host) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "%s is for %s (EM %u); this host runs %s", kind,
                           irhal_elf_machine_name(header.e_machine),
                           header.e_machine, irhal_elf_machine_name(host));
  }
  if (header.e_type != ET_DYN) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "%s has e_type %u; only shared objects (ET_DYN) "
                           "can be loaded",
                           kind, header.e_type);
  }
  if (header.e_ehsize != sizeof(Elf64_Ehdr) ||
      header.e_phentsize != sizeof(Elf64_Phdr) ||
      header.e_shentsize != sizeof(Elf64_Shdr)) {
    return irt_make_status(
        IRT_STATUS_FAILED_PRECONDITION,
        "%s header sizes e_ehsize/e_phentsize/e_shentsize are %u/%u/%u, "
        "expected 64/56/64",
        kind, header.e_ehsize, header.e_phentsize, header.e_shentsize);
  }
  IRT_RETURN_IF_ERROR(elf_check_table(kind, header.e_phoff, header.e_phnum,
                                      sizeof(Elf64_Phdr), size,
                                      "program header table (e_phoff)"));
  IRT_RETURN_IF_ERROR(elf_check_table(kind, header.e_shoff, header.e_shnum,
                                      sizeof(Elf64_Shdr), size,
                                      "section header table (e_shoff)"));
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// FatELF
//===----------------------------------------------------------------------===//

#define FATELF_MAGIC 0x1F0E70FAu
#define FATELF_HEADER_SIZE 8
#define FATELF_RECORD_SIZE 24
#define FATELF_MIN_SIZE 32

static bool fatelf_osabi_accepted(uint8_t osabi) {
  return osabi == ELFOSABI_SYSV || osabi == ELFOSABI_LINUX ||
         osabi == ELFOSABI_STANDALONE;
}

irt_status_t irhal_fatelf_select(const void* data, size_t size,
                                 uint16_t machine, const void** out_data,
                                 size_t* out_size) {
  const uint8_t* bytes = data;
  uint32_t magic = 0;
  *out_data = data;
  *out_size = size;
  if (size < FATELF_MIN_SIZE) return IRT_OK;
  memcpy(&magic, bytes, sizeof(magic));
  if (magic != FATELF_MAGIC) return IRT_OK;

  uint16_t version = 0;
  memcpy(&version, bytes + 4, sizeof(version));
  if (version != 1) {
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           "FatELF version %u is not supported (only 1)",
                           version);
  }
  uint8_t record_count = bytes[6];
  uint64_t table_end =
      FATELF_HEADER_SIZE + (uint64_t)record_count * FATELF_RECORD_SIZE;
  if (table_end > size) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "FatELF record table (%u records) extends past the "
                           "%zu-byte data",
                           record_count, size);
  }
  uint16_t host = elf_resolve_machine(machine);
  for (uint8_t i = 0; i < record_count; ++i) {
    const uint8_t* record = bytes + FATELF_HEADER_SIZE + i * FATELF_RECORD_SIZE;
    uint16_t record_machine = 0;
    uint64_t offset = 0, length = 0;
    memcpy(&record_machine, record, sizeof(record_machine));
    memcpy(&offset, record + 8, sizeof(offset));
    memcpy(&length, record + 16, sizeof(length));
    bool word_size_ok = record[4] == 2;   // 64-bit (LP64 hosts only)
    bool byte_order_ok = record[5] == 1;  // little-endian
    if (record_machine != host || !fatelf_osabi_accepted(record[2]) ||
        !word_size_ok || !byte_order_ok) {
      continue;
    }
    if (offset < table_end || !irt_range_fits(offset, length, size)) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             "FatELF record %u range [%llu, +%llu) is not "
                             "inside the %zu-byte data after the record table",
                             i, (unsigned long long)offset,
                             (unsigned long long)length, size);
    }
    *out_data = bytes + offset;
    *out_size = (size_t)length;
    return IRT_OK;
  }
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                         "FatELF bundle has no 64-bit little-endian %s image "
                         "among its %u records",
                         irhal_elf_machine_name(host), record_count);
}

//===----------------------------------------------------------------------===//
// Program headers and mapping
//===----------------------------------------------------------------------===//

typedef struct elf_layout_s {
  Elf64_Phdr phdrs[ELF_MAX_PROGRAM_HEADERS];
  size_t phdr_count;
  size_t load_count;
  const Elf64_Phdr* dynamic;
  uint64_t vaddr_base;  // first PT_LOAD's address rounded down to alignment
  uint64_t span;        // bytes from vaddr_base to the page-rounded end
  uint64_t alignment;   // largest of the page size and every p_align
} elf_layout_t;

static uint64_t elf_align_down(uint64_t value, uint64_t alignment) {
  return value & ~(alignment - 1);
}

static irt_status_t elf_check_load(const Elf64_Phdr* phdr, size_t index,
                                   size_t size, uint64_t page_size,
                                   uint64_t* inout_previous_end) {
  uint64_t end = 0, page_end = 0;
  if (!irt_range_fits(phdr->p_offset, phdr->p_filesz, size)) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "embedded ELF PT_LOAD #%zu file range [%llu, "
                           "+%llu) extends past the %zu-byte image",
                           index, (unsigned long long)phdr->p_offset,
                           (unsigned long long)phdr->p_filesz, size);
  }
  if (phdr->p_filesz > phdr->p_memsz) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "embedded ELF PT_LOAD #%zu has p_filesz %llu > "
                           "p_memsz %llu",
                           index, (unsigned long long)phdr->p_filesz,
                           (unsigned long long)phdr->p_memsz);
  }
  if (phdr->p_align > 1 && (!irt_is_pow2(phdr->p_align) ||
                            phdr->p_align > ELF_MAX_SEGMENT_ALIGNMENT)) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "embedded ELF PT_LOAD #%zu has p_align %llu; it "
                           "must be a power of two of at most %llu",
                           index, (unsigned long long)phdr->p_align,
                           (unsigned long long)ELF_MAX_SEGMENT_ALIGNMENT);
  }
  if (!irt_add_u64(phdr->p_vaddr, phdr->p_memsz, &end) ||
      !irt_align_up_u64(end, page_size, &page_end)) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "embedded ELF PT_LOAD #%zu address range overflows",
                           index);
  }
  // Segments must ascend without sharing pages: each page gets exactly one
  // segment's protection.
  if (elf_align_down(phdr->p_vaddr, page_size) < *inout_previous_end) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "embedded ELF PT_LOAD #%zu at 0x%llx overlaps or "
                           "precedes the previous segment's pages (ending at "
                           "0x%llx)",
                           index, (unsigned long long)phdr->p_vaddr,
                           (unsigned long long)*inout_previous_end);
  }
  if ((phdr->p_flags & PF_W) && (phdr->p_flags & PF_X)) {
    return irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                           "embedded ELF PT_LOAD #%zu is both writable and "
                           "executable",
                           index);
  }
  *inout_previous_end = page_end;
  return IRT_OK;
}

static irt_status_t elf_read_layout(const uint8_t* data, size_t size,
                                    uint64_t page_size, elf_layout_t* layout) {
  Elf64_Ehdr header;
  memcpy(&header, data, sizeof(header));
  if (header.e_phnum > ELF_MAX_PROGRAM_HEADERS) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "embedded ELF has %u program headers; at most %d "
                           "are supported",
                           header.e_phnum, ELF_MAX_PROGRAM_HEADERS);
  }
  layout->phdr_count = header.e_phnum;
  memcpy(layout->phdrs, data + header.e_phoff,
         layout->phdr_count * sizeof(Elf64_Phdr));

  uint64_t previous_end = 0;
  uint64_t end = 0;
  layout->alignment = page_size;
  for (size_t i = 0; i < layout->phdr_count; ++i) {
    const Elf64_Phdr* phdr = &layout->phdrs[i];
    switch (phdr->p_type) {
      case PT_LOAD:
        IRT_RETURN_IF_ERROR(
            elf_check_load(phdr, i, size, page_size, &previous_end));
        if (layout->load_count++ == 0) layout->vaddr_base = phdr->p_vaddr;
        if (phdr->p_align > layout->alignment) {
          layout->alignment = phdr->p_align;
        }
        end = previous_end;
        break;
      case PT_DYNAMIC:
        if (layout->dynamic) {
          return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                                 "embedded ELF has more than one PT_DYNAMIC");
        }
        layout->dynamic = phdr;
        break;
      case PT_TLS:
        return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                               "embedded ELF uses thread-local storage "
                               "(PT_TLS), which is not supported");
      default: break;  // PHDR, GNU_RELRO (applied later), GNU_STACK, notes...
    }
  }
  if (layout->load_count == 0) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "embedded ELF has no PT_LOAD segment");
  }
  if (!layout->dynamic) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "embedded ELF has no PT_DYNAMIC segment");
  }
  layout->vaddr_base = elf_align_down(layout->vaddr_base, layout->alignment);
  layout->span = end - layout->vaddr_base;
  if (layout->span == 0) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "embedded ELF PT_LOAD segments are all empty");
  }
  if (layout->span > ELF_MAX_IMAGE_SPAN) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "embedded ELF segments span %llu bytes; at most "
                           "%llu are supported",
                           (unsigned long long)layout->span,
                           (unsigned long long)ELF_MAX_IMAGE_SPAN);
  }
  return IRT_OK;
}

static irt_status_t elf_errno_status(const char* operation, int error) {
  irt_status_code_t code = IRT_STATUS_INTERNAL;
  if (error == ENOMEM) code = IRT_STATUS_RESOURCE_EXHAUSTED;
  if (error == EACCES || error == EPERM) code = IRT_STATUS_PERMISSION_DENIED;
  return irt_make_status(code, "%s failed: %s", operation, strerror(error));
}

// Reserves |layout->span| bytes of inaccessible address space aligned to
// |layout->alignment| so that segment addresses keep their alignment.
static irt_status_t elf_reserve(const elf_layout_t* layout, uint64_t page_size,
                                irhal_elf_module_t* module) {
  size_t slack = (size_t)(layout->alignment - page_size);
  size_t request = (size_t)layout->span + slack;
  uint8_t* raw = mmap(NULL, request, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) {
    return elf_errno_status("reserving address space for the embedded ELF",
                            errno);
  }
  uintptr_t aligned =
      (uintptr_t)elf_align_down((uintptr_t)raw + slack, layout->alignment);
  size_t head = aligned - (uintptr_t)raw;
  size_t tail = slack - head;
  if (head) munmap(raw, head);
  if (tail) munmap((uint8_t*)aligned + layout->span, tail);
  module->reservation = (uint8_t*)aligned;
  module->reservation_size = (size_t)layout->span;
  module->bias = aligned - (uintptr_t)layout->vaddr_base;
  return IRT_OK;
}

static uint32_t elf_segment_access(uint32_t p_flags) {
  uint32_t access = 0;
  if (p_flags & (PF_R | PF_W | PF_X)) access |= IRHAL_CPU_ACCESS_READ;
  if (p_flags & PF_W) access |= IRHAL_CPU_ACCESS_WRITE;
  if (p_flags & PF_X) access |= IRHAL_CPU_ACCESS_EXECUTE;
  return access;
}

static int elf_access_to_prot(uint32_t access) {
  int prot = PROT_NONE;
  if (access & IRHAL_CPU_ACCESS_READ) prot |= PROT_READ;
  if (access & IRHAL_CPU_ACCESS_WRITE) prot |= PROT_WRITE;
  if (access & IRHAL_CPU_ACCESS_EXECUTE) prot |= PROT_EXEC;
  return prot;
}

// Changes the protection of the pages covering [start, start + size).
static irt_status_t elf_protect(uintptr_t start, size_t size, int prot,
                                uint64_t page_size) {
  if (size == 0) return IRT_OK;
  uintptr_t first = (uintptr_t)elf_align_down(start, page_size);
  uintptr_t last = (uintptr_t)elf_align_down(start + size - 1, page_size);
  if (mprotect((void*)first, last - first + page_size, prot) != 0) {
    return elf_errno_status("mprotect on the embedded ELF image", errno);
  }
  return IRT_OK;
}

// Makes every segment writable, copies its file bytes (the rest of the
// anonymous mapping is already zero) and records it in the image table.
static irt_status_t elf_map_segments(const uint8_t* data,
                                     const elf_layout_t* layout,
                                     uint64_t page_size,
                                     irhal_elf_module_t* module) {
  for (size_t i = 0; i < layout->phdr_count; ++i) {
    const Elf64_Phdr* phdr = &layout->phdrs[i];
    if (phdr->p_type != PT_LOAD) continue;
    irhal_cpu_image_segment_t* segment =
        &module->segments[module->segment_count++];
    segment->start = module->bias + (uintptr_t)phdr->p_vaddr;
    segment->size = (size_t)phdr->p_memsz;
    segment->access = elf_segment_access(phdr->p_flags);
    IRT_RETURN_IF_ERROR(elf_protect(segment->start, segment->size,
                                    PROT_READ | PROT_WRITE, page_size));
    if (phdr->p_filesz) {
      memcpy((void*)segment->start, data + phdr->p_offset,
             (size_t)phdr->p_filesz);
    }
  }
  return IRT_OK;
}

// Returns the loaded address of [vaddr, vaddr + size) when it lies within
// one segment, else NULL.
static uint8_t* elf_resolve(const irhal_elf_module_t* module, uint64_t vaddr,
                            uint64_t size) {
  for (size_t i = 0; i < module->segment_count; ++i) {
    const irhal_cpu_image_segment_t* segment = &module->segments[i];
    uint64_t segment_vaddr = (uint64_t)(segment->start - module->bias);
    if (vaddr >= segment_vaddr &&
        irt_range_fits(vaddr - segment_vaddr, size, segment->size)) {
      return (uint8_t*)(module->bias + (uintptr_t)vaddr);
    }
  }
  return NULL;
}

static irt_status_t elf_resolve_table(const irhal_elf_module_t* module,
                                      uint64_t vaddr, uint64_t size,
                                      const char* what, uint8_t** out_ptr) {
  *out_ptr = elf_resolve(module, vaddr, size);
  if (!*out_ptr) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "embedded ELF %s [0x%llx, +%llu) is not inside a "
                           "loaded segment",
                           what, (unsigned long long)vaddr,
                           (unsigned long long)size);
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Dynamic section, symbols and relocations
//===----------------------------------------------------------------------===//

typedef struct elf_dynamic_s {
  uint64_t values[ELF_TRACKED_TAG_LIMIT];
  uint32_t present;  // bit per tracked tag
} elf_dynamic_t;

static bool elf_has(const elf_dynamic_t* dynamic, int tag) {
  return (dynamic->present >> tag) & 1;
}

static irt_status_t elf_read_dynamic(const irhal_elf_module_t* module,
                                     const Elf64_Phdr* phdr,
                                     elf_dynamic_t* dynamic) {
  uint8_t* entries = NULL;
  IRT_RETURN_IF_ERROR(elf_resolve_table(module, phdr->p_vaddr, phdr->p_filesz,
                                        "dynamic section (PT_DYNAMIC)",
                                        &entries));
  memset(dynamic, 0, sizeof(*dynamic));
  uint64_t count = phdr->p_filesz / sizeof(Elf64_Dyn);
  for (uint64_t i = 0; i < count; ++i) {
    Elf64_Dyn entry;
    memcpy(&entry, entries + i * sizeof(entry), sizeof(entry));
    if (entry.d_tag == DT_NULL) break;
    if (entry.d_tag < 0 || entry.d_tag >= ELF_TRACKED_TAG_LIMIT) continue;
    dynamic->values[entry.d_tag] = entry.d_un.d_val;
    dynamic->present |= 1u << entry.d_tag;
  }

  if (elf_has(dynamic, DT_REL) || elf_has(dynamic, DT_RELSZ)) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "embedded ELF uses DT_REL relocations; only DT_RELA "
                           "is supported");
  }
  static const struct {
    int tag;
    uint64_t value;
    const char* name;
  } kFixed[] = {
      {DT_SYMENT, sizeof(Elf64_Sym), "DT_SYMENT"},
      {DT_RELAENT, sizeof(Elf64_Rela), "DT_RELAENT"},
      {DT_RELENT, sizeof(Elf64_Rel), "DT_RELENT"},
      {DT_PLTREL, DT_RELA, "DT_PLTREL"},
  };
  for (size_t i = 0; i < sizeof(kFixed) / sizeof(kFixed[0]); ++i) {
    if (elf_has(dynamic, kFixed[i].tag) &&
        dynamic->values[kFixed[i].tag] != kFixed[i].value) {
      return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "embedded ELF %s is %llu, expected %llu",
                             kFixed[i].name,
                             (unsigned long long)dynamic->values[kFixed[i].tag],
                             (unsigned long long)kFixed[i].value);
    }
  }
  static const struct {
    int tag;
    const char* name;
  } kRequired[] = {
      {DT_STRTAB, "DT_STRTAB"},
      {DT_STRSZ, "DT_STRSZ"},
      {DT_SYMTAB, "DT_SYMTAB"},
      {DT_HASH, "DT_HASH (DT_GNU_HASH alone is not enough)"},
  };
  for (size_t i = 0; i < sizeof(kRequired) / sizeof(kRequired[0]); ++i) {
    if (!elf_has(dynamic, kRequired[i].tag)) {
      return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "embedded ELF dynamic section lacks %s",
                             kRequired[i].name);
    }
  }
  return IRT_OK;
}

static irt_status_t elf_read_symbols(irhal_elf_module_t* module,
                                     const elf_dynamic_t* dynamic) {
  uint8_t* hash = NULL;
  uint8_t* strings = NULL;
  uint8_t* symbols = NULL;
  uint64_t strings_size = dynamic->values[DT_STRSZ];
  IRT_RETURN_IF_ERROR(elf_resolve_table(module, dynamic->values[DT_HASH],
                                        2 * sizeof(uint32_t),
                                        "hash table (DT_HASH)", &hash));
  uint32_t symbol_count = 0;
  memcpy(&symbol_count, hash + sizeof(uint32_t), sizeof(symbol_count));
  IRT_RETURN_IF_ERROR(
      elf_resolve_table(module, dynamic->values[DT_STRTAB], strings_size,
                        "string table (DT_STRTAB/DT_STRSZ)", &strings));
  if (strings_size == 0 || strings[strings_size - 1] != '\0') {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "embedded ELF string table (%llu bytes) does not "
                           "end with NUL",
                           (unsigned long long)strings_size);
  }
  IRT_RETURN_IF_ERROR(elf_resolve_table(
      module, dynamic->values[DT_SYMTAB],
      (uint64_t)symbol_count * sizeof(Elf64_Sym),
      "symbol table (DT_SYMTAB, count from DT_HASH nchain)", &symbols));
  module->strings = (const char*)strings;
  module->strings_size = strings_size;
  module->symbols = symbols;
  module->symbol_count = symbol_count;

  for (uint32_t i = 0; i < symbol_count; ++i) {
    Elf64_Sym symbol;
    memcpy(&symbol, symbols + (size_t)i * sizeof(symbol), sizeof(symbol));
    if (symbol.st_name >= strings_size) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             "embedded ELF symbol %u name offset %u is past "
                             "the %llu-byte string table",
                             i, symbol.st_name,
                             (unsigned long long)strings_size);
    }
    if (i > 0 && symbol.st_shndx == SHN_UNDEF) {
      return irt_make_status(IRT_STATUS_UNAVAILABLE,
                             "embedded ELF imports symbol '%s'; embedded "
                             "executables must not have undefined symbols",
                             module->strings + symbol.st_name);
    }
  }
  return IRT_OK;
}

// Width in bytes of the word a relocation writes, or 0 if |type| is not
// supported on |machine|.
static size_t elf_relocation_width(uint16_t machine, uint32_t type) {
  if (machine == EM_X86_64) {
    switch (type) {
      case R_X86_64_RELATIVE:
      case R_X86_64_64:
      case R_X86_64_GLOB_DAT:
      case R_X86_64_JUMP_SLOT:
      case R_X86_64_COPY: return 8;
      case R_X86_64_32:
      case R_X86_64_32S:
      case R_X86_64_PC32: return 4;
      default: return 0;
    }
  }
  switch (type) {  // EM_AARCH64
    case R_AARCH64_RELATIVE:
    case R_AARCH64_ABS64:
    case R_AARCH64_GLOB_DAT:
    case R_AARCH64_JUMP_SLOT: return 8;
    default: return 0;
  }
}

typedef struct elf_relocation_s {
  uint32_t type;
  uint64_t S;  // symbol address (0 for symbol 0)
  uint64_t A;  // addend
  uint64_t P;  // address of the word being relocated
} elf_relocation_t;

// Computes the value a supported relocation stores (hal-abi.md 5.3.2 step 6);
// false when a 32-bit result does not fit its field.
static bool elf_relocation_value(uint16_t machine, const elf_relocation_t* r,
                                 uint64_t bias, uint64_t* out_value) {
  if (machine == EM_X86_64) {
    switch (r->type) {
      case R_X86_64_RELATIVE: *out_value = bias + r->A; return true;
      case R_X86_64_GLOB_DAT:
      case R_X86_64_JUMP_SLOT:
      case R_X86_64_COPY: *out_value = r->S; return true;
      case R_X86_64_32:
        *out_value = r->S + r->A;
        return *out_value <= UINT32_MAX;
      case R_X86_64_32S: {
        *out_value = r->S + r->A;
        int64_t value = (int64_t)*out_value;
        return value >= INT32_MIN && value <= INT32_MAX;
      }
      case R_X86_64_PC32: {
        *out_value = r->S + r->A - r->P;
        int64_t value = (int64_t)*out_value;
        return value >= INT32_MIN && value <= INT32_MAX;
      }
      default:  // R_X86_64_64
        *out_value = r->S + r->A;
        return true;
    }
  }
  *out_value = r->type == R_AARCH64_RELATIVE ? bias + r->A : r->S + r->A;
  return true;
}

static irt_status_t elf_apply_relocations(const irhal_elf_module_t* module,
                                          uint16_t machine, uint64_t vaddr,
                                          uint64_t size, const char* what) {
  if (size == 0) return IRT_OK;
  if (size % sizeof(Elf64_Rela) != 0) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "embedded ELF %s size %llu is not a multiple of "
                           "%zu",
                           what, (unsigned long long)size, sizeof(Elf64_Rela));
  }
  uint8_t* table = NULL;
  IRT_RETURN_IF_ERROR(elf_resolve_table(module, vaddr, size, what, &table));
  uint64_t count = size / sizeof(Elf64_Rela);
  for (uint64_t i = 0; i < count; ++i) {
    Elf64_Rela rela;
    memcpy(&rela, table + i * sizeof(rela), sizeof(rela));
    uint32_t type = (uint32_t)ELF64_R_TYPE(rela.r_info);
    uint32_t symbol_index = (uint32_t)ELF64_R_SYM(rela.r_info);
    if (type == R_X86_64_NONE) continue;  // R_AARCH64_NONE is 0 as well
    size_t width = elf_relocation_width(machine, type);
    if (width == 0) {
      return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                             "embedded ELF %s entry %llu has relocation type "
                             "%u, which is not supported for %s",
                             what, (unsigned long long)i, type,
                             irhal_elf_machine_name(machine));
    }
    if (symbol_index != 0 && symbol_index >= module->symbol_count) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             "embedded ELF %s entry %llu refers to symbol %u "
                             "of %u",
                             what, (unsigned long long)i, symbol_index,
                             module->symbol_count);
    }
    uint8_t* target = elf_resolve(module, rela.r_offset, width);
    if (!target) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             "embedded ELF %s entry %llu targets 0x%llx, "
                             "outside the loaded segments",
                             what, (unsigned long long)i,
                             (unsigned long long)rela.r_offset);
    }
    elf_relocation_t relocation = {
        .type = type,
        .A = (uint64_t)rela.r_addend,
        .P = (uint64_t)(uintptr_t)target,
    };
    if (symbol_index != 0) {
      Elf64_Sym symbol;
      memcpy(&symbol, module->symbols + (size_t)symbol_index * sizeof(symbol),
             sizeof(symbol));
      relocation.S = module->bias + symbol.st_value;
    }
    uint64_t value = 0;
    if (!elf_relocation_value(machine, &relocation, module->bias, &value)) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             "embedded ELF %s entry %llu (type %u) value does "
                             "not fit its 32-bit field",
                             what, (unsigned long long)i, type);
    }
    if (width == 8) {
      memcpy(target, &value, sizeof(value));
    } else {
      uint32_t narrow = (uint32_t)value;
      memcpy(target, &narrow, sizeof(narrow));
    }
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Protection and initializers
//===----------------------------------------------------------------------===//

static irt_status_t elf_finalize_protection(const irhal_elf_module_t* module,
                                            const elf_layout_t* layout,
                                            uint64_t page_size) {
  for (size_t i = 0; i < module->segment_count; ++i) {
    const irhal_cpu_image_segment_t* segment = &module->segments[i];
    IRT_RETURN_IF_ERROR(elf_protect(segment->start, segment->size,
                                    elf_access_to_prot(segment->access),
                                    page_size));
    if (segment->access & IRHAL_CPU_ACCESS_EXECUTE) {
      __builtin___clear_cache((char*)segment->start,
                              (char*)(segment->start + segment->size));
    }
  }
  // Like the platform loader: RELRO starts at its (unaligned) address rounded
  // down and ends at the last whole page inside it; the linker pads it so the
  // page after it holds only writable data.
  for (size_t i = 0; i < layout->phdr_count; ++i) {
    const Elf64_Phdr* phdr = &layout->phdrs[i];
    if (phdr->p_type != PT_GNU_RELRO || phdr->p_memsz == 0) continue;
    uint8_t* start = NULL;
    IRT_RETURN_IF_ERROR(elf_resolve_table(module, phdr->p_vaddr, phdr->p_memsz,
                                          "PT_GNU_RELRO range", &start));
    uintptr_t first = (uintptr_t)elf_align_down((uintptr_t)start, page_size);
    uintptr_t end = (uintptr_t)elf_align_down(
        (uintptr_t)start + (uintptr_t)phdr->p_memsz, page_size);
    if (end > first && mprotect((void*)first, end - first, PROT_READ) != 0) {
      return elf_errno_status("mprotect of the embedded ELF RELRO range",
                              errno);
    }
  }
  return IRT_OK;
}

typedef void (*elf_initializer_fn_t)(void);

static bool elf_is_code(const irhal_elf_module_t* module, uintptr_t address) {
  irhal_cpu_image_t image = irhal_elf_module_image(module);
  return irhal_cpu_image_contains(&image, (const void*)address, 1,
                                  IRHAL_CPU_ACCESS_EXECUTE);
}

// Validates every initializer before running any, so a bad entry never runs
// half of them.
static irt_status_t elf_run_initializers(const irhal_elf_module_t* module,
                                         const elf_dynamic_t* dynamic) {
  uintptr_t init = 0;
  if (elf_has(dynamic, DT_INIT) && dynamic->values[DT_INIT] != 0) {
    init = module->bias + (uintptr_t)dynamic->values[DT_INIT];
    if (!elf_is_code(module, init)) {
      return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "embedded ELF DT_INIT 0x%llx is not in an "
                             "executable segment",
                             (unsigned long long)dynamic->values[DT_INIT]);
    }
  }
  uint8_t* array = NULL;
  uint64_t array_count = 0;
  if (elf_has(dynamic, DT_INIT_ARRAY) && dynamic->values[DT_INIT_ARRAYSZ]) {
    uint64_t array_size = dynamic->values[DT_INIT_ARRAYSZ];
    if (array_size % sizeof(uint64_t) != 0) {
      return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "embedded ELF DT_INIT_ARRAYSZ %llu is not a "
                             "multiple of 8",
                             (unsigned long long)array_size);
    }
    IRT_RETURN_IF_ERROR(elf_resolve_table(module,
                                          dynamic->values[DT_INIT_ARRAY],
                                          array_size, "DT_INIT_ARRAY", &array));
    array_count = array_size / sizeof(uint64_t);
  }
  for (uint64_t i = 0; i < array_count; ++i) {
    uint64_t entry = 0;
    memcpy(&entry, array + i * sizeof(entry), sizeof(entry));
    if (entry != 0 && entry != UINT64_MAX &&
        !elf_is_code(module, (uintptr_t)entry)) {
      return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "embedded ELF DT_INIT_ARRAY entry %llu is not in "
                             "an executable segment",
                             (unsigned long long)i);
    }
  }

  if (init) ((elf_initializer_fn_t)init)();
  for (uint64_t i = 0; i < array_count; ++i) {
    uint64_t entry = 0;
    memcpy(&entry, array + i * sizeof(entry), sizeof(entry));
    if (entry != 0 && entry != UINT64_MAX) {
      ((elf_initializer_fn_t)(uintptr_t)entry)();
    }
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Public entry points
//===----------------------------------------------------------------------===//

static irt_status_t elf_load_into(const uint8_t* data, size_t size,
                                  uint16_t machine, const elf_layout_t* layout,
                                  uint64_t page_size,
                                  irhal_elf_module_t* module) {
  IRT_RETURN_IF_ERROR(elf_reserve(layout, page_size, module));
  IRT_RETURN_IF_ERROR(elf_map_segments(data, layout, page_size, module));
  elf_dynamic_t dynamic;
  IRT_RETURN_IF_ERROR(elf_read_dynamic(module, layout->dynamic, &dynamic));
  IRT_RETURN_IF_ERROR(elf_read_symbols(module, &dynamic));
  IRT_RETURN_IF_ERROR(elf_apply_relocations(
      module, machine, dynamic.values[DT_RELA], dynamic.values[DT_RELASZ],
      "relocation table (DT_RELA)"));
  IRT_RETURN_IF_ERROR(elf_apply_relocations(
      module, machine, dynamic.values[DT_JMPREL], dynamic.values[DT_PLTRELSZ],
      "PLT relocation table (DT_JMPREL)"));
  IRT_RETURN_IF_ERROR(elf_finalize_protection(module, layout, page_size));
  if (machine != irhal_elf_host_machine()) return IRT_OK;
  return elf_run_initializers(module, &dynamic);
}

irt_status_t irhal_elf_module_load(irt_allocator_t allocator, const void* data,
                                   size_t size,
                                   const irhal_elf_load_options_t* options,
                                   irhal_elf_module_t** out_module) {
  *out_module = NULL;
  uint16_t machine = elf_resolve_machine(options ? options->machine : 0);
  const void* elf_data = NULL;
  size_t elf_size = 0;
  IRT_RETURN_IF_ERROR(
      irhal_fatelf_select(data, size, machine, &elf_data, &elf_size));
  if (machine != 0 && machine != EM_X86_64 && machine != EM_AARCH64) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "embedded ELF loading for %s (EM %u) is not "
                           "supported",
                           irhal_elf_machine_name(machine), machine);
  }
  IRT_RETURN_IF_ERROR(
      irhal_elf_check_header(elf_data, elf_size, machine, "embedded ELF"));

  uint64_t page_size = (uint64_t)sysconf(_SC_PAGESIZE);
  elf_layout_t layout;
  memset(&layout, 0, sizeof(layout));
  IRT_RETURN_IF_ERROR(elf_read_layout(elf_data, elf_size, page_size, &layout));

  irhal_elf_module_t* module = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(
      allocator,
      sizeof(*module) + layout.load_count * sizeof(module->segments[0]),
      (void**)&module));
  module->allocator = allocator;
  irt_status_t status =
      elf_load_into(elf_data, elf_size, machine, &layout, page_size, module);
  if (!irt_status_is_ok(status)) {
    irhal_elf_module_unload(module);
    return status;
  }
  *out_module = module;
  return IRT_OK;
}

void irhal_elf_module_unload(irhal_elf_module_t* module) {
  if (!module) return;
  if (module->reservation) {
    munmap(module->reservation, module->reservation_size);
  }
  irt_allocator_free(module->allocator, module);
}

irt_status_t irhal_elf_module_lookup(const irhal_elf_module_t* module,
                                     const char* name, void** out_address) {
  *out_address = NULL;
  // Like the reference: scan backwards, skipping the null symbol 0.
  for (uint32_t i = module->symbol_count; i-- > 1;) {
    Elf64_Sym symbol;
    memcpy(&symbol, module->symbols + (size_t)i * sizeof(symbol),
           sizeof(symbol));
    unsigned binding = ELF64_ST_BIND(symbol.st_info);
    if ((binding != STB_GLOBAL && binding != STB_WEAK) || symbol.st_name == 0) {
      continue;
    }
    if (strcmp(module->strings + symbol.st_name, name) == 0) {
      *out_address = (void*)(module->bias + (uintptr_t)symbol.st_value);
      return IRT_OK;
    }
  }
  return irt_make_status(IRT_STATUS_NOT_FOUND,
                         "embedded ELF does not export symbol '%s'", name);
}

irhal_cpu_image_t irhal_elf_module_image(const irhal_elf_module_t* module) {
  irhal_cpu_image_t image = {module->segments, module->segment_count};
  return image;
}
