#include "runtime/vm/list.h"

#include <string.h>

#include "runtime/base/math.h"

typedef enum irvm_list_storage_e {
  IRVM_LIST_STORAGE_VALUE,    // packed raw values of element_type.value_type
  IRVM_LIST_STORAGE_REF,      // irvm_ref_t of element_type.ref_type (or null)
  IRVM_LIST_STORAGE_VARIANT,  // irvm_variant_t
} irvm_list_storage_t;

struct irvm_list_s {
  irvm_ref_object_t header;
  irt_allocator_t allocator;
  irvm_list_element_type_t element_type;
  irvm_list_storage_t storage;
  size_t element_size;
  uint32_t size;
  uint32_t capacity;
  // All-zero bytes are a valid element of every kind: 0, null, empty.
  uint8_t* data;
};

// Smallest capacity allocated, so that growing one element at a time starts
// with a few doublings less.
#define IRVM_LIST_MIN_CAPACITY 8

static void irvm_list_destroy(void* object);

const irvm_ref_type_t irvm_list_type_descriptor = {
    .name = "vm.list",
    .destroy = irvm_list_destroy,
};

// "i32", "hal.buffer", "variant": the element type for messages.
static const char* irvm_list_element_name(const irvm_list_t* list) {
  switch (list->storage) {
    case IRVM_LIST_STORAGE_VALUE:
      return irvm_value_type_name(list->element_type.value_type);
    case IRVM_LIST_STORAGE_REF:
      return list->element_type.ref_type->name;
    default:
      return "variant";
  }
}

static inline uint8_t* irvm_list_element(const irvm_list_t* list,
                                         uint32_t index) {
  return list->data + (size_t)index * list->element_size;
}

// Releases the refs of elements [begin, end) and zeroes them (empty).
static void irvm_list_clear_range(irvm_list_t* list, uint32_t begin,
                                  uint32_t end) {
  if (list->storage == IRVM_LIST_STORAGE_VALUE) return;
  for (uint32_t i = begin; i < end; ++i) {
    uint8_t* element = irvm_list_element(list, i);
    if (list->storage == IRVM_LIST_STORAGE_REF) {
      irvm_ref_release((irvm_ref_t*)element);
    } else {
      irvm_variant_release((irvm_variant_t*)element);
    }
  }
}

static void irvm_list_destroy(void* object) {
  irvm_list_t* list = object;
  irvm_list_clear_range(list, 0, list->size);
  irt_allocator_free(list->allocator, list->data);
  irt_allocator_free(list->allocator, list);
}

// Grows the capacity to at least |min_capacity|, and at least doubles it so
// that growing one element at a time stays amortized O(1).
static irt_status_t irvm_list_grow(irvm_list_t* list, uint32_t min_capacity) {
  if (min_capacity <= list->capacity) return IRT_OK;
  uint64_t capacity = (uint64_t)list->capacity * 2;
  if (capacity < min_capacity) capacity = min_capacity;
  if (capacity < IRVM_LIST_MIN_CAPACITY) capacity = IRVM_LIST_MIN_CAPACITY;
  if (capacity > UINT32_MAX) capacity = UINT32_MAX;
  size_t bytes = 0;
  if (!irt_mul_size((size_t)capacity, list->element_size, &bytes)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "list of %u %s elements does not fit in memory",
                           min_capacity, irvm_list_element_name(list));
  }
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_realloc(list->allocator, bytes, (void**)&list->data),
      "growing a list of %s to %u elements", irvm_list_element_name(list),
      (uint32_t)capacity);
  list->capacity = (uint32_t)capacity;
  return IRT_OK;
}

irt_status_t irvm_list_create(irvm_list_element_type_t element_type,
                              uint32_t initial_capacity,
                              irt_allocator_t allocator,
                              irvm_list_t** out_list) {
  *out_list = NULL;
  irvm_list_storage_t storage = IRVM_LIST_STORAGE_VARIANT;
  size_t element_size = sizeof(irvm_variant_t);
  if (element_type.value_type != IRVM_VALUE_TYPE_NONE) {
    if (!irvm_value_type_is_valid(element_type.value_type) ||
        element_type.ref_type) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "list element type is invalid (value type %d%s)",
                             (int)element_type.value_type,
                             element_type.ref_type ? " and a ref type" : "");
    }
    storage = IRVM_LIST_STORAGE_VALUE;
    element_size = irvm_value_type_size(element_type.value_type);
  } else if (element_type.ref_type) {
    storage = IRVM_LIST_STORAGE_REF;
    element_size = sizeof(irvm_ref_t);
  }
  irvm_list_t* list = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*list), (void**)&list));
  irt_ref_count_init(&list->header.count);
  list->allocator = allocator;
  list->element_type = element_type;
  list->storage = storage;
  list->element_size = element_size;
  irt_status_t status = irvm_list_grow(list, initial_capacity);
  if (status != IRT_OK) {
    irt_allocator_free(allocator, list);
    return status;
  }
  *out_list = list;
  return IRT_OK;
}

irvm_list_element_type_t irvm_list_element_type(const irvm_list_t* list) {
  return list->element_type;
}

uint32_t irvm_list_capacity(const irvm_list_t* list) { return list->capacity; }

static irt_status_t irvm_list_check_null(const irvm_list_t* list) {
  if (!list) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "list is null");
  }
  return IRT_OK;
}

static irt_status_t irvm_list_check_index(const irvm_list_t* list,
                                          uint32_t index) {
  IRT_RETURN_IF_ERROR(irvm_list_check_null(list));
  if (index >= list->size) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "list index %u out of range (size %u)", index,
                           list->size);
  }
  return IRT_OK;
}

irt_status_t irvm_list_reserve(irvm_list_t* list, uint32_t capacity) {
  IRT_RETURN_IF_ERROR(irvm_list_check_null(list));
  return irvm_list_grow(list, capacity);
}

irt_status_t irvm_list_size(const irvm_list_t* list, uint32_t* out_size) {
  IRT_RETURN_IF_ERROR(irvm_list_check_null(list));
  *out_size = list->size;
  return IRT_OK;
}

irt_status_t irvm_list_resize(irvm_list_t* list, uint32_t size) {
  IRT_RETURN_IF_ERROR(irvm_list_check_null(list));
  uint32_t old_size = list->size;
  if (size > old_size) {
    IRT_RETURN_IF_ERROR(irvm_list_grow(list, size));
    memset(irvm_list_element(list, old_size), 0,
           (size_t)(size - old_size) * list->element_size);
    list->size = size;
  } else {
    // Shrink first: a destroy callback run by a release must not see the
    // elements being removed.
    list->size = size;
    irvm_list_clear_range(list, size, old_size);
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

static irt_status_t irvm_list_values_unsupported(const irvm_list_t* list) {
  return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                         "list of %s refs does not hold values",
                         irvm_list_element_name(list));
}

irt_status_t irvm_list_get_value(const irvm_list_t* list, uint32_t index,
                                 irvm_value_type_t type,
                                 irvm_value_t* out_value) {
  IRT_RETURN_IF_ERROR(irvm_list_check_index(list, index));
  if (!irvm_value_type_is_valid(type)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "list get: requested value type %d is invalid",
                           (int)type);
  }
  const uint8_t* element = irvm_list_element(list, index);
  irvm_value_t stored;
  switch (list->storage) {
    case IRVM_LIST_STORAGE_VALUE:
      stored.type = list->element_type.value_type;
      stored.i64 = 0;
      // Every union member starts at its first byte.
      memcpy(&stored.i8, element, list->element_size);
      break;
    case IRVM_LIST_STORAGE_REF:
      return irvm_list_values_unsupported(list);
    default:
      stored = ((const irvm_variant_t*)element)->value;
      if (stored.type == IRVM_VALUE_TYPE_NONE) {
        return irt_make_status(
            IRT_STATUS_FAILED_PRECONDITION,
            "list element %u holds %s, not a value", index,
            irvm_variant_is_ref((const irvm_variant_t*)element) ? "a ref"
                                                                : "nothing");
      }
      break;
  }
  *out_value = irvm_value_convert(stored, type);
  return IRT_OK;
}

irt_status_t irvm_list_set_value(irvm_list_t* list, uint32_t index,
                                 irvm_value_t value) {
  IRT_RETURN_IF_ERROR(irvm_list_check_index(list, index));
  if (!irvm_value_type_is_valid(value.type)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "list set: value type %d is invalid",
                           (int)value.type);
  }
  uint8_t* element = irvm_list_element(list, index);
  switch (list->storage) {
    case IRVM_LIST_STORAGE_VALUE: {
      irvm_value_t converted =
          irvm_value_convert(value, list->element_type.value_type);
      memcpy(element, &converted.i8, list->element_size);
      return IRT_OK;
    }
    case IRVM_LIST_STORAGE_REF:
      return irvm_list_values_unsupported(list);
    default: {
      irvm_variant_t* variant = (irvm_variant_t*)element;
      irvm_variant_release(variant);
      variant->value = value;
      return IRT_OK;
    }
  }
}

//===----------------------------------------------------------------------===//
// Refs
//===----------------------------------------------------------------------===//

static irt_status_t irvm_list_refs_unsupported(const irvm_list_t* list) {
  return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                         "list of %s values does not hold refs or empty "
                         "elements",
                         irvm_list_element_name(list));
}

irt_status_t irvm_list_get_ref(const irvm_list_t* list, uint32_t index,
                               const irvm_ref_type_t* type,
                               irvm_ref_t* out_ref) {
  IRT_RETURN_IF_ERROR(irvm_list_check_index(list, index));
  const uint8_t* element = irvm_list_element(list, index);
  const irvm_ref_t* stored = NULL;
  switch (list->storage) {
    case IRVM_LIST_STORAGE_VALUE:
      return irvm_list_refs_unsupported(list);
    case IRVM_LIST_STORAGE_REF:
      stored = (const irvm_ref_t*)element;
      break;
    default: {
      const irvm_variant_t* variant = (const irvm_variant_t*)element;
      if (irvm_variant_is_value(variant)) {
        return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                               "list element %u holds an %s value, not a ref",
                               index,
                               irvm_value_type_name(variant->value.type));
      }
      stored = &variant->ref;
      break;
    }
  }
  // A mismatched type yields null, not an error (spec 7.4, list.get.ref).
  if (type && irvm_ref_is_type(stored, type)) {
    irvm_ref_retain_to(stored, out_ref);
  } else {
    irvm_ref_release(out_ref);
  }
  return IRT_OK;
}

// The slot that list.set.ref with |ref| writes: checks the index, the
// storage kind and, for ref lists, the type of |ref|.
static irt_status_t irvm_list_ref_slot(irvm_list_t* list, uint32_t index,
                                       const irvm_ref_t* ref,
                                       irvm_ref_t** out_slot) {
  IRT_RETURN_IF_ERROR(irvm_list_check_index(list, index));
  uint8_t* element = irvm_list_element(list, index);
  switch (list->storage) {
    case IRVM_LIST_STORAGE_VALUE:
      return irvm_list_refs_unsupported(list);
    case IRVM_LIST_STORAGE_REF:
      if (ref->ptr && ref->type != list->element_type.ref_type) {
        return irt_make_status(
            IRT_STATUS_INVALID_ARGUMENT,
            "source ref type mismatch: list of %s cannot hold a %s",
            list->element_type.ref_type->name,
            ref->type ? ref->type->name : "untyped ref");
      }
      *out_slot = (irvm_ref_t*)element;
      return IRT_OK;
    default: {
      irvm_variant_t* variant = (irvm_variant_t*)element;
      variant->value = irvm_value_none();
      *out_slot = &variant->ref;
      return IRT_OK;
    }
  }
}

irt_status_t irvm_list_set_ref_retain(irvm_list_t* list, uint32_t index,
                                      const irvm_ref_t* ref) {
  irvm_ref_t* slot = NULL;
  IRT_RETURN_IF_ERROR(irvm_list_ref_slot(list, index, ref, &slot));
  irvm_ref_retain_to(ref, slot);
  return IRT_OK;
}

irt_status_t irvm_list_set_ref_move(irvm_list_t* list, uint32_t index,
                                    irvm_ref_t* ref) {
  irvm_ref_t* slot = NULL;
  IRT_RETURN_IF_ERROR(irvm_list_ref_slot(list, index, ref, &slot));
  irvm_ref_move_to(ref, slot);
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Variants
//===----------------------------------------------------------------------===//

irt_status_t irvm_list_get_variant(const irvm_list_t* list, uint32_t index,
                                   irvm_variant_t* out_variant) {
  IRT_RETURN_IF_ERROR(irvm_list_check_index(list, index));
  const uint8_t* element = irvm_list_element(list, index);
  irvm_variant_t result = irvm_variant_empty();
  switch (list->storage) {
    case IRVM_LIST_STORAGE_VALUE:
      result.value.type = list->element_type.value_type;
      memcpy(&result.value.i8, element, list->element_size);
      break;
    case IRVM_LIST_STORAGE_REF:
      result.ref = *(const irvm_ref_t*)element;
      break;
    default:
      result = *(const irvm_variant_t*)element;
      break;
  }
  irvm_object_retain(result.ref.ptr);
  irvm_variant_release(out_variant);
  *out_variant = result;
  return IRT_OK;
}

irt_status_t irvm_list_set_variant(irvm_list_t* list, uint32_t index,
                                   const irvm_variant_t* variant) {
  if (irvm_variant_is_value(variant)) {
    if (irvm_variant_is_ref(variant)) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "variant holds both a value and a ref");
    }
    return irvm_list_set_value(list, index, variant->value);
  }
  return irvm_list_set_ref_retain(list, index, &variant->ref);
}
