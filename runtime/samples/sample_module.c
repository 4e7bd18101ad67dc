// Writes the bundled sample model, `sample.vmfb`, with the module builder:
//
//   module "sample" {
//     __init: picks device 0, checks it runs FORMAT, creates the executable
//             from the kernel library (sample_kernel.c, external rodata)
//     simple_mul(%input0: tensor<?xf32>, %input1: tensor<?xf32>)
//         -> tensor<?xf32>: elementwise product
//   }
//
// The bytecode follows what iree-compile emits for such a function
// (hal-abi.md 1.7, 1.9; `ireectl inspect --disassemble` of the conformance
// simple_mul.vmfb): shape asserts on the inputs, a queue-ordered result
// allocation, a one-shot command buffer with one dispatch, a fence await and
// a buffer view over the result.
//
// usage: sample_module KERNEL.so FORMAT OUT.vmfb
//   FORMAT is the executable format of the kernel ("system-elf-x86_64").
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/vm/builder/hal_imports.h"
#include "runtime/base/file.h"
#include "runtime/vm/builder/module_builder.h"

#define I32(n) irvm_reg_i32(n)
#define I64(n) irvm_reg_i64(n)
#define REF(n) irvm_reg_ref(n)
#define MOVE(n) irvm_reg_ref_move(n)
#define REGS(...) \
  (const irvm_reg_t[]) { __VA_ARGS__ }
#define REG_COUNT(...) (sizeof(REGS(__VA_ARGS__)) / sizeof(irvm_reg_t))
// vm.call of hal import IRVM_HAL_|import| with the given argument and
// result lists, in a function whose module types are |types|.
#define CALL(fn, import, args, results)                                   \
  irvm_fn_call((fn), irvm_hal_import(&types->imports, IRVM_HAL_##import), \
               (args).regs, (args).count, (results).regs, (results).count)
#define ARGS(...) ((reg_list_t){REGS(__VA_ARGS__), REG_COUNT(__VA_ARGS__)})
#define NONE ((reg_list_t){NULL, 0})

typedef struct reg_list_s {
  const irvm_reg_t* regs;
  size_t count;
} reg_list_t;

// Rodata ordinals after the executable's (irvm_hal_add_executable_rodata).
enum {
  kInput0 = 3,
  kInput1,
};

// Ref globals.
enum { kGlobalDevice, kGlobalExecutable, kGlobalCount };

typedef struct sample_types_s {
  irvm_type_t device;
  irvm_type_t executable;
  irvm_hal_imports_t imports;
} sample_types_t;

// __init: the standard prologue (device 0 must run |format|, the kernel
// becomes the executable), nothing else.
static irt_status_t define_init(irvm_module_builder_t* b,
                                const sample_types_t* types,
                                const irvm_hal_executable_rodata_t* rodata,
                                const char* format) {
  const irvm_hal_init_t init = {
      .imports = &types->imports,
      .rodata = *rodata,
      .format = format,
      .device_global = kGlobalDevice,
      .executable_global = kGlobalExecutable,
      .requirement = "the sample needs a CPU device",
  };
  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(irvm_hal_begin_init_executable(b, &init, &fn));
  IRT_RETURN_IF_ERROR(IRVM_EMIT(fn, IRVM_INSN_DISCARD_REFS, IRVM_LIST(REF(0))));
  return irvm_fn_return(fn, NULL, 0);
}

// Registers of simple_mul. i32 bank: constants, then 64-bit pairs at even
// ordinals; refs: the two arguments first.
enum {
  kZero = 0,          // i32 0
  kOne = 1,           // i32 1
  kElementType = 2,   // f32
  kEncoding = 3,      // dense row-major
  kMemoryTypes = 4,   // DEVICE_LOCAL | HOST_VISIBLE... (0x30)
  kUsage = 5,         // TRANSFER | DISPATCH_STORAGE | ... (0xC03)
  kTimeout = 6,       // -1: wait forever
  kMode = 7,          // ONE_SHOT
  kCategories = 8,    // TRANSFER | DISPATCH
  kWaitStatus = 9,    // fence.await's result
  kCount = 10,        // i64 element count
  kBytes = 12,        // i64 byte length
  kElementSize = 14,  // i64 4
  kZero64 = 16,       // i64 0
  kAffinity = 18,     // i64 -1: any queue
};
enum {
  kA = 0,
  kB = 1,
  kDevice = 2,
  kExecutable = 3,
  kName = 4,
  kBufferA = 5,
  kBufferB = 6,
  kNoFence = 7,
  kAllocated = 8,
  kResult = 9,
  kCommands = 10,
  kDone = 11,
  kView = 12,
};

static irt_status_t emit_input_assert(irvm_function_builder_t* fn,
                                      const sample_types_t* types,
                                      uint16_t view, uint32_t name) {
  IRT_RETURN_IF_ERROR(IRVM_EMIT(fn, IRVM_INSN_CONST_REF_RODATA,
                                irvm_opnd_rodata(name), irvm_opnd_ref(kName)));
  return IRVM_EMIT(
      fn, IRVM_INSN_CALL_VARIADIC,
      irvm_hal_import(&types->imports, IRVM_HAL_BUFFER_VIEW_ASSERT),
      IRVM_SEGMENTS(-1, -1, -1, -1, 1),
      IRVM_LIST(REF(view), MOVE(kName), I32(kElementType), I32(kEncoding),
                I64(kCount)),
      IRVM_EMPTY_LIST);
}

static irt_status_t define_simple_mul(irvm_module_builder_t* b,
                                      const sample_types_t* types) {
  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(irvm_module_builder_begin_exported_function(
      b, "simple_mul", "0rr_r", &fn));
  IRT_RETURN_IF_ERROR(
      irvm_fn_add_attr(fn, "iree.abi.declaration",
                       "sync func @simple_mul(%input0: tensor<?xf32>, %input1: "
                       "tensor<?xf32>) -> (%output0: tensor<?xf32>)"));
  irvm_label_t resume, ok, failed;
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &resume));
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &ok));
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &failed));

  IRT_RETURN_IF_ERROR(irvm_fn_op1(fn, IRVM_INSN_CONST_I32_ZERO, I32(kZero)));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(kOne), 1));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(kElementType), 0x21000020));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(kEncoding), 1));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(kMemoryTypes), 0x30));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(kUsage), 0xC03));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(kTimeout), -1));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(kMode), 1));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(kCategories), 3));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i64(fn, I64(kElementSize), 4));
  IRT_RETURN_IF_ERROR(irvm_fn_op1(fn, IRVM_INSN_CONST_I64_ZERO, I64(kZero64)));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i64(fn, I64(kAffinity), -1));
  IRT_RETURN_IF_ERROR(irvm_fn_op1(fn, IRVM_INSN_CONST_REF_ZERO, REF(kNoFence)));
  IRT_RETURN_IF_ERROR(IRVM_EMIT(
      fn, IRVM_INSN_GLOBAL_LOAD_REF, irvm_opnd_global_ref(kGlobalDevice),
      irvm_opnd_type(types->device), irvm_opnd_ref(kDevice)));
  IRT_RETURN_IF_ERROR(IRVM_EMIT(
      fn, IRVM_INSN_GLOBAL_LOAD_REF, irvm_opnd_global_ref(kGlobalExecutable),
      irvm_opnd_type(types->executable), irvm_opnd_ref(kExecutable)));

  // Both inputs are 1-D f32 of input0's length.
  IRT_RETURN_IF_ERROR(
      CALL(fn, BUFFER_VIEW_DIM, ARGS(REF(kA), I32(kZero)), ARGS(I64(kCount))));
  IRT_RETURN_IF_ERROR(emit_input_assert(fn, types, kA, kInput0));
  IRT_RETURN_IF_ERROR(emit_input_assert(fn, types, kB, kInput1));
  IRT_RETURN_IF_ERROR(
      CALL(fn, BUFFER_VIEW_BUFFER, ARGS(MOVE(kA)), ARGS(REF(kBufferA))));
  IRT_RETURN_IF_ERROR(
      CALL(fn, BUFFER_VIEW_BUFFER, ARGS(MOVE(kB)), ARGS(REF(kBufferB))));
  IRT_RETURN_IF_ERROR(irvm_fn_op3(fn, IRVM_INSN_MUL_I64, I64(kBytes),
                                  I64(kCount), I64(kElementSize)));

  // The result buffer, allocated in queue order.
  IRT_RETURN_IF_ERROR(CALL(fn, FENCE_CREATE, ARGS(REF(kDevice), I64(kZero64)),
                           ARGS(REF(kAllocated))));
  IRT_RETURN_IF_ERROR(
      CALL(fn, DEVICE_QUEUE_ALLOCA,
           ARGS(REF(kDevice), I64(kAffinity), MOVE(kNoFence), REF(kAllocated),
                I64(kZero64), I32(kMemoryTypes), I32(kUsage), I64(kBytes),
                I64(kZero64)),
           ARGS(REF(kResult))));

  // One dispatch of export 0 over one workgroup: result = a * b.
  IRT_RETURN_IF_ERROR(CALL(fn, COMMAND_BUFFER_CREATE,
                           ARGS(REF(kDevice), I32(kMode), I32(kCategories),
                                I64(kAffinity), I32(kZero)),
                           ARGS(REF(kCommands))));
  IRT_RETURN_IF_ERROR(IRVM_EMIT(
      fn, IRVM_INSN_CALL_VARIADIC,
      irvm_hal_import(&types->imports, IRVM_HAL_COMMAND_BUFFER_DISPATCH),
      IRVM_SEGMENTS(-1, -1, -1, -1, -1, -1, -1, 0, 3),
      IRVM_LIST(REF(kCommands), MOVE(kExecutable), I32(kZero), I32(kOne),
                I32(kOne), I32(kOne), I64(kZero64),  //
                I32(kZero), I32(kZero), MOVE(kBufferA), I64(kZero64),
                I64(kBytes),  //
                I32(kZero), I32(kZero), MOVE(kBufferB), I64(kZero64),
                I64(kBytes),  //
                I32(kZero), I32(kZero), REF(kResult), I64(kZero64),
                I64(kBytes)),
      IRVM_EMPTY_LIST));
  IRT_RETURN_IF_ERROR(
      CALL(fn, COMMAND_BUFFER_FINALIZE, ARGS(REF(kCommands)), NONE));
  IRT_RETURN_IF_ERROR(CALL(fn, FENCE_CREATE, ARGS(REF(kDevice), I64(kZero64)),
                           ARGS(REF(kDone))));
  IRT_RETURN_IF_ERROR(CALL(fn, DEVICE_QUEUE_EXECUTE,
                           ARGS(MOVE(kDevice), I64(kAffinity), MOVE(kAllocated),
                                REF(kDone), MOVE(kCommands), I64(kZero64)),
                           NONE));
  IRT_RETURN_IF_ERROR(
      IRVM_EMIT(fn, IRVM_INSN_CALL_VARIADIC_YIELDABLE,
                irvm_hal_import(&types->imports, IRVM_HAL_FENCE_AWAIT),
                IRVM_SEGMENTS(-1, -1, 1),
                IRVM_LIST(I32(kTimeout), I64(kZero64), MOVE(kDone)),
                IRVM_GOTO(resume), IRVM_LIST(I32(kWaitStatus))));
  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, resume));
  IRT_RETURN_IF_ERROR(irvm_fn_cond_br(fn, I32(kWaitStatus), failed, ok));

  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, ok));
  IRT_RETURN_IF_ERROR(
      IRVM_EMIT(fn, IRVM_INSN_CALL_VARIADIC,
                irvm_hal_import(&types->imports, IRVM_HAL_BUFFER_VIEW_CREATE),
                IRVM_SEGMENTS(-1, -1, -1, -1, -1, 1),
                IRVM_LIST(MOVE(kResult), I64(kZero64), I64(kBytes),
                          I32(kElementType), I32(kEncoding), I64(kCount)),
                IRVM_LIST(REF(kView))));
  IRT_RETURN_IF_ERROR(irvm_fn_return(fn, REGS(MOVE(kView)), 1));

  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, failed));
  IRT_RETURN_IF_ERROR(
      IRVM_EMIT(fn, IRVM_INSN_DISCARD_REFS, IRVM_LIST(REF(kResult))));
  return irvm_fn_fail(fn, I32(kWaitStatus), "failed to wait on timepoint");
}

static irt_status_t define_sample(irvm_module_builder_t* b, const char* format,
                                  const uint8_t* kernel, size_t kernel_size) {
  sample_types_t types;
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_type(b, "!hal.device", &types.device));
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_type(b, "!hal.executable", &types.executable));
  const char* other_types[] = {"i32",
                               "i64",
                               "!hal.buffer",
                               "!hal.buffer_view",
                               "!hal.command_buffer",
                               "!hal.fence",
                               "!vm.buffer"};
  for (size_t i = 0; i < sizeof(other_types) / sizeof(other_types[0]); ++i) {
    irvm_type_t ignored;
    IRT_RETURN_IF_ERROR(
        irvm_module_builder_add_type(b, other_types[i], &ignored));
  }
  IRT_RETURN_IF_ERROR(irvm_hal_imports_declare_dispatch(b, &types.imports));
  // The kernel as the compiler stores executables: external, 16-aligned,
  // named for `unzip -l`.
  irvm_rodata_options_t kernel_options = {.name = "sample_dispatch_0",
                                          .mime_type = "application/x-elf"};
  irvm_hal_executable_rodata_t rodata;
  IRT_RETURN_IF_ERROR(irvm_hal_add_executable_rodata(
      b, format, kernel, kernel_size, &kernel_options, &rodata));
  uint32_t ordinal = 0;
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_rodata(b, "input0", 6, NULL, &ordinal));
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_rodata(b, "input1", 6, NULL, &ordinal));
  IRT_RETURN_IF_ERROR(irvm_module_builder_set_module_state(b, 0, kGlobalCount));
  IRT_RETURN_IF_ERROR(define_simple_mul(b, &types));
  return define_init(b, &types, &rodata, format);
}

static irt_status_t write_sample(const char* kernel_path, const char* format,
                                 const char* out_path) {
  uint8_t* kernel = NULL;
  size_t kernel_size = 0;
  IRT_RETURN_IF_ERROR(irt_file_read_all(kernel_path, irt_allocator_system(),
                                        &kernel, &kernel_size));
  irt_allocator_t allocator = irt_allocator_system();
  irvm_module_builder_t* b = NULL;
  irt_status_t status = irvm_module_builder_create(allocator, "sample", 0, &b);
  uint8_t* data = NULL;
  size_t size = 0;
  if (!status) status = define_sample(b, format, kernel, kernel_size);
  if (!status) {
    status = irvm_module_builder_finish(b, NULL, allocator, &data, &size);
  }
  irvm_module_builder_destroy(b);
  free(kernel);
  if (status) return status;
  FILE* out = fopen(out_path, "wb");
  if (!out || fwrite(data, 1, size, out) != size || fclose(out) != 0) {
    status =
        irt_make_status(IRT_STATUS_DATA_LOSS, "cannot write '%s'", out_path);
  }
  irt_allocator_free(allocator, data);
  return status;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: sample_module KERNEL.so FORMAT OUT.vmfb\n");
    return 2;
  }
  irt_status_t status = write_sample(argv[1], argv[2], argv[3]);
  if (status) {
    char text[512];
    irt_status_format(status, text, sizeof(text));
    fprintf(stderr, "sample_module: %s\n", text);
    irt_status_free(status);
    return 1;
  }
  return 0;
}
