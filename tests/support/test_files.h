// Test helpers for reading the shared conformance corpus and other files.
#ifndef IREED_TESTS_SUPPORT_TEST_FILES_H
#define IREED_TESTS_SUPPORT_TEST_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Writes "$IREED_SHARED_DIR/<relative>" into |buffer|; returns false (after
// printing why) when the shared corpus is not available, so the caller can
// skip the test.
bool ireed_test_shared_path(const char* relative, char* buffer,
                            size_t capacity);

// Reads a whole file into a 64-byte aligned heap block (free with free()).
// Returns false if it cannot be read.
bool ireed_test_read_file(const char* path, uint8_t** out_data,
                          size_t* out_size);

// Runs |command| with the shell, its stdout and stderr (2>&1 in |command|)
// read into |output| (NUL-terminated, cut at |capacity|). Returns its exit
// status, or -1 when it did not exit normally.
int ireed_test_run_command(const char* command, char* output,
                           size_t capacity);

#endif  // IREED_TESTS_SUPPORT_TEST_FILES_H
