// Function inputs and outputs of the command-line tools: `--input` specs
// turned into argument values and tensors (HAL spec 9.5.1), and `--output`
// file specs (9.5.3). Turning tensors into buffer views is the caller's job.
#ifndef IRTOOL_FUNCTION_IO_H
#define IRTOOL_FUNCTION_IO_H

#include "runtime/tooling/tensor_text.h"
#include "runtime/vm/value.h"

typedef enum irtool_input_kind_e {
  IRTOOL_INPUT_NULL,    // "(null)"/"(ignored)" for a ref argument
  IRTOOL_INPUT_VALUE,   // a primitive argument (i32, i64, f32, f64)
  IRTOOL_INPUT_TENSOR,  // the contents of a buffer view
  IRTOOL_INPUT_BUFFER,  // "&spec": only the view's storage buffer is passed
} irtool_input_kind_t;

typedef struct irtool_input_s {
  irtool_input_kind_t kind;
  irvm_value_t value;      // VALUE
  irtool_tensor_t tensor;  // TENSOR and BUFFER (owned data)
} irtool_input_t;

typedef struct irtool_file_position_s irtool_file_position_t;

// The inputs of one invocation, in argument order. Stream positions of files
// read with '+' continue across the specs of one irtool_inputs_t.
typedef struct irtool_inputs_s {
  irt_allocator_t allocator;
  // The function's cconv argument fragment ("rri"): 'i', 'I', 'f', 'F' are
  // primitives; anything else, and arguments past its end, are refs.
  irt_string_view_t signature;
  irtool_input_t* items;
  size_t count;
  size_t capacity;
  irtool_file_position_t* files;
} irtool_inputs_t;

void irtool_inputs_initialize(irt_string_view_t signature,
                              irt_allocator_t allocator,
                              irtool_inputs_t* out_inputs);
void irtool_inputs_deinitialize(irtool_inputs_t* inputs);

// Parses one --input spec and appends the argument(s) it names: one, or any
// number for "*file.npy". Paths are relative to the working directory.
// On failure nothing is appended.
irt_status_t irtool_inputs_parse(irtool_inputs_t* inputs,
                                 irt_string_view_t spec) IRT_MUST_USE;

// Writes |tensor| for an --output file spec: "@path" creates or truncates,
// "+path" appends; a path ending in ".npy" gets a .npy array, any other the
// raw bytes. INVALID_ARGUMENT for other specs ("" and "-" are the caller's).
irt_status_t irtool_output_write(irt_string_view_t spec,
                                 const irtool_tensor_t* tensor) IRT_MUST_USE;

#endif  // IRTOOL_FUNCTION_IO_H
