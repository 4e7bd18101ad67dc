#include "runtime/base/version.h"

const char* irt_version_string(void) { return IREED_VERSION; }
