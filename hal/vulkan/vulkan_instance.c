#include "hal/vulkan/vulkan_instance.h"

#include <pthread.h>

static struct {
  pthread_once_t once;
  VkResult result;
  VkInstance instance;
} irhal_vulkan_instance_state = {.once = PTHREAD_ONCE_INIT};

static void irhal_vulkan_instance_create(void) {
  VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = "ireed",
      .apiVersion = VK_API_VERSION_1_2,
  };
  VkInstanceCreateInfo create_info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
  };
  irhal_vulkan_instance_state.result = vkCreateInstance(
      &create_info, NULL, &irhal_vulkan_instance_state.instance);
}

VkResult irhal_vulkan_instance(VkInstance* out_instance) {
  pthread_once(&irhal_vulkan_instance_state.once, irhal_vulkan_instance_create);
  *out_instance = irhal_vulkan_instance_state.instance;
  return irhal_vulkan_instance_state.result;
}
