// Memory for the large arrays a step walks (synapse tables, LIF state): blocks of 1 MiB or
// more are 2 MiB-aligned and advised for transparent huge pages (Linux, THP "madvise").
//
// Why: a spike's synapse row is anywhere in a table of megabytes (CUBA at 64000 neurons:
// 20 MB of targets), so with 4 KiB pages nearly every row's first load also missed the
// TLB, and on a virtual machine a TLB miss walks two levels of page tables. Measured
// here, CUBA at 64000 neurons, alternating runs: one thread 429-487 ms against 452-480
// ms, two threads 259-357 against 314-438 ms. Where THP is off or the kernel has no huge
// page free, madvise is only a hint: the block works the same on 4 KiB pages.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace ranvier::sim {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;  // bytes
inline constexpr std::size_t kHugeFrom = std::size_t{1} << 20;  // smallest block advised

// `bytes` of memory aligned to `align` (a power of two, at least alignof(max_align_t)),
// 2 MiB-aligned and advised for huge pages from kHugeFrom on; release with std::free.
inline void* allocate_large(std::size_t bytes, std::size_t align = 64) {
  const bool huge = bytes >= kHugeFrom;
  if (huge) align = kHugePage;
  const std::size_t size = (bytes + align - 1) / align * align;  // as aligned_alloc wants
  void* p = std::aligned_alloc(align, size == 0 ? align : size);
  if (!p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (huge) madvise(p, size, MADV_HUGEPAGE);  // before the first touch, which maps it
#endif
  return p;
}

// For std::vector: the same storage policy, element by element.
template <class T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <class U>
  LargeAllocator(const LargeAllocator<U>&) {}
  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(allocate_large(n * sizeof(T), alignof(T) < 64 ? 64 : alignof(T)));
  }
  void deallocate(T* p, std::size_t) { std::free(p); }
  template <class U>
  bool operator==(const LargeAllocator<U>&) const {
    return true;
  }
};

}  // namespace ranvier::sim
