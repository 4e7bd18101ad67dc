// The process's Vulkan instance (API 1.2), shared by the probe and every
// Vulkan device. It lives until exit: the device list does not change, and
// keeping the ICD loaded keeps allocations a driver holds until exit
// attributable to it (sanitizer builds suppress them by library name).
#ifndef IRHAL_VULKAN_VULKAN_INSTANCE_H
#define IRHAL_VULKAN_VULKAN_INSTANCE_H

#include <vulkan/vulkan.h>

// The instance, created on first use; the VkResult of its creation.
VkResult irhal_vulkan_instance(VkInstance* out_instance);

#endif  // IRHAL_VULKAN_VULKAN_INSTANCE_H
