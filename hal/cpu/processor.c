#include "hal/cpu/processor.h"

#include <string.h>

#if defined(__x86_64__)
#include <asm/prctl.h>
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

typedef struct feature_name_s {
  const char* name;
  int bit;
} feature_name_t;

#if defined(__x86_64__)

static const feature_name_t kFeatures[] = {
    {"sse3", IRHAL_CPU_FEATURE_X86_64_SSE3},
    {"ssse3", IRHAL_CPU_FEATURE_X86_64_SSSE3},
    {"sse4.1", IRHAL_CPU_FEATURE_X86_64_SSE41},
    {"sse4.2", IRHAL_CPU_FEATURE_X86_64_SSE42},
    {"sse4a", IRHAL_CPU_FEATURE_X86_64_SSE4A},
    {"avx", IRHAL_CPU_FEATURE_X86_64_AVX},
    {"fma", IRHAL_CPU_FEATURE_X86_64_FMA},
    {"fma4", IRHAL_CPU_FEATURE_X86_64_FMA4},
    {"xop", IRHAL_CPU_FEATURE_X86_64_XOP},
    {"f16c", IRHAL_CPU_FEATURE_X86_64_F16C},
    {"avx2", IRHAL_CPU_FEATURE_X86_64_AVX2},
    {"avx512f", IRHAL_CPU_FEATURE_X86_64_AVX512F},
    {"avx512cd", IRHAL_CPU_FEATURE_X86_64_AVX512CD},
    {"avx512vl", IRHAL_CPU_FEATURE_X86_64_AVX512VL},
    {"avx512dq", IRHAL_CPU_FEATURE_X86_64_AVX512DQ},
    {"avx512bw", IRHAL_CPU_FEATURE_X86_64_AVX512BW},
    {"avx512ifma", IRHAL_CPU_FEATURE_X86_64_AVX512IFMA},
    {"avx512vbmi", IRHAL_CPU_FEATURE_X86_64_AVX512VBMI},
    {"avx512vpopcntdq", IRHAL_CPU_FEATURE_X86_64_AVX512VPOPCNTDQ},
    {"avx512vnni", IRHAL_CPU_FEATURE_X86_64_AVX512VNNI},
    {"avx512vbmi2", IRHAL_CPU_FEATURE_X86_64_AVX512VBMI2},
    {"avx512bitalg", IRHAL_CPU_FEATURE_X86_64_AVX512BITALG},
    {"avx512bf16", IRHAL_CPU_FEATURE_X86_64_AVX512BF16},
    {"avx512fp16", IRHAL_CPU_FEATURE_X86_64_AVX512FP16},
    {"amx-tile", IRHAL_CPU_FEATURE_X86_64_AMX_TILE},
    {"amx-int8", IRHAL_CPU_FEATURE_X86_64_AMX_INT8},
    {"amx-bf16", IRHAL_CPU_FEATURE_X86_64_AMX_BF16},
};

// Where each feature lives in CPUID and which register state the OS must
// enable for it (hardware support alone is not enough to use it).
enum {
  REG_1_ECX,  // leaf 1
  REG_7_EBX,  // leaf 7 subleaf 0
  REG_7_ECX,
  REG_7_EDX,
  REG_7_1_EAX,  // leaf 7 subleaf 1
  REG_EXT_ECX,  // leaf 0x80000001
  REG_COUNT,
};
enum { OS_NONE, OS_AVX, OS_AVX512, OS_AMX };

static const struct {
  uint8_t feature;
  uint8_t reg;
  uint8_t reg_bit;
  uint8_t os;
} kCpuidBits[] = {
    {IRHAL_CPU_FEATURE_X86_64_SSE3, REG_1_ECX, 0, OS_NONE},
    {IRHAL_CPU_FEATURE_X86_64_SSSE3, REG_1_ECX, 9, OS_NONE},
    {IRHAL_CPU_FEATURE_X86_64_SSE41, REG_1_ECX, 19, OS_NONE},
    {IRHAL_CPU_FEATURE_X86_64_SSE42, REG_1_ECX, 20, OS_NONE},
    {IRHAL_CPU_FEATURE_X86_64_SSE4A, REG_EXT_ECX, 6, OS_NONE},
    {IRHAL_CPU_FEATURE_X86_64_AVX, REG_1_ECX, 28, OS_AVX},
    {IRHAL_CPU_FEATURE_X86_64_FMA, REG_1_ECX, 12, OS_AVX},
    {IRHAL_CPU_FEATURE_X86_64_FMA4, REG_EXT_ECX, 16, OS_AVX},
    {IRHAL_CPU_FEATURE_X86_64_XOP, REG_EXT_ECX, 11, OS_AVX},
    {IRHAL_CPU_FEATURE_X86_64_F16C, REG_1_ECX, 29, OS_AVX},
    {IRHAL_CPU_FEATURE_X86_64_AVX2, REG_7_EBX, 5, OS_AVX},
    {IRHAL_CPU_FEATURE_X86_64_AVX512F, REG_7_EBX, 16, OS_AVX512},
    {IRHAL_CPU_FEATURE_X86_64_AVX512CD, REG_7_EBX, 28, OS_AVX512},
    {IRHAL_CPU_FEATURE_X86_64_AVX512VL, REG_7_EBX, 31, OS_AVX512},
    {IRHAL_CPU_FEATURE_X86_64_AVX512DQ, REG_7_EBX, 17, OS_AVX512},
    {IRHAL_CPU_FEATURE_X86_64_AVX512BW, REG_7_EBX, 30, OS_AVX512},
    {IRHAL_CPU_FEATURE_X86_64_AVX512IFMA, REG_7_EBX, 21, OS_AVX512},
    {IRHAL_CPU_FEATURE_X86_64_AVX512VBMI, REG_7_ECX, 1, OS_AVX512},
    {IRHAL_CPU_FEATURE_X86_64_AVX512VPOPCNTDQ, REG_7_ECX, 14, OS_AVX512},
    {IRHAL_CPU_FEATURE_X86_64_AVX512VNNI, REG_7_ECX, 11, OS_AVX512},
    {IRHAL_CPU_FEATURE_X86_64_AVX512VBMI2, REG_7_ECX, 6, OS_AVX512},
    {IRHAL_CPU_FEATURE_X86_64_AVX512BITALG, REG_7_ECX, 12, OS_AVX512},
    {IRHAL_CPU_FEATURE_X86_64_AVX512BF16, REG_7_1_EAX, 5, OS_AVX512},
    {IRHAL_CPU_FEATURE_X86_64_AVX512FP16, REG_7_EDX, 23, OS_AVX512},
    {IRHAL_CPU_FEATURE_X86_64_AMX_TILE, REG_7_EDX, 24, OS_AMX},
    {IRHAL_CPU_FEATURE_X86_64_AMX_INT8, REG_7_EDX, 25, OS_AMX},
    {IRHAL_CPU_FEATURE_X86_64_AMX_BF16, REG_7_EDX, 22, OS_AMX},
};

// XCR0 state components the OS must save for each register file.
#define XCR0_AVX ((1u << 1) | (1u << 2))
#define XCR0_AVX512 (XCR0_AVX | (1u << 5) | (1u << 6) | (1u << 7))
#define XCR0_AMX ((1u << 17) | (1u << 18))
#define XFEATURE_XTILEDATA_BIT 18
#define CPUID_1_ECX_OSXSAVE (1u << 27)

static uint64_t read_xcr0(void) {
  uint32_t low = 0, high = 0;
  __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
  return ((uint64_t)high << 32) | low;
}

// Linux hands AMX tile data only to processes that asked for it
// (arch_prctl ARCH_REQ_XCOMP_PERM); we report, never request, it.
static bool amx_permitted(void) {
  uint64_t permitted = 0;
  if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &permitted) != 0) {
    return false;
  }
  return (permitted >> XFEATURE_XTILEDATA_BIT) & 1;
}

static void read_cpuid(uint32_t regs[REG_COUNT]) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  // (clang's __get_cpuid_max returns int, gcc's unsigned.)
  unsigned max_leaf = (unsigned)__get_cpuid_max(0, NULL);
  if (max_leaf >= 1 && __get_cpuid_count(1, 0, &a, &b, &c, &d)) {
    regs[REG_1_ECX] = c;
  }
  if (max_leaf >= 7 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    regs[REG_7_EBX] = b;
    regs[REG_7_ECX] = c;
    regs[REG_7_EDX] = d;
    if (a >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d)) {
      regs[REG_7_1_EAX] = a;
    }
  }
  if ((unsigned)__get_cpuid_max(0x80000000u, NULL) >= 0x80000001u &&
      __get_cpuid_count(0x80000001u, 0, &a, &b, &c, &d)) {
    regs[REG_EXT_ECX] = c;
  }
}

static uint64_t query_features(void) {
  uint32_t regs[REG_COUNT] = {0};
  read_cpuid(regs);
  uint64_t xcr0 = (regs[REG_1_ECX] & CPUID_1_ECX_OSXSAVE) ? read_xcr0() : 0;
  bool os_enabled[] = {
      [OS_NONE] = true,
      [OS_AVX] = (xcr0 & XCR0_AVX) == XCR0_AVX,
      [OS_AVX512] = (xcr0 & XCR0_AVX512) == XCR0_AVX512,
      [OS_AMX] = (xcr0 & XCR0_AMX) == XCR0_AMX && amx_permitted(),
  };
  uint64_t word = 0;
  for (size_t i = 0; i < sizeof(kCpuidBits) / sizeof(kCpuidBits[0]); ++i) {
    if (os_enabled[kCpuidBits[i].os] &&
        ((regs[kCpuidBits[i].reg] >> kCpuidBits[i].reg_bit) & 1)) {
      word |= (uint64_t)1 << kCpuidBits[i].feature;
    }
  }
  return word;
}

const char* irhal_cpu_host_arch_name(void) { return "x86_64"; }

#elif defined(__aarch64__)

static const feature_name_t kFeatures[] = {
    {"fp-armv8", IRHAL_CPU_FEATURE_ARM_64_FP_ARMV8},
    {"lse", IRHAL_CPU_FEATURE_ARM_64_LSE},
    {"lse128", IRHAL_CPU_FEATURE_ARM_64_LSE128},
    {"fullfp16", IRHAL_CPU_FEATURE_ARM_64_FULLFP16},
    {"fp16fml", IRHAL_CPU_FEATURE_ARM_64_FP16FML},
    {"dotprod", IRHAL_CPU_FEATURE_ARM_64_DOTPROD},
    {"i8mm", IRHAL_CPU_FEATURE_ARM_64_I8MM},
    {"bf16", IRHAL_CPU_FEATURE_ARM_64_BF16},
    {"sve", IRHAL_CPU_FEATURE_ARM_64_SVE},
    {"sve2", IRHAL_CPU_FEATURE_ARM_64_SVE2},
    {"sve2p1", IRHAL_CPU_FEATURE_ARM_64_SVE2P1},
    {"sve2-bitperm", IRHAL_CPU_FEATURE_ARM_64_SVE2_BITPERM},
    {"f32mm", IRHAL_CPU_FEATURE_ARM_64_F32MM},
    {"f64mm", IRHAL_CPU_FEATURE_ARM_64_F64MM},
    {"sme", IRHAL_CPU_FEATURE_ARM_64_SME},
    {"sme2", IRHAL_CPU_FEATURE_ARM_64_SME2},
    {"sme2p1", IRHAL_CPU_FEATURE_ARM_64_SME2P1},
    {"sme-f16f16", IRHAL_CPU_FEATURE_ARM_64_SME_F16F16},
    {"sme-f64f64", IRHAL_CPU_FEATURE_ARM_64_SME_F64F64},
    {"sme-i16i64", IRHAL_CPU_FEATURE_ARM_64_SME_I16I64},
};

// The kernel reports usable features through the auxiliary vector; a bit the
// installed <asm/hwcap.h> does not know yet simply stays clear.
#define SET_IF_HWCAP(caps, name, bit)                  \
  do {                                                 \
    if ((caps) & (name)) word |= (uint64_t)1 << (bit); \
  } while (0)

static uint64_t query_features(void) {
  uint64_t word = 0;
  unsigned long hwcap = getauxval(AT_HWCAP);
  unsigned long hwcap2 = getauxval(AT_HWCAP2);
  (void)hwcap2;
  SET_IF_HWCAP(hwcap, HWCAP_FP, IRHAL_CPU_FEATURE_ARM_64_FP_ARMV8);
  SET_IF_HWCAP(hwcap, HWCAP_ATOMICS, IRHAL_CPU_FEATURE_ARM_64_LSE);
  SET_IF_HWCAP(hwcap, HWCAP_ASIMDHP, IRHAL_CPU_FEATURE_ARM_64_FULLFP16);
  SET_IF_HWCAP(hwcap, HWCAP_ASIMDFHM, IRHAL_CPU_FEATURE_ARM_64_FP16FML);
  SET_IF_HWCAP(hwcap, HWCAP_ASIMDDP, IRHAL_CPU_FEATURE_ARM_64_DOTPROD);
  SET_IF_HWCAP(hwcap, HWCAP_SVE, IRHAL_CPU_FEATURE_ARM_64_SVE);
#if defined(HWCAP2_LSE128)
  SET_IF_HWCAP(hwcap2, HWCAP2_LSE128, IRHAL_CPU_FEATURE_ARM_64_LSE128);
#endif
#if defined(HWCAP2_I8MM)
  SET_IF_HWCAP(hwcap2, HWCAP2_I8MM, IRHAL_CPU_FEATURE_ARM_64_I8MM);
#endif
#if defined(HWCAP2_BF16)
  SET_IF_HWCAP(hwcap2, HWCAP2_BF16, IRHAL_CPU_FEATURE_ARM_64_BF16);
#endif
#if defined(HWCAP2_SVE2)
  SET_IF_HWCAP(hwcap2, HWCAP2_SVE2, IRHAL_CPU_FEATURE_ARM_64_SVE2);
#endif
#if defined(HWCAP2_SVE2P1)
  SET_IF_HWCAP(hwcap2, HWCAP2_SVE2P1, IRHAL_CPU_FEATURE_ARM_64_SVE2P1);
#endif
#if defined(HWCAP2_SVEBITPERM)
  SET_IF_HWCAP(hwcap2, HWCAP2_SVEBITPERM,
               IRHAL_CPU_FEATURE_ARM_64_SVE2_BITPERM);
#endif
#if defined(HWCAP2_SVEF32MM)
  SET_IF_HWCAP(hwcap2, HWCAP2_SVEF32MM, IRHAL_CPU_FEATURE_ARM_64_F32MM);
#endif
#if defined(HWCAP2_SVEF64MM)
  SET_IF_HWCAP(hwcap2, HWCAP2_SVEF64MM, IRHAL_CPU_FEATURE_ARM_64_F64MM);
#endif
#if defined(HWCAP2_SME)
  SET_IF_HWCAP(hwcap2, HWCAP2_SME, IRHAL_CPU_FEATURE_ARM_64_SME);
#endif
#if defined(HWCAP2_SME2)
  SET_IF_HWCAP(hwcap2, HWCAP2_SME2, IRHAL_CPU_FEATURE_ARM_64_SME2);
#endif
#if defined(HWCAP2_SME2P1)
  SET_IF_HWCAP(hwcap2, HWCAP2_SME2P1, IRHAL_CPU_FEATURE_ARM_64_SME2P1);
#endif
#if defined(HWCAP2_SME_F16F16)
  SET_IF_HWCAP(hwcap2, HWCAP2_SME_F16F16, IRHAL_CPU_FEATURE_ARM_64_SME_F16F16);
#endif
#if defined(HWCAP2_SME_F64F64)
  SET_IF_HWCAP(hwcap2, HWCAP2_SME_F64F64, IRHAL_CPU_FEATURE_ARM_64_SME_F64F64);
#endif
#if defined(HWCAP2_SME_I16I64)
  SET_IF_HWCAP(hwcap2, HWCAP2_SME_I16I64, IRHAL_CPU_FEATURE_ARM_64_SME_I16I64);
#endif
  return word;
}

const char* irhal_cpu_host_arch_name(void) { return "arm_64"; }

#else

static const feature_name_t kFeatures[] = {{NULL, 0}};
static uint64_t query_features(void) { return 0; }
const char* irhal_cpu_host_arch_name(void) { return NULL; }

#endif

void irhal_cpu_processor_query(irhal_processor_v0_t* out_processor) {
  memset(out_processor, 0, sizeof(*out_processor));
  out_processor->data[0] = query_features();
}

bool irhal_cpu_feature_bit(irt_string_view_t name, int* out_bit) {
  for (size_t i = 0; i < sizeof(kFeatures) / sizeof(kFeatures[0]); ++i) {
    if (kFeatures[i].name &&
        irt_string_view_equal_cstring(name, kFeatures[i].name)) {
      *out_bit = kFeatures[i].bit;
      return true;
    }
  }
  return false;
}
