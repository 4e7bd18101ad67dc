#include "tests/support/test_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

bool ireed_test_shared_path(const char* relative, char* buffer,
                            size_t capacity) {
  const char* shared = getenv("IREED_SHARED_DIR");
  struct stat st;
  if (!shared || stat(shared, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr,
            "skipping: the shared conformance corpus is not available "
            "(IREED_SHARED_DIR=%s)\n",
            shared ? shared : "(unset)");
    return false;
  }
  int n = snprintf(buffer, capacity, "%s/%s", shared, relative);
  return n > 0 && (size_t)n < capacity;
}

bool ireed_test_read_file(const char* path, uint8_t** out_data,
                          size_t* out_size) {
  FILE* file = fopen(path, "rb");
  if (!file) return false;
  struct stat st;
  if (fstat(fileno(file), &st) != 0) {
    fclose(file);
    return false;
  }
  size_t size = (size_t)st.st_size;
  uint8_t* data = aligned_alloc(64, (size + 63) & ~(size_t)63);
  if (!data && size) {
    fclose(file);
    return false;
  }
  bool ok = fread(data, 1, size, file) == size;
  fclose(file);
  if (!ok) {
    free(data);
    return false;
  }
  *out_data = data;
  *out_size = size;
  return true;
}

int ireed_test_run_command(const char* command, char* output,
                           size_t capacity) {
  output[0] = '\0';
  FILE* pipe = popen(command, "r");
  if (!pipe) return -1;
  size_t size = fread(output, 1, capacity - 1, pipe);
  output[size] = '\0';
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
