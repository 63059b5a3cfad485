// Lets `#pragma omp simd` loops call exp/log through glibc's vector math library
// (libmvec: _ZGVeN8v_exp and friends) without -ffast-math.
//
// glibc's <bits/math-vector.h> only marks exp/log as having SIMD variants when
// __FAST_MATH__ is defined, so with plain -O3 -fno-math-errno g++ refuses to vectorise a
// loop that calls them. Re-declaring them with the same `simd` attribute glibc would use
// tells g++ the vector variants exist; libmvec is linked through libm (g++ adds -lmvec
// with -fopenmp/-lm as needed). The vector variants are accurate to within 4 ulp (glibc's
// documented bound) instead of < 1 ulp, and since a population always takes the same code
// path, results remain independent of the thread count. Include this header before any
// loop that should vectorise.
#pragma once

#include <cmath>

#if defined(__x86_64__) && defined(__GLIBC__) && !defined(__FAST_MATH__)
extern "C" {
double exp(double) noexcept __attribute__((__simd__("notinbranch")));
double log(double) noexcept __attribute__((__simd__("notinbranch")));
}
#endif
