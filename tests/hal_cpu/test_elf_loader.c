// The embedded ELF loader against real compiler output and against every
// kind of damage a hostile or truncated image can carry.
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hal/cpu/elf_loader.h"
#include "hal/cpu/executable_library.h"
#include "tests/hal_cpu/vmfb_elf.h"

static const char* const kRealImages[] = {
    "v3.11/simple_mul.vmfb",
    "v3.11/matmul.vmfb",
    "v3.11/add.vmfb",
    "v3.11/simple_add_f64.vmfb",
    "v3.11/multi_output.vmfb",
    "v3.11/scale.vmfb",
    "v3.11/simple_mul_elodin.vmfb",
};

static bool host_is_x86_64(void) {
  return irhal_elf_host_machine() == EM_X86_64;
}

// Loads |size| bytes of |data| from a misaligned, exactly-sized copy.
static irt_status_t load_copy(const uint8_t* data, size_t size,
                              const irhal_elf_load_options_t* options,
                              irhal_elf_module_t** out_module) {
  uint8_t* allocation = NULL;
  uint8_t* copy = test_copy_misaligned(data, size, &allocation);
  irt_status_t status = irhal_elf_module_load(irt_allocator_system(), copy,
                                              size, options, out_module);
  free(allocation);  // the loader must not keep pointers into its input
  return status;
}

static void expect_status(irt_status_t status, irt_status_code_t code,
                          const char* substring) {
  char text[512];
  irt_status_format_brief(status, text, sizeof(text));
  if (irt_status_code(status) != code ||
      (substring && !strstr(text, substring))) {
    fail_msg("expected %s containing '%s', got %s: %s",
             irt_status_code_string(code), substring ? substring : "",
             irt_status_code_string(irt_status_code(status)), text);
  }
  irt_status_free(status);
}

//===----------------------------------------------------------------------===//
// Real images
//===----------------------------------------------------------------------===//

// Every mapping overlapping [start, end) in /proc/self/maps: none may be
// writable and executable at once.
static void expect_no_wx_mapping(uintptr_t start, uintptr_t end) {
  FILE* maps = fopen("/proc/self/maps", "r");
  assert_non_null(maps);
  char line[512];
  while (fgets(line, sizeof(line), maps)) {
    unsigned long low = 0, high = 0;
    char perms[5] = {0};
    if (sscanf(line, "%lx-%lx %4s", &low, &high, perms) != 3) continue;
    if (high <= start || low >= end) continue;
    if (perms[1] == 'w' && perms[2] == 'x') {
      fclose(maps);
      fail_msg("W+X mapping in the loaded image: %s", line);
    }
  }
  fclose(maps);
}

static void test_loads_real_images(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  for (size_t i = 0; i < sizeof(kRealImages) / sizeof(kRealImages[0]); ++i) {
    test_elf_t elf;
    if (!test_elf_load(kRealImages[i], &elf)) skip();
    irhal_elf_module_t* module = NULL;
    irt_status_t status = load_copy(elf.data, elf.size, NULL, &module);
    if (!irt_status_is_ok(status)) {
      char text[512];
      irt_status_format(status, text, sizeof(text));
      fail_msg("%s (%s): %s", kRealImages[i], elf.name, text);
    }
    irhal_cpu_image_t image = irhal_elf_module_image(module);
    // Compiler output: R, R+X, R+W.
    assert_int_equal(image.segment_count, 3);
    assert_int_equal(image.segments[0].access, IRHAL_CPU_ACCESS_READ);
    assert_int_equal(image.segments[1].access,
                     IRHAL_CPU_ACCESS_READ | IRHAL_CPU_ACCESS_EXECUTE);
    assert_int_equal(image.segments[2].access,
                     IRHAL_CPU_ACCESS_READ | IRHAL_CPU_ACCESS_WRITE);
    void* query = NULL;
    assert_true(irt_status_is_ok(irhal_elf_module_lookup(
        module, IRHAL_EXECUTABLE_LIBRARY_QUERY_SYMBOL, &query)));
    assert_true(
        irhal_cpu_image_contains(&image, query, 1, IRHAL_CPU_ACCESS_EXECUTE));
    expect_status(irhal_elf_module_lookup(module, "no_such_symbol", &query),
                  IRT_STATUS_NOT_FOUND, "no_such_symbol");
    const irhal_cpu_image_segment_t* last =
        &image.segments[image.segment_count - 1];
    expect_no_wx_mapping(image.segments[0].start, last->start + last->size);
    irhal_elf_module_unload(module);
    test_elf_free(&elf);
  }
}

static void test_refuses_foreign_architectures(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  test_elf_t elf;
  if (!test_elf_load("negative/matmul_aarch64.vmfb", &elf)) skip();
  irhal_elf_module_t* module = NULL;
  expect_status(load_copy(elf.data, elf.size, NULL, &module),
                IRT_STATUS_FAILED_PRECONDITION,
                "embedded ELF is for aarch64 (EM 183); this host runs x86_64");
  assert_null(module);
  test_elf_free(&elf);

  if (!test_elf_load("negative/simple_mul_arm32.vmfb", &elf)) skip();
  expect_status(load_copy(elf.data, elf.size, NULL, &module),
                IRT_STATUS_FAILED_PRECONDITION,
                "embedded ELF is 32-bit (ELFCLASS32) for arm (EM 40)");
  test_elf_free(&elf);
}

// Loading another architecture's image for inspection exercises the aarch64
// relocation path and 64 KiB segment alignment on any host.
static void test_maps_aarch64_image_for_inspection(void** state) {
  (void)state;
  test_elf_t elf;
  if (!test_elf_load("negative/matmul_aarch64.vmfb", &elf)) skip();
  irhal_elf_load_options_t options = {.machine = EM_AARCH64};
  irhal_elf_module_t* module = NULL;
  assert_true(
      irt_status_is_ok(load_copy(elf.data, elf.size, &options, &module)));
  irhal_cpu_image_t image = irhal_elf_module_image(module);
  assert_int_equal(image.segment_count, 3);
  uintptr_t base = image.segments[0].start;  // first PT_LOAD has vaddr 0
  assert_int_equal(base % 65536, 0);
  // readelf -r: 0x204d8 R_AARCH64_RELATIVE addend 0x360, and 0x204e8 ->
  // 0x10438 (the dispatch function).
  uint64_t word = 0;
  memcpy(&word, (const void*)(base + 0x204d8), sizeof(word));
  assert_int_equal(word, base + 0x360);
  memcpy(&word, (const void*)(base + 0x204e8), sizeof(word));
  assert_int_equal(word, base + 0x10438);
  void* query = NULL;
  assert_true(irt_status_is_ok(irhal_elf_module_lookup(
      module, IRHAL_EXECUTABLE_LIBRARY_QUERY_SYMBOL, &query)));
  assert_true(
      irhal_cpu_image_contains(&image, query, 1, IRHAL_CPU_ACCESS_EXECUTE));
  irhal_elf_module_unload(module);
  test_elf_free(&elf);

  options.machine = EM_RISCV;
  if (!test_elf_load("v3.11/simple_mul.vmfb", &elf)) skip();
  expect_status(load_copy(elf.data, elf.size, &options, &module),
                IRT_STATUS_INVALID_ARGUMENT, "riscv");
  test_elf_free(&elf);
}

static void test_allocation_failure_is_clean(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  test_elf_t elf;
  if (!test_elf_load("v3.11/simple_mul.vmfb", &elf)) skip();
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  counter.fail_after = 0;
  irhal_elf_module_t* module = NULL;
  expect_status(irhal_elf_module_load(irt_counting_allocator(&counter),
                                      elf.data, elf.size, NULL, &module),
                IRT_STATUS_RESOURCE_EXHAUSTED, NULL);
  assert_int_equal(counter.live_allocations, 0);
  test_elf_free(&elf);
}

//===----------------------------------------------------------------------===//
// Truncation
//===----------------------------------------------------------------------===//

static uint64_t loadable_end(const uint8_t* data) {
  Elf64_Ehdr header;
  memcpy(&header, data, sizeof(header));
  uint64_t end = header.e_phoff + (uint64_t)header.e_phnum * sizeof(Elf64_Phdr);
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr phdr;
    memcpy(&phdr, data + header.e_phoff + i * sizeof(phdr), sizeof(phdr));
    if (phdr.p_type == PT_LOAD && phdr.p_offset + phdr.p_filesz > end) {
      end = phdr.p_offset + phdr.p_filesz;
    }
  }
  return end;
}

static void test_every_prefix_is_rejected(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  test_elf_t elf;
  if (!test_elf_load("v3.11/simple_mul.vmfb", &elf)) skip();
  for (size_t length = 0; length < elf.size; ++length) {
    irhal_elf_module_t* module = NULL;
    irt_status_t status = load_copy(elf.data, length, NULL, &module);
    if (irt_status_is_ok(status)) {
      fail_msg("a %zu-byte prefix of %zu loaded", length, elf.size);
    }
    assert_null(module);
    irt_status_free(status);
  }
  test_elf_free(&elf);
}

// The real images keep the section header table at the very end, so every
// prefix fails the header check. Point the (otherwise unused) table at the
// front to push truncation into the program headers, segments, dynamic
// section, symbols and relocations.
static void test_every_prefix_past_the_header_check(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  test_elf_t elf;
  if (!test_elf_load("v3.11/simple_mul.vmfb", &elf)) skip();
  uint8_t* data = malloc(elf.size);
  memcpy(data, elf.data, elf.size);
  uint64_t shoff = sizeof(Elf64_Ehdr);
  uint16_t shnum = 1;
  memcpy(data + offsetof(Elf64_Ehdr, e_shoff), &shoff, sizeof(shoff));
  memcpy(data + offsetof(Elf64_Ehdr, e_shnum), &shnum, sizeof(shnum));
  uint64_t end = loadable_end(data);
  size_t loaded = 0;
  for (size_t length = 0; length <= elf.size; ++length) {
    irhal_elf_module_t* module = NULL;
    irt_status_t status = load_copy(data, length, NULL, &module);
    if (length < end) {
      if (irt_status_is_ok(status)) {
        fail_msg("a %zu-byte prefix loaded; PT_LOADs need %llu", length,
                 (unsigned long long)end);
      }
      irt_status_free(status);
      continue;
    }
    assert_true(irt_status_is_ok(status));  // debug sections are not needed
    irhal_elf_module_unload(module);
    ++loaded;
  }
  assert_int_equal(loaded, elf.size - end + 1);
  free(data);
  test_elf_free(&elf);
}

//===----------------------------------------------------------------------===//
// Corruption
//===----------------------------------------------------------------------===//

// A mutable copy of simple_mul's ELF with its structures located in the file.
typedef struct image_s {
  uint8_t* data;
  size_t size;
  Elf64_Ehdr* header;
  Elf64_Phdr* phdrs;
  Elf64_Phdr* dynamic_phdr;
  Elf64_Dyn* dynamic;  // file copy of the dynamic section
  size_t dynamic_count;
} image_t;

static uint64_t vaddr_to_offset(const image_t* image, uint64_t vaddr) {
  for (unsigned i = 0; i < image->header->e_phnum; ++i) {
    const Elf64_Phdr* phdr = &image->phdrs[i];
    if (phdr->p_type == PT_LOAD && vaddr >= phdr->p_vaddr &&
        vaddr < phdr->p_vaddr + phdr->p_filesz) {
      return vaddr - phdr->p_vaddr + phdr->p_offset;
    }
  }
  fail_msg("vaddr 0x%llx is not in the file", (unsigned long long)vaddr);
  return 0;
}

static Elf64_Dyn* find_dynamic(const image_t* image, int64_t tag) {
  for (size_t i = 0; i < image->dynamic_count; ++i) {
    if (image->dynamic[i].d_tag == tag) return &image->dynamic[i];
  }
  fail_msg("no dynamic tag %lld", (long long)tag);
  return NULL;
}

static Elf64_Phdr* find_phdr(const image_t* image, uint32_t type,
                             unsigned nth) {
  for (unsigned i = 0; i < image->header->e_phnum; ++i) {
    if (image->phdrs[i].p_type == type && nth-- == 0) return &image->phdrs[i];
  }
  fail_msg("no program header of type %u", type);
  return NULL;
}

static void* at_vaddr(const image_t* image, uint64_t vaddr) {
  return image->data + vaddr_to_offset(image, vaddr);
}

static Elf64_Rela* first_rela(const image_t* image) {
  return at_vaddr(image, find_dynamic(image, DT_RELA)->d_un.d_ptr);
}

static Elf64_Sym* symbol(const image_t* image, unsigned index) {
  Elf64_Sym* symbols =
      at_vaddr(image, find_dynamic(image, DT_SYMTAB)->d_un.d_ptr);
  return &symbols[index];
}

typedef struct corruption_s {
  const char* name;
  void (*mutate)(image_t* image);
  irt_status_code_t code;
  const char* message;  // substring of the brief status text
} corruption_t;

static void bad_magic(image_t* m) { m->data[1] = 'X'; }
static void class32(image_t* m) { m->data[EI_CLASS] = ELFCLASS32; }
static void big_endian(image_t* m) { m->data[EI_DATA] = ELFDATA2MSB; }
static void bad_version(image_t* m) { m->header->e_version = 2; }
static void aarch64_machine(image_t* m) { m->header->e_machine = EM_AARCH64; }
static void exec_type(image_t* m) { m->header->e_type = ET_EXEC; }
static void bad_phentsize(image_t* m) { m->header->e_phentsize = 32; }
static void phoff_zero(image_t* m) { m->header->e_phoff = 0; }
static void phoff_out_of_range(image_t* m) { m->header->e_phoff = m->size; }
static void phoff_overflow(image_t* m) { m->header->e_phoff = UINT64_MAX - 8; }
static void phnum_oversized(image_t* m) { m->header->e_phnum = 0xFFFF; }
static void shoff_out_of_range(image_t* m) { m->header->e_shoff = m->size - 8; }
static void shnum_zero(image_t* m) { m->header->e_shnum = 0; }
static void too_many_phdrs(image_t* m) {
  // 65 headers starting at offset 8 still fit in the 3688-byte file (they
  // overlap other data, which the header check allows) but exceed the
  // loader's limit.
  m->header->e_phoff = 8;
  m->header->e_phnum = 65;
}
static void load_past_file(image_t* m) {
  find_phdr(m, PT_LOAD, 1)->p_filesz = m->size;
}
static void load_filesz_above_memsz(image_t* m) {
  Elf64_Phdr* load = find_phdr(m, PT_LOAD, 1);
  load->p_memsz = load->p_filesz - 1;
}
static void load_bad_align(image_t* m) {
  find_phdr(m, PT_LOAD, 0)->p_align = 3;
}
static void load_huge_align(image_t* m) {
  find_phdr(m, PT_LOAD, 0)->p_align = (uint64_t)1 << 40;
}
static void loads_overlap(image_t* m) {
  find_phdr(m, PT_LOAD, 1)->p_vaddr = find_phdr(m, PT_LOAD, 0)->p_vaddr;
}
static void loads_descend(image_t* m) {
  find_phdr(m, PT_LOAD, 2)->p_vaddr = 0x1000;
}
static void load_wx(image_t* m) {
  find_phdr(m, PT_LOAD, 1)->p_flags = PF_R | PF_W | PF_X;
}
static void load_huge_memsz(image_t* m) {
  find_phdr(m, PT_LOAD, 2)->p_memsz = (uint64_t)1 << 40;
}
static void load_vaddr_overflow(image_t* m) {
  find_phdr(m, PT_LOAD, 2)->p_vaddr = UINT64_MAX - 0x100;
}
static void no_dynamic(image_t* m) { m->dynamic_phdr->p_type = PT_NULL; }
static void two_dynamic(image_t* m) {
  find_phdr(m, PT_GNU_STACK, 0)->p_type = PT_DYNAMIC;
}
static void tls_segment(image_t* m) {
  find_phdr(m, PT_GNU_STACK, 0)->p_type = PT_TLS;
}
static void dynamic_out_of_image(image_t* m) {
  m->dynamic_phdr->p_filesz = 0x100000;
}
static void relro_out_of_image(image_t* m) {
  find_phdr(m, PT_GNU_RELRO, 0)->p_memsz = 0x100000;
}
static void rela_bad_type(image_t* m) {
  first_rela(m)->r_info = ELF64_R_INFO(0, R_X86_64_IRELATIVE);
}
static void rela_offset_out_of_image(image_t* m) {
  first_rela(m)->r_offset = 0x100000;
}
static void rela_offset_straddles_end(image_t* m) {
  // The last 4 bytes of the RW segment: an 8-byte store would cross it.
  Elf64_Phdr* rw = find_phdr(m, PT_LOAD, 2);
  first_rela(m)->r_offset = rw->p_vaddr + rw->p_memsz - 4;
}
static void rela_symbol_out_of_range(image_t* m) {
  first_rela(m)->r_info = ELF64_R_INFO(7, R_X86_64_64);
}
static void rela_pc32_overflow(image_t* m) {
  // PC32 to absolute address 2^40 cannot fit in 32 bits from anywhere.
  Elf64_Rela* rela = first_rela(m);
  rela->r_info = ELF64_R_INFO(0, R_X86_64_PC32);
  rela->r_addend = (int64_t)1 << 40;
}
static void relasz_oversized(image_t* m) {
  find_dynamic(m, DT_RELASZ)->d_un.d_val = 24ull * 100000;
}
static void relasz_ragged(image_t* m) {
  find_dynamic(m, DT_RELASZ)->d_un.d_val -= 1;
}
static void relaent_wrong(image_t* m) {
  find_dynamic(m, DT_RELAENT)->d_un.d_val = 16;
}
static void syment_wrong(image_t* m) {
  find_dynamic(m, DT_SYMENT)->d_un.d_val = 16;
}
static void rel_present(image_t* m) {
  find_dynamic(m, DT_RELACOUNT)->d_tag = DT_REL;
}
static void pltrel_wrong(image_t* m) {
  Elf64_Dyn* entry = find_dynamic(m, DT_RELACOUNT);
  entry->d_tag = DT_PLTREL;
  entry->d_un.d_val = DT_REL;
}
static void jmprel_out_of_image(image_t* m) {
  // Reuse two harmless entries as DT_JMPREL/DT_PLTRELSZ.
  Elf64_Dyn* jmprel = find_dynamic(m, DT_RELACOUNT);
  jmprel->d_tag = DT_JMPREL;
  jmprel->d_un.d_ptr = 0x100000;
  Elf64_Dyn* size = find_dynamic(m, DT_FLAGS_1);
  size->d_tag = DT_PLTRELSZ;
  size->d_un.d_val = 24;
}
static void hash_missing(image_t* m) {
  find_dynamic(m, DT_HASH)->d_tag = DT_GNU_HASH;
}
static void strtab_missing(image_t* m) {
  find_dynamic(m, DT_STRTAB)->d_tag = DT_FLAGS;
}
static void hash_nchain_oversized(image_t* m) {
  uint32_t* hash = at_vaddr(m, find_dynamic(m, DT_HASH)->d_un.d_ptr);
  hash[1] = 0x10000000;
}
static void hash_out_of_image(image_t* m) {
  find_dynamic(m, DT_HASH)->d_un.d_ptr = 0x100000;
}
static void strsz_oversized(image_t* m) {
  find_dynamic(m, DT_STRSZ)->d_un.d_val = 0x100000;
}
static void strtab_unterminated(image_t* m) {
  find_dynamic(m, DT_STRSZ)->d_un.d_val -= 1;
}
static void symbol_name_out_of_range(image_t* m) {
  symbol(m, 1)->st_name = 0x10000;
}
static void symbol_undefined(image_t* m) { symbol(m, 1)->st_shndx = SHN_UNDEF; }
static void init_array_out_of_code(image_t* m) {
  // DT_INIT pointing into the read-only data segment.
  Elf64_Dyn* entry = find_dynamic(m, DT_RELACOUNT);
  entry->d_tag = DT_INIT;
  entry->d_un.d_ptr = find_dynamic(m, DT_STRTAB)->d_un.d_ptr;
}
static void init_array_ragged(image_t* m) {
  Elf64_Dyn* array = find_dynamic(m, DT_RELACOUNT);
  array->d_tag = DT_INIT_ARRAY;
  array->d_un.d_ptr = find_dynamic(m, DT_STRTAB)->d_un.d_ptr;
  Elf64_Dyn* size = find_dynamic(m, DT_FLAGS_1);
  size->d_tag = DT_INIT_ARRAYSZ;
  size->d_un.d_val = 12;
}
static void init_array_entry_not_code(image_t* m) {
  // An array of one non-zero entry that is not an address in the image:
  // DT_STRTAB's first 8 bytes are "\0iree_ha".
  Elf64_Dyn* array = find_dynamic(m, DT_RELACOUNT);
  array->d_tag = DT_INIT_ARRAY;
  array->d_un.d_ptr = find_dynamic(m, DT_STRTAB)->d_un.d_ptr;
  Elf64_Dyn* size = find_dynamic(m, DT_FLAGS_1);
  size->d_tag = DT_INIT_ARRAYSZ;
  size->d_un.d_val = 8;
}

static const corruption_t kCorruptions[] = {
    {"bad magic", bad_magic, IRT_STATUS_FAILED_PRECONDITION, "not an ELF"},
    {"ELFCLASS32", class32, IRT_STATUS_FAILED_PRECONDITION,
     "32-bit (ELFCLASS32) for x86_64 (EM 62)"},
    {"big endian", big_endian, IRT_STATUS_FAILED_PRECONDITION,
     "not little-endian"},
    {"e_version", bad_version, IRT_STATUS_FAILED_PRECONDITION, "e_version 2"},
    {"aarch64 machine", aarch64_machine, IRT_STATUS_FAILED_PRECONDITION,
     "is for aarch64 (EM 183); this host runs x86_64"},
    {"ET_EXEC", exec_type, IRT_STATUS_FAILED_PRECONDITION, "e_type 2"},
    {"e_phentsize", bad_phentsize, IRT_STATUS_FAILED_PRECONDITION,
     "e_phentsize"},
    {"e_phoff zero", phoff_zero, IRT_STATUS_FAILED_PRECONDITION,
     "no program header table"},
    {"e_phoff out of range", phoff_out_of_range, IRT_STATUS_FAILED_PRECONDITION,
     "program header table (e_phoff)"},
    {"e_phoff overflow", phoff_overflow, IRT_STATUS_FAILED_PRECONDITION,
     "extends past"},
    {"e_phnum oversized", phnum_oversized, IRT_STATUS_FAILED_PRECONDITION,
     "extends past"},
    {"e_shoff out of range", shoff_out_of_range, IRT_STATUS_FAILED_PRECONDITION,
     "section header table"},
    {"e_shnum zero", shnum_zero, IRT_STATUS_FAILED_PRECONDITION,
     "no section header table"},
    {"too many program headers", too_many_phdrs, IRT_STATUS_FAILED_PRECONDITION,
     "65 program headers"},
    {"PT_LOAD past the file", load_past_file, IRT_STATUS_FAILED_PRECONDITION,
     "PT_LOAD #2 file range"},
    {"p_filesz > p_memsz", load_filesz_above_memsz,
     IRT_STATUS_FAILED_PRECONDITION, "p_filesz"},
    {"p_align not a power of two", load_bad_align,
     IRT_STATUS_FAILED_PRECONDITION, "p_align 3"},
    {"p_align huge", load_huge_align, IRT_STATUS_FAILED_PRECONDITION,
     "p_align"},
    {"overlapping PT_LOADs", loads_overlap, IRT_STATUS_FAILED_PRECONDITION,
     "overlaps"},
    {"descending PT_LOADs", loads_descend, IRT_STATUS_FAILED_PRECONDITION,
     "overlaps or precedes"},
    {"W+X PT_LOAD", load_wx, IRT_STATUS_PERMISSION_DENIED,
     "writable and executable"},
    {"huge p_memsz", load_huge_memsz, IRT_STATUS_RESOURCE_EXHAUSTED, "span"},
    {"p_vaddr overflow", load_vaddr_overflow, IRT_STATUS_FAILED_PRECONDITION,
     "overflows"},
    {"no PT_DYNAMIC", no_dynamic, IRT_STATUS_FAILED_PRECONDITION,
     "no PT_DYNAMIC"},
    {"two PT_DYNAMIC", two_dynamic, IRT_STATUS_FAILED_PRECONDITION,
     "more than one PT_DYNAMIC"},
    {"PT_TLS", tls_segment, IRT_STATUS_UNIMPLEMENTED, "thread-local"},
    {"PT_DYNAMIC out of image", dynamic_out_of_image, IRT_STATUS_OUT_OF_RANGE,
     "dynamic section"},
    {"PT_GNU_RELRO out of image", relro_out_of_image, IRT_STATUS_OUT_OF_RANGE,
     "PT_GNU_RELRO"},
    {"unsupported relocation", rela_bad_type, IRT_STATUS_UNIMPLEMENTED,
     "relocation type 37"},
    {"relocation outside the image", rela_offset_out_of_image,
     IRT_STATUS_OUT_OF_RANGE, "targets 0x100000"},
    {"relocation straddling the end", rela_offset_straddles_end,
     IRT_STATUS_OUT_OF_RANGE, "outside the loaded segments"},
    {"relocation symbol out of range", rela_symbol_out_of_range,
     IRT_STATUS_OUT_OF_RANGE, "symbol 7 of 2"},
    {"PC32 overflow", rela_pc32_overflow, IRT_STATUS_OUT_OF_RANGE,
     "does not fit"},
    {"DT_RELASZ oversized", relasz_oversized, IRT_STATUS_OUT_OF_RANGE,
     "relocation table (DT_RELA)"},
    {"DT_RELASZ ragged", relasz_ragged, IRT_STATUS_FAILED_PRECONDITION,
     "not a multiple"},
    {"DT_RELAENT", relaent_wrong, IRT_STATUS_FAILED_PRECONDITION,
     "DT_RELAENT is 16"},
    {"DT_SYMENT", syment_wrong, IRT_STATUS_FAILED_PRECONDITION,
     "DT_SYMENT is 16"},
    {"DT_REL present", rel_present, IRT_STATUS_FAILED_PRECONDITION, "DT_REL"},
    {"DT_PLTREL = DT_REL", pltrel_wrong, IRT_STATUS_FAILED_PRECONDITION,
     "DT_PLTREL"},
    {"DT_JMPREL outside the image", jmprel_out_of_image,
     IRT_STATUS_OUT_OF_RANGE, "DT_JMPREL"},
    {"DT_HASH missing", hash_missing, IRT_STATUS_FAILED_PRECONDITION,
     "DT_HASH"},
    {"DT_STRTAB missing", strtab_missing, IRT_STATUS_FAILED_PRECONDITION,
     "DT_STRTAB"},
    {"nchain oversized", hash_nchain_oversized, IRT_STATUS_OUT_OF_RANGE,
     "symbol table"},
    {"DT_HASH outside the image", hash_out_of_image, IRT_STATUS_OUT_OF_RANGE,
     "hash table"},
    {"DT_STRSZ oversized", strsz_oversized, IRT_STATUS_OUT_OF_RANGE,
     "string table"},
    {"string table unterminated", strtab_unterminated,
     IRT_STATUS_FAILED_PRECONDITION, "does not end with NUL"},
    {"symbol name out of range", symbol_name_out_of_range,
     IRT_STATUS_OUT_OF_RANGE, "name offset"},
    {"undefined symbol", symbol_undefined, IRT_STATUS_UNAVAILABLE,
     "imports symbol 'iree_hal_executable_library_query'"},
    {"DT_INIT outside code", init_array_out_of_code,
     IRT_STATUS_FAILED_PRECONDITION, "DT_INIT"},
    {"DT_INIT_ARRAYSZ ragged", init_array_ragged,
     IRT_STATUS_FAILED_PRECONDITION, "DT_INIT_ARRAYSZ 12"},
    {"DT_INIT_ARRAY entry outside code", init_array_entry_not_code,
     IRT_STATUS_FAILED_PRECONDITION, "DT_INIT_ARRAY entry 0"},
};

static void image_from(const test_elf_t* elf, image_t* image) {
  image->size = elf->size;
  image->data = malloc(elf->size);
  assert_non_null(image->data);
  memcpy(image->data, elf->data, elf->size);
  image->header = (Elf64_Ehdr*)image->data;
  image->phdrs = (Elf64_Phdr*)(image->data + image->header->e_phoff);
  image->dynamic_phdr = find_phdr(image, PT_DYNAMIC, 0);
  image->dynamic = (Elf64_Dyn*)(image->data + image->dynamic_phdr->p_offset);
  image->dynamic_count = image->dynamic_phdr->p_filesz / sizeof(Elf64_Dyn);
}

static void test_corruptions_are_rejected(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  test_elf_t elf;
  if (!test_elf_load("v3.11/simple_mul.vmfb", &elf)) skip();
  for (size_t i = 0; i < sizeof(kCorruptions) / sizeof(kCorruptions[0]); ++i) {
    const corruption_t* corruption = &kCorruptions[i];
    image_t image;
    image_from(&elf, &image);
    corruption->mutate(&image);
    irhal_elf_module_t* module = NULL;
    irt_status_t status = load_copy(image.data, image.size, NULL, &module);
    char text[512];
    irt_status_format_brief(status, text, sizeof(text));
    if (irt_status_code(status) != corruption->code ||
        !strstr(text, corruption->message)) {
      fail_msg("%s: expected %s containing '%s', got %s: %s", corruption->name,
               irt_status_code_string(corruption->code), corruption->message,
               irt_status_code_string(irt_status_code(status)), text);
    }
    assert_null(module);
    irt_status_free(status);
    free(image.data);
  }
  test_elf_free(&elf);
}

// A symbol that is present but renamed is simply not found.
static void test_missing_query_symbol(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  test_elf_t elf;
  if (!test_elf_load("v3.11/simple_mul.vmfb", &elf)) skip();
  image_t image;
  image_from(&elf, &image);
  char* strings = at_vaddr(&image, find_dynamic(&image, DT_STRTAB)->d_un.d_ptr);
  strings[symbol(&image, 1)->st_name] = 'X';
  irhal_elf_module_t* module = NULL;
  assert_true(
      irt_status_is_ok(load_copy(image.data, image.size, NULL, &module)));
  void* query = NULL;
  expect_status(irhal_elf_module_lookup(
                    module, IRHAL_EXECUTABLE_LIBRARY_QUERY_SYMBOL, &query),
                IRT_STATUS_NOT_FOUND, IRHAL_EXECUTABLE_LIBRARY_QUERY_SYMBOL);
  irhal_elf_module_unload(module);
  free(image.data);
  test_elf_free(&elf);
}

// Random byte damage (fixed seed, so failures reproduce). The dynamic section
// is spared: damage there could forge a DT_INIT into the image's code, which
// the loader is required to call. Everything else must load or fail cleanly.
static void test_random_damage(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  test_elf_t elf;
  if (!test_elf_load("v3.11/simple_mul.vmfb", &elf)) skip();
  image_t pristine;
  image_from(&elf, &pristine);
  uint64_t dynamic_start = pristine.dynamic_phdr->p_offset;
  uint64_t dynamic_end = dynamic_start + pristine.dynamic_phdr->p_filesz;
  // Damage the part of the file that loading reads: headers and segments.
  uint64_t end = loadable_end(pristine.data);
  uint64_t random = 0x9E3779B97F4A7C15ull;
  int loaded = 0;
  for (int iteration = 0; iteration < 4000; ++iteration) {
    image_t image;
    image_from(&elf, &image);
    int flips = 1 + iteration % 4;
    for (int i = 0; i < flips; ++i) {
      random = random * 6364136223846793005ull + 1442695040888963407ull;
      uint64_t offset = (random >> 33) % end;
      if (offset >= dynamic_start && offset < dynamic_end) continue;
      image.data[offset] ^= (uint8_t)(1u << ((random >> 20) & 7));
    }
    irhal_elf_module_t* module = NULL;
    irt_status_t status = load_copy(image.data, image.size, NULL, &module);
    if (irt_status_is_ok(status)) {
      void* query = NULL;
      irt_status_free(irhal_elf_module_lookup(
          module, IRHAL_EXECUTABLE_LIBRARY_QUERY_SYMBOL, &query));
      irhal_elf_module_unload(module);
      ++loaded;
    } else {
      assert_null(module);
      irt_status_free(status);
    }
    free(image.data);
  }
  // Most single flips hit bytes the loader tolerates (padding, code, data).
  assert_true(loaded > 0);
  free(pristine.data);
  test_elf_free(&elf);
}

//===----------------------------------------------------------------------===//
// FatELF
//===----------------------------------------------------------------------===//

typedef struct fat_record_s {
  uint16_t machine;
  uint8_t osabi;
  uint8_t word_size;
  const uint8_t* data;
  size_t size;
} fat_record_t;

// Builds a FatELF bundle of |count| records; the images follow the table.
static uint8_t* build_fatelf(const fat_record_t* records, uint8_t count,
                             size_t* out_size) {
  size_t table_end = 8 + 24 * (size_t)count;
  size_t size = table_end;
  for (uint8_t i = 0; i < count; ++i) size += records[i].size;
  uint8_t* data = calloc(1, size);
  assert_non_null(data);
  uint32_t magic = 0x1F0E70FA;
  uint16_t version = 1;
  memcpy(data, &magic, 4);
  memcpy(data + 4, &version, 2);
  data[6] = count;
  size_t offset = table_end;
  for (uint8_t i = 0; i < count; ++i) {
    uint8_t* record = data + 8 + 24 * (size_t)i;
    uint64_t record_offset = offset, record_size = records[i].size;
    memcpy(record, &records[i].machine, 2);
    record[2] = records[i].osabi;
    record[4] = records[i].word_size;
    record[5] = 1;  // little-endian
    memcpy(record + 8, &record_offset, 8);
    memcpy(record + 16, &record_size, 8);
    memcpy(data + offset, records[i].data, records[i].size);
    offset += records[i].size;
  }
  *out_size = size;
  return data;
}

static void test_fatelf_selects_the_host_image(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  test_elf_t x86, arm, arm32;
  if (!test_elf_load("v3.11/simple_mul.vmfb", &x86)) skip();
  if (!test_elf_load("negative/matmul_aarch64.vmfb", &arm)) skip();
  if (!test_elf_load("negative/simple_mul_arm32.vmfb", &arm32)) skip();
  fat_record_t records[] = {
      {EM_AARCH64, ELFOSABI_LINUX, 2, arm.data, arm.size},
      {EM_X86_64, ELFOSABI_SYSV, 1, arm32.data, arm32.size},  // 32-bit: skip
      {EM_X86_64, ELFOSABI_SYSV, 2, x86.data, x86.size},
  };
  size_t size = 0;
  uint8_t* bundle = build_fatelf(records, 3, &size);
  const void* selected = NULL;
  size_t selected_size = 0;
  assert_true(irt_status_is_ok(
      irhal_fatelf_select(bundle, size, 0, &selected, &selected_size)));
  assert_int_equal(selected_size, x86.size);
  assert_memory_equal(selected, x86.data, x86.size);
  assert_true(irt_status_is_ok(irhal_fatelf_select(bundle, size, EM_AARCH64,
                                                   &selected, &selected_size)));
  assert_int_equal(selected_size, arm.size);

  irhal_elf_module_t* module = NULL;
  assert_true(irt_status_is_ok(load_copy(bundle, size, NULL, &module)));
  irhal_elf_module_unload(module);

  // Only foreign images: nothing to select.
  uint8_t* foreign = build_fatelf(records, 2, &size);
  expect_status(load_copy(foreign, size, NULL, &module),
                IRT_STATUS_INVALID_ARGUMENT, "no 64-bit little-endian x86_64");
  free(foreign);
  free(bundle);
  test_elf_free(&x86);
  test_elf_free(&arm);
  test_elf_free(&arm32);
}

static void test_fatelf_malformed(void** state) {
  (void)state;
  uint8_t image[64] = {0};
  fat_record_t record = {irhal_elf_host_machine(), ELFOSABI_STANDALONE, 2,
                         image, sizeof(image)};
  size_t size = 0;
  const void* selected = NULL;
  size_t selected_size = 0;

  // Short or unmarked data passes through unchanged.
  uint8_t plain[16] = {0x7F, 'E', 'L', 'F'};
  assert_true(irt_status_is_ok(
      irhal_fatelf_select(plain, sizeof(plain), 0, &selected, &selected_size)));
  assert_ptr_equal(selected, plain);
  assert_int_equal(selected_size, sizeof(plain));

  uint8_t* bundle = build_fatelf(&record, 1, &size);
  bundle[4] = 2;  // version 2
  expect_status(irhal_fatelf_select(bundle, size, 0, &selected, &selected_size),
                IRT_STATUS_UNIMPLEMENTED, "version 2");
  bundle[4] = 1;
  bundle[6] = 200;  // records past the data
  expect_status(irhal_fatelf_select(bundle, size, 0, &selected, &selected_size),
                IRT_STATUS_INVALID_ARGUMENT, "record table");
  bundle[6] = 1;
  uint64_t offset = 8;  // overlaps the record table
  memcpy(bundle + 8 + 8, &offset, 8);
  expect_status(irhal_fatelf_select(bundle, size, 0, &selected, &selected_size),
                IRT_STATUS_OUT_OF_RANGE, "record 0");
  offset = 32;
  uint64_t huge = UINT64_MAX - 16;  // offset + size overflows
  memcpy(bundle + 8 + 8, &offset, 8);
  memcpy(bundle + 8 + 16, &huge, 8);
  expect_status(irhal_fatelf_select(bundle, size, 0, &selected, &selected_size),
                IRT_STATUS_OUT_OF_RANGE, "record 0");
  free(bundle);

  record.osabi = 9;  // FreeBSD: not accepted
  bundle = build_fatelf(&record, 1, &size);
  expect_status(irhal_fatelf_select(bundle, size, 0, &selected, &selected_size),
                IRT_STATUS_INVALID_ARGUMENT, "no 64-bit");
  free(bundle);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loads_real_images),
      cmocka_unit_test(test_refuses_foreign_architectures),
      cmocka_unit_test(test_maps_aarch64_image_for_inspection),
      cmocka_unit_test(test_allocation_failure_is_clean),
      cmocka_unit_test(test_every_prefix_is_rejected),
      cmocka_unit_test(test_every_prefix_past_the_header_check),
      cmocka_unit_test(test_corruptions_are_rejected),
      cmocka_unit_test(test_missing_query_symbol),
      cmocka_unit_test(test_random_damage),
      cmocka_unit_test(test_fatelf_selects_the_host_image),
      cmocka_unit_test(test_fatelf_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
