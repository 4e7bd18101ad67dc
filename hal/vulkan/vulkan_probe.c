#include <stdio.h>
#include <vulkan/vulkan.h>

#include "hal/device_probe.h"
#include "hal/vulkan/vulkan_instance.h"

static void irhal_vulkan_report_none(irhal_probe_fn_t callback,
                                     void* user_data, const char* why) {
  irhal_device_info_t info = {.driver = "vulkan"};
  snprintf(info.uri, sizeof(info.uri), "vulkan");
  snprintf(info.detail, sizeof(info.detail), "%s", why);
  callback(user_data, false, &info);
}

void irhal_vulkan_probe(irhal_probe_fn_t callback, void* user_data) {
  VkInstance instance = VK_NULL_HANDLE;
  VkResult result = irhal_vulkan_instance(&instance);
  if (result != VK_SUCCESS) {
    char why[64];
    snprintf(why, sizeof(why), "no Vulkan instance (VkResult %d)", (int)result);
    irhal_vulkan_report_none(callback, user_data, why);
    return;
  }
  VkPhysicalDevice devices[16];
  uint32_t count = 16;
  result = vkEnumeratePhysicalDevices(instance, &count, devices);
  if ((result != VK_SUCCESS && result != VK_INCOMPLETE) || count == 0) {
    irhal_vulkan_report_none(callback, user_data, "no Vulkan physical devices");
  }
  for (uint32_t i = 0; i < count && (result == VK_SUCCESS || result == VK_INCOMPLETE); ++i) {
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(devices[i], &props);
    irhal_device_info_t info = {.driver = "vulkan"};
    snprintf(info.uri, sizeof(info.uri), "vulkan://%u", i);
    snprintf(info.name, sizeof(info.name), "%s", props.deviceName);
    snprintf(info.detail, sizeof(info.detail), "Vulkan %u.%u.%u",
             VK_API_VERSION_MAJOR(props.apiVersion),
             VK_API_VERSION_MINOR(props.apiVersion),
             VK_API_VERSION_PATCH(props.apiVersion));
    callback(user_data, true, &info);
  }
}
