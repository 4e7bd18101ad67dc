// Version of the ireed project and of the formats it speaks.
#ifndef IRT_BASE_VERSION_H
#define IRT_BASE_VERSION_H

// The project version, from meson.build.
const char* irt_version_string(void);

// Bytecode modules this runtime accepts: exactly major 17, minor <= 0.
#define IRT_VM_BYTECODE_VERSION_MAJOR 17
#define IRT_VM_BYTECODE_VERSION_MINOR 0
// The version the `hal` native module reports (IREE v3.11.0).
#define IRT_HAL_MODULE_VERSION 6

#endif  // IRT_BASE_VERSION_H
