// File: cli/peak_memory.h
//
// Test-only: the process's peak resident memory, for tests that hold a reader
// of unbounded input to a memory bound (Linux's /proc). Header only.
//
// Usage:
//   ResetPeakResident();
//   const int64_t before = PeakResidentKib();
//   ReadAll(huge_input);
//   EXPECT_LT(PeakResidentKib() - before, 16 * 1024);

#ifndef KITCHEN_CLI_PEAK_MEMORY_H_
#define KITCHEN_CLI_PEAK_MEMORY_H_

#include <cstdint>
#include <cstdio>

namespace kitchen::cli {

// Starts measuring the peak afresh: VmHWM becomes what is resident now
// (clear_refs "5"). False if the kernel would not.
inline bool ResetPeakResident() {
  FILE* clear = std::fopen("/proc/self/clear_refs", "w");
  if (clear == nullptr) return false;
  const bool written = std::fputs("5", clear) >= 0;
  return std::fclose(clear) == 0 && written;
}

// The process's peak resident memory so far (VmHWM), in KiB; -1 if unknown.
inline int64_t PeakResidentKib() {
  FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return -1;
  char line[256];
  int64_t kib = -1;
  while (std::fgets(line, sizeof(line), status) != nullptr) {
    if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
  }
  std::fclose(status);
  return kib;
}

}  // namespace kitchen::cli

#endif  // KITCHEN_CLI_PEAK_MEMORY_H_
