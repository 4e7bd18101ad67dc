#include "runtime/vm/context.h"

#include "runtime/vm/buffer.h"
#include "runtime/vm/list.h"
#include "runtime/vm/stack.h"

#define IRVM_MAX_TYPES 64

struct irvm_instance_s {
  irt_allocator_t allocator;
  size_t type_count;
  const irvm_ref_type_t* types[IRVM_MAX_TYPES];
};

typedef struct irvm_context_entry_s {
  irvm_module_t* module;
  void* state;
} irvm_context_entry_t;

struct irvm_context_s {
  irvm_instance_t* instance;
  irt_allocator_t allocator;
  size_t module_count;
  size_t module_capacity;
  irvm_context_entry_t* modules;
};

irt_status_t irvm_instance_create(irt_allocator_t allocator,
                                  irvm_instance_t** out_instance) {
  irvm_instance_t* instance = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*instance), (void**)&instance));
  instance->allocator = allocator;
  irt_status_t status = irvm_instance_register_type(instance, irvm_buffer_type());
  if (irt_status_is_ok(status)) {
    status = irvm_instance_register_type(instance, irvm_list_type());
  }
  if (!irt_status_is_ok(status)) {
    irvm_instance_destroy(instance);
    return status;
  }
  *out_instance = instance;
  return IRT_OK;
}

void irvm_instance_destroy(irvm_instance_t* instance) {
  if (!instance) return;
  irt_allocator_free(instance->allocator, instance);
}

irt_allocator_t irvm_instance_allocator(const irvm_instance_t* instance) {
  return instance->allocator;
}

irt_status_t irvm_instance_register_type(irvm_instance_t* instance,
                                         const irvm_ref_type_t* type) {
  irt_string_view_t name = irt_make_cstring_view(type->name);
  const irvm_ref_type_t* existing = irvm_instance_lookup_type(instance, name);
  if (existing == type) return IRT_OK;
  if (existing) {
    return irt_make_status(IRT_STATUS_ALREADY_EXISTS,
                           "a different type named '%s' is already registered",
                           type->name);
  }
  if (instance->type_count == IRVM_MAX_TYPES) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "too many ref types (limit %d)", IRVM_MAX_TYPES);
  }
  instance->types[instance->type_count++] = type;
  return IRT_OK;
}

const irvm_ref_type_t* irvm_instance_lookup_type(
    const irvm_instance_t* instance, irt_string_view_t name) {
  for (size_t i = 0; i < instance->type_count; ++i) {
    if (irt_string_view_equal_cstring(name, instance->types[i]->name)) {
      return instance->types[i];
    }
  }
  return NULL;
}

irt_status_t irvm_context_create(irvm_instance_t* instance,
                                 irt_allocator_t allocator,
                                 irvm_context_t** out_context) {
  irvm_context_t* context = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*context), (void**)&context));
  context->instance = instance;
  context->allocator = allocator;
  *out_context = context;
  return IRT_OK;
}

irvm_instance_t* irvm_context_instance(const irvm_context_t* context) {
  return context->instance;
}

// Calls the optional `0v_v` lifecycle export |name| of |entry|.
static irt_status_t irvm_context_call_lifecycle(irvm_context_t* context,
                                                irvm_context_entry_t* entry,
                                                const char* name) {
  uint32_t ordinal = 0;
  irt_status_t status = irvm_module_lookup_export(
      entry->module, irt_make_cstring_view(name), &ordinal);
  if (irt_status_code(status) == IRT_STATUS_NOT_FOUND) {
    irt_status_free(status);
    return IRT_OK;
  }
  IRT_RETURN_IF_ERROR(status);
  irvm_function_t function = {entry->module, entry->state, ordinal};
  irvm_stack_t stack;
  irvm_stack_initialize(&stack, context->allocator, 0);
  status = irvm_function_call(&function, &stack, NULL, NULL);
  irvm_stack_deinitialize(&stack);
  return irt_status_annotate(status, "in %.*s.%s", IRT_SV_ARG(entry->module->name),
                             name);
}

// Pops the last module: `__deinit` (errors ignored), state, reference.
static void irvm_context_pop_module(irvm_context_t* context, bool deinit) {
  irvm_context_entry_t* entry = &context->modules[--context->module_count];
  if (deinit) {
    irt_status_ignore(irvm_context_call_lifecycle(context, entry, "__deinit"));
  }
  if (entry->module->vtable->destroy_state) {
    entry->module->vtable->destroy_state(entry->module, entry->state);
  }
  irvm_module_release(entry->module);
}

void irvm_context_destroy(irvm_context_t* context) {
  if (!context) return;
  while (context->module_count > 0) irvm_context_pop_module(context, true);
  irt_allocator_free(context->allocator, context->modules);
  irt_allocator_free(context->allocator, context);
}

static const irvm_context_entry_t* irvm_context_find_module(
    const irvm_context_t* context, irt_string_view_t name) {
  for (size_t i = context->module_count; i > 0; --i) {
    if (irt_string_view_equal(context->modules[i - 1].module->name, name)) {
      return &context->modules[i - 1];
    }
  }
  return NULL;
}

// Spec 4.4 step 2.
static irt_status_t irvm_context_check_dependencies(
    const irvm_context_t* context, const irvm_module_t* module) {
  for (uint32_t i = 0; i < module->dependency_count; ++i) {
    const irvm_dependency_def_t* dependency = &module->dependencies[i];
    const irvm_context_entry_t* found =
        irvm_context_find_module(context, dependency->name);
    bool required = (dependency->flags & IRVM_FLAG_REQUIRED) != 0;
    if (!found) {
      if (!required) continue;
      return irt_make_status(
          IRT_STATUS_NOT_FOUND,
          "module '%.*s' requires module '%.*s' (version >= %u), which is not "
          "registered",
          IRT_SV_ARG(module->name), IRT_SV_ARG(dependency->name),
          dependency->minimum_version);
    }
    if (required && found->module->version < dependency->minimum_version) {
      return irt_make_status(
          IRT_STATUS_NOT_FOUND,
          "module '%.*s' requires module '%.*s' version >= %u, but version %u "
          "is registered",
          IRT_SV_ARG(module->name), IRT_SV_ARG(dependency->name),
          dependency->minimum_version, found->module->version);
    }
  }
  return IRT_OK;
}

static irt_status_t irvm_context_reserve(irvm_context_t* context,
                                         size_t count) {
  if (count <= context->module_capacity) return IRT_OK;
  size_t capacity = context->module_capacity ? context->module_capacity * 2 : 4;
  while (capacity < count) capacity *= 2;
  IRT_RETURN_IF_ERROR(irt_allocator_realloc(
      context->allocator, capacity * sizeof(irvm_context_entry_t),
      (void**)&context->modules));
  context->module_capacity = capacity;
  return IRT_OK;
}

static irt_status_t irvm_context_add_module(irvm_context_t* context,
                                            irvm_module_t* module) {
  IRT_RETURN_IF_ERROR(irvm_context_check_dependencies(context, module));
  irvm_context_entry_t entry = {module, NULL};
  if (module->vtable->create_state) {
    IRT_RETURN_IF_ERROR(module->vtable->create_state(
        module, context, context->allocator, &entry.state));
  }
  irvm_module_retain(module);
  context->modules[context->module_count++] = entry;
  if (module->vtable->resolve_imports) {
    IRT_RETURN_IF_ERROR(
        module->vtable->resolve_imports(module, entry.state, context));
  }
  return irvm_context_call_lifecycle(
      context, &context->modules[context->module_count - 1], "__init");
}

irt_status_t irvm_context_register_modules(irvm_context_t* context,
                                           irvm_module_t* const* modules,
                                           size_t module_count) {
  IRT_RETURN_IF_ERROR(
      irvm_context_reserve(context, context->module_count + module_count));
  size_t initial_count = context->module_count;
  for (size_t i = 0; i < module_count; ++i) {
    size_t before = context->module_count;
    irt_status_t status = irvm_context_add_module(context, modules[i]);
    if (!irt_status_is_ok(status)) {
      // The failing module never finished __init: pop it without __deinit,
      // then unwind the earlier ones of this call completely.
      if (context->module_count > before) irvm_context_pop_module(context, false);
      while (context->module_count > initial_count) {
        irvm_context_pop_module(context, true);
      }
      return irt_status_annotate(status, "while registering module '%.*s'",
                                 IRT_SV_ARG(modules[i]->name));
    }
  }
  return IRT_OK;
}

bool irvm_context_find_export(const irvm_context_t* context,
                              irt_string_view_t module_name,
                              irt_string_view_t function_name,
                              irvm_function_t* out_function) {
  const irvm_context_entry_t* entry =
      irvm_context_find_module(context, module_name);
  if (!entry) return false;
  uint32_t ordinal = 0;
  irt_status_t status =
      irvm_module_lookup_export(entry->module, function_name, &ordinal);
  if (!irt_status_is_ok(status)) {
    irt_status_free(status);
    return false;
  }
  out_function->module = entry->module;
  out_function->module_state = entry->state;
  out_function->export_ordinal = ordinal;
  return true;
}

irt_status_t irvm_context_resolve_function(const irvm_context_t* context,
                                           irt_string_view_t name,
                                           irvm_function_t* out_function) {
  const char* dot = memchr(name.data, '.', name.size);
  irt_string_view_t module_name, function_name;
  if (dot) {
    module_name = irt_make_string_view(name.data, (size_t)(dot - name.data));
    function_name = irt_make_string_view(dot + 1, name.size - module_name.size - 1);
  } else {
    if (context->module_count == 0) {
      return irt_make_status(IRT_STATUS_NOT_FOUND,
                             "no function '%.*s': the context has no modules",
                             IRT_SV_ARG(name));
    }
    module_name = context->modules[context->module_count - 1].module->name;
    function_name = name;
  }
  if (!irvm_context_find_export(context, module_name, function_name,
                                out_function)) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "no function '%.*s' in module '%.*s'",
                           IRT_SV_ARG(function_name), IRT_SV_ARG(module_name));
  }
  return IRT_OK;
}
