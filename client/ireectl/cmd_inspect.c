// `ireectl inspect [--disassemble] PATH.vmfb`: prints what a compiled module
// contains (the metadata iree-dump-module shows) without loading it into a
// runtime. A file that does not parse is reported on one line.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/ireectl/commands.h"
#include "runtime/base/status.h"
#include "runtime/vm/format/decoder.h"
#include "runtime/vm/format/disassembler.h"
#include "runtime/vm/format/module_def.h"

#define IREECTL_EXECUTABLE_FORMAT_KEY "hal.executable.format"

// The file's bytes, mapped read-only.
typedef struct ireectl_file_s {
  const uint8_t* data;
  size_t size;
} ireectl_file_t;

static int ireectl_file_map(const char* path, ireectl_file_t* out_file) {
  out_file->data = NULL;
  out_file->size = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  struct stat info;
  int error = 0;
  if (fstat(fd, &info) != 0) {
    error = errno;
  } else if (S_ISDIR(info.st_mode)) {
    error = EISDIR;
  } else if (info.st_size > 0) {
    void* data =
        mmap(NULL, (size_t)info.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (data == MAP_FAILED) {
      error = errno;
    } else {
      out_file->data = data;
      out_file->size = (size_t)info.st_size;
    }
  }
  close(fd);
  return error;
}

static void ireectl_file_unmap(ireectl_file_t* file) {
  if (file->data) munmap((void*)file->data, file->size);
}

static void ireectl_print_features(const char* label, uint32_t features) {
  char text[128];
  irvm_features_format(features, text, sizeof(text));
  printf("%s%s\n", label, text);
}

static bool ireectl_is_printable(const uint8_t* data, uint64_t length) {
  for (uint64_t i = 0; i < length; ++i) {
    if (data[i] < 0x20 || data[i] >= 0x7F) return false;
  }
  return true;
}

static bool ireectl_rodata_equals(const irvm_rodata_def_t* segment,
                                  const char* text) {
  size_t length = strlen(text);
  return segment->length == length && memcmp(segment->data, text, length) == 0;
}

static const char* ireectl_elf_machine(uint16_t machine) {
  switch (machine) {
    case 0x03:
      return "x86";
    case 0x08:
      return "MIPS";
    case 0x28:
      return "ARM";
    case 0x3E:
      return "x86-64";
    case 0xB7:
      return "AArch64";
    case 0xE0:
      return "AMDGPU";
    case 0xF3:
      return "RISC-V";
    default:
      return NULL;
  }
}

// Names what a rodata segment holds: an ELF image, a FlatBuffer, or text.
static void ireectl_print_rodata_kind(const irvm_rodata_def_t* segment) {
  const uint8_t* data = segment->data;
  uint64_t length = segment->length;
  if (length >= 20 && memcmp(data,
                             "\x7F"
                             "ELF",
                             4) == 0) {
    bool little = data[5] == 1;
    uint16_t type = little ? irvm_load_u16(data + 16)
                           : (uint16_t)(data[16] << 8 | data[17]);
    uint16_t machine = little ? irvm_load_u16(data + 18)
                              : (uint16_t)(data[18] << 8 | data[19]);
    const char* machine_name = ireectl_elf_machine(machine);
    static const char* const types[] = {"", " relocatable", " executable",
                                        " shared object"};
    printf("  ELF %s-bit %s", data[4] == 2 ? "64" : "32",
           little ? "LSB" : "MSB");
    if (machine_name) {
      printf(" %s", machine_name);
    } else {
      printf(" machine 0x%X", machine);
    }
    printf("%s", type < 4 ? types[type] : "");
  } else if (length >= 8 && irvm_load_u32(data) >= 8 &&
             irvm_load_u32(data) < length &&
             ireectl_is_printable(data + 4, 4)) {
    printf("  FlatBuffer, identifier '%.4s'", (const char*)data + 4);
  } else if (length <= 64 && ireectl_is_printable(data, length)) {
    printf("  \"%.*s\"", (int)length, (const char*)data);
  }
}

// Executable formats are the strings a module compares against
// "hal.executable.format" when choosing executable variants: in compiled
// code the key's rodata load is immediately followed by the format's.
static void ireectl_collect_formats(const irvm_module_def_t* def,
                                    bool* is_format) {
  for (uint32_t f = 0; f < def->function_count; ++f) {
    const irvm_function_descriptor_t* descriptor =
        &def->function_descriptors[f];
    const uint8_t* code = def->bytecode_data + descriptor->bytecode_offset;
    bool after_key = false;
    irvm_instruction_t instruction;
    for (uint32_t pc = 0; pc < descriptor->bytecode_length;
         pc = instruction.next_pc) {
      irt_status_t status = irvm_instruction_decode(
          code, descriptor->bytecode_length, pc, &instruction);
      if (status != IRT_OK) {
        irt_status_free(status);  // reported by --disassemble
        break;
      }
      bool is_rodata = instruction.info->table == IRVM_OP_TABLE_CORE &&
                       instruction.info->opcode == IRVM_OP_CONST_REF_RODATA;
      uint32_t ordinal = is_rodata ? instruction.operands[0].u32 : UINT32_MAX;
      if (ordinal >= def->rodata_count) {
        after_key = false;
        continue;
      }
      const irvm_rodata_def_t* segment = &def->rodata[ordinal];
      if (after_key && !segment->is_external &&
          ireectl_is_printable(segment->data, segment->length)) {
        is_format[ordinal] = true;
      }
      after_key = ireectl_rodata_equals(segment, IREECTL_EXECUTABLE_FORMAT_KEY);
    }
  }
}

static void ireectl_print_formats(const irvm_module_def_t* def) {
  bool* is_format = calloc(def->rodata_count ? def->rodata_count : 1, 1);
  if (!is_format) return;
  ireectl_collect_formats(def, is_format);
  printf("executable formats:  ");
  const char* separator = "";
  for (uint32_t i = 0; i < def->rodata_count; ++i) {
    if (!is_format[i]) continue;
    printf("%s%.*s", separator, (int)def->rodata[i].length,
           (const char*)def->rodata[i].data);
    separator = ", ";
  }
  printf("%s\n", *separator ? "" : "(none)");
  free(is_format);
}

static void ireectl_print_attrs(const char* indent, uint32_t count,
                                const irvm_attr_def_t* attrs) {
  for (uint32_t i = 0; i < count; ++i) {
    printf("%s%.*s = %.*s\n", indent, IRT_SV_ARG(attrs[i].key),
           IRT_SV_ARG(attrs[i].value));
  }
}

static void ireectl_print_summary(const char* path,
                                  const irvm_module_def_t* def) {
  uint64_t embedded = 0, external = 0, used = def->rodata_base;
  for (uint32_t i = 0; i < def->rodata_count; ++i) {
    const irvm_rodata_def_t* segment = &def->rodata[i];
    if (segment->is_external) {
      external += segment->length;
      if (segment->file_offset + segment->length > used) {
        used = segment->file_offset + segment->length;
      }
    } else {
      embedded += segment->length;
    }
  }
  printf("%s\n", path);
  printf("module:              %.*s (version %u)\n", IRT_SV_ARG(def->name),
         def->version);
  printf("bytecode version:    %u.%u\n", def->bytecode_version >> 16,
         def->bytecode_version & 0xFFFFu);
  ireectl_print_features("requirements:        ", def->requirements);
  printf("container:           %s, FlatBuffer at 0x%llX, rodata base 0x%llX\n",
         def->has_zip_header ? "ZIP (polyglot)" : "flat",
         (unsigned long long)def->flatbuffer_offset,
         (unsigned long long)def->rodata_base);
  printf(
      "sizes:               file %zu, used %llu, FlatBuffer %llu, "
      "bytecode %zu, rodata %llu (embedded %llu, external %llu)\n",
      def->file_size, (unsigned long long)used,
      (unsigned long long)def->flatbuffer_size, def->bytecode_size,
      (unsigned long long)(embedded + external), (unsigned long long)embedded,
      (unsigned long long)external);
  printf("module state:        %u global bytes, %u ref globals\n",
         def->global_bytes_capacity, def->global_ref_count);
  ireectl_print_formats(def);
}

static void ireectl_print_tables(const irvm_module_def_t* def) {
  printf("\nattributes (%u):\n", def->attr_count);
  ireectl_print_attrs("  ", def->attr_count, def->attrs);

  printf("\ndependencies (%u):\n", def->dependency_count);
  for (uint32_t i = 0; i < def->dependency_count; ++i) {
    const irvm_dependency_def_t* dependency = &def->dependencies[i];
    printf("  %.*s >= %u, %s\n", IRT_SV_ARG(dependency->name),
           dependency->minimum_version,
           (dependency->flags & IRVM_FLAG_REQUIRED) ? "required" : "optional");
  }

  printf("\ntypes (%u):\n", def->type_count);
  for (uint32_t i = 0; i < def->type_count; ++i) {
    printf("  [%u] %.*s\n", i, IRT_SV_ARG(def->types[i]));
  }

  printf("\nimports (%u):\n", def->import_count);
  for (uint32_t i = 0; i < def->import_count; ++i) {
    const irvm_import_def_t* import = &def->imports[i];
    irt_string_view_t cconv = import->signature.calling_convention;
    printf("  [%u] %.*s  %.*s%s\n", i, IRT_SV_ARG(import->full_name),
           IRT_SV_ARG(cconv.size ? cconv : irt_make_cstring_view("(no cconv)")),
           (import->flags & IRVM_FLAG_OPTIONAL) ? "  optional" : "");
    ireectl_print_attrs("      ", import->signature.attr_count,
                        import->signature.attrs);
  }

  printf("\nexports (%u):\n", def->export_count);
  for (uint32_t i = 0; i < def->export_count; ++i) {
    const irvm_export_def_t* export = &def->exports[i];
    const irvm_signature_def_t* signature =
        &def->function_signatures[export->internal_ordinal];
    printf("  [%u] %.*s -> internal %u  %.*s\n", i,
           IRT_SV_ARG(export->local_name), export->internal_ordinal,
           IRT_SV_ARG(signature->calling_convention));
    ireectl_print_attrs("      ", signature->attr_count, signature->attrs);
  }

  printf("\ninternal functions (%u):\n", def->function_count);
  for (uint32_t i = 0; i < def->function_count; ++i) {
    const irvm_function_descriptor_t* descriptor =
        &def->function_descriptors[i];
    char name[256], features[128];
    irvm_function_name(def, i, name, sizeof(name));
    irvm_features_format(descriptor->requirements, features, sizeof(features));
    printf(
        "  [%u] %s  %.*s  bytecode offset %u length %u, %u blocks, "
        "%u i32 + %u ref registers, requires %s\n",
        i, name, IRT_SV_ARG(def->function_signatures[i].calling_convention),
        descriptor->bytecode_offset, descriptor->bytecode_length,
        descriptor->block_count, descriptor->i32_register_count,
        descriptor->ref_register_count, features);
  }

  printf("\nrodata segments (%u):\n", def->rodata_count);
  for (uint32_t i = 0; i < def->rodata_count; ++i) {
    const irvm_rodata_def_t* segment = &def->rodata[i];
    printf("  [%u] %llu bytes, ", i, (unsigned long long)segment->length);
    if (segment->is_external) {
      printf("external at file offset %llu (rodata base + %llu)",
             (unsigned long long)segment->file_offset,
             (unsigned long long)segment->external_offset);
    } else {
      printf("embedded");
    }
    ireectl_print_rodata_kind(segment);
    printf("\n");
  }

  const irvm_debug_database_def_t* debug = &def->debug_database;
  printf("\ndebug database:      ");
  if (!def->has_debug_database) {
    printf("(none)\n");
    return;
  }
  printf("%u locations, %u function source maps", debug->location_count,
         debug->function_count);
  for (uint32_t i = 0; i < debug->function_count; ++i) {
    printf("%s%.*s (%u entries)", i ? ", " : ": ",
           IRT_SV_ARG(debug->functions[i].local_name),
           debug->functions[i].entry_count);
  }
  printf("\n");
}

// Lists every internal function; returns the first decoding error.
static irt_status_t ireectl_print_disassembly(const irvm_module_def_t* def) {
  irt_status_t first_error = IRT_OK;
  for (uint32_t i = 0; i < def->function_count; ++i) {
    char name[256];
    irvm_function_name(def, i, name, sizeof(name));
    printf("\nfunction [%u] %s  %.*s:\n", i, name,
           IRT_SV_ARG(def->function_signatures[i].calling_convention));
    irt_status_t status = irvm_disassemble_function(def, i, "  ", stdout);
    if (first_error == IRT_OK) {
      first_error = status;
    } else {
      irt_status_free(status);
    }
  }
  return first_error;
}

static void ireectl_inspect_usage(FILE* out) {
  fprintf(out,
          "usage: ireectl inspect [--disassemble] PATH.vmfb\n"
          "Prints the contents of a compiled VM bytecode module.\n"
          "  -d, --disassemble  also list the bytecode of every function\n");
}

static int ireectl_report_error(const char* path, irt_status_t status) {
  char reason[1024];
  irt_status_format_brief(status, reason, sizeof(reason));
  irt_status_free(status);
  fprintf(stderr, "ireectl: %s: %s\n", path, reason);
  return 1;
}

int ireectl_cmd_inspect(int argc, char** argv) {
  const char* path = NULL;
  bool disassemble = false;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--disassemble") == 0 || strcmp(argv[i], "-d") == 0) {
      disassemble = true;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      ireectl_inspect_usage(stdout);
      return 0;
    } else if (argv[i][0] == '-' || path) {
      ireectl_inspect_usage(stderr);
      return 2;
    } else {
      path = argv[i];
    }
  }
  if (!path) {
    ireectl_inspect_usage(stderr);
    return 2;
  }

  ireectl_file_t file;
  int error = ireectl_file_map(path, &file);
  if (error) {
    fprintf(stderr, "ireectl: %s: %s\n", path, strerror(error));
    return 1;
  }
  irvm_module_def_t def;
  irt_status_t status =
      irvm_module_def_parse(file.data, file.size, irt_allocator_system(), &def);
  if (status != IRT_OK) {
    ireectl_file_unmap(&file);
    return ireectl_report_error(path, status);
  }
  ireectl_print_summary(path, &def);
  ireectl_print_tables(&def);
  if (disassemble) status = ireectl_print_disassembly(&def);
  fflush(stdout);
  irvm_module_def_deinit(&def);
  ireectl_file_unmap(&file);
  return status == IRT_OK ? 0 : ireectl_report_error(path, status);
}
