/* Part of _hop.c (included there, one translation unit: the compiler inlines and orders the
 * code as it did when this was in _hop.c): scans of the held timestamps. NumPy's `searchsorted`
 * (the window's position, what the next window keeps) and the gap check, in SSE2 and, where the
 * CPU has it, AVX2. Needs <Python.h> (Py_ssize_t) included first. */
#ifndef SENSORLAB_HOP_SCAN_H
#define SENSORLAB_HOP_SCAN_H
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* NumPy's float ordering for sorting and searching: NaN after every number. */
static inline int lt(double a, double b) { return a < b || (b != b && a == a); }

/* `arr.searchsorted(key, side)` for one key, as NumPy's binsearch runs it (the same probes,
 * so the same index even where the stamps are not sorted). */
static Py_ssize_t searchsorted(const double *arr, Py_ssize_t len, double key, int right)
{
    Py_ssize_t lo = 0, hi = len;
    while (lo < hi) {
        Py_ssize_t mid = lo + ((hi - lo) >> 1);
        int go_right = right ? !lt(key, arr[mid]) : lt(arr[mid], key);
        if (go_right)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Whether any step t[i + 1] - t[i], i < k, is above ``gap`` or NaN (the common answer, no, is
 * what the hop checks ~4,000 stamps a window for: two steps per SSE2 instruction on x86-64). */
static int any_step_not_below(const double *t, Py_ssize_t k, double gap)
{
    Py_ssize_t i = 0;
#ifdef __SSE2__
    __m128d g = _mm_set1_pd(gap), odd = _mm_setzero_pd();
    for (; i + 2 <= k; i += 2)
        odd = _mm_or_pd(odd, _mm_cmpnle_pd(_mm_sub_pd(_mm_loadu_pd(t + i + 1), _mm_loadu_pd(t + i)), g));  /* not (step <= gap) */
    if (_mm_movemask_pd(odd))
        return 1;
#endif
    for (; i < k; i++)
        if (!(t[i + 1] - t[i] <= gap))
            return 1;
    return 0;
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
/* The same test with AVX2 (where the CPU has it: `__builtin_cpu_supports`), 16 steps a loop
 * iteration: four steps an instruction and a quarter of the loop's own instructions (~6 K
 * instructions a window of 4,000 stamps instead of ~16 K). ``_CMP_NLE_UQ``: true where the step
 * is above the gap or NaN, as SSE2's ``cmpnle``. */
__attribute__((target("avx2"))) static int any_step_not_below_avx2(const double *t, Py_ssize_t k, double gap)
{
    Py_ssize_t i = 0;
    const __m256d g = _mm256_set1_pd(gap);
    __m256d odd = _mm256_setzero_pd();
    for (; i + 16 <= k; i += 16) {
        __m256d s0 = _mm256_sub_pd(_mm256_loadu_pd(t + i + 1), _mm256_loadu_pd(t + i));
        __m256d s1 = _mm256_sub_pd(_mm256_loadu_pd(t + i + 5), _mm256_loadu_pd(t + i + 4));
        __m256d s2 = _mm256_sub_pd(_mm256_loadu_pd(t + i + 9), _mm256_loadu_pd(t + i + 8));
        __m256d s3 = _mm256_sub_pd(_mm256_loadu_pd(t + i + 13), _mm256_loadu_pd(t + i + 12));
        odd = _mm256_or_pd(odd, _mm256_or_pd(_mm256_or_pd(_mm256_cmp_pd(s0, g, _CMP_NLE_UQ), _mm256_cmp_pd(s1, g, _CMP_NLE_UQ)),
                                             _mm256_or_pd(_mm256_cmp_pd(s2, g, _CMP_NLE_UQ), _mm256_cmp_pd(s3, g, _CMP_NLE_UQ))));
    }
    if (_mm256_movemask_pd(odd))
        return 1;
    for (; i < k; i++)
        if (!(t[i + 1] - t[i] <= gap))
            return 1;
    return 0;
}
#define HAVE_AVX2_PATH 1
#endif

static int has_avx2 = -1;  /* the CPU's answer, asked once */

/* `any_step_not_below`, on AVX2 where the CPU has it. */
static int any_gap_step(const double *t, Py_ssize_t k, double gap)
{
#ifdef HAVE_AVX2_PATH
    if (has_avx2 < 0)
        has_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
    if (has_avx2)
        return any_step_not_below_avx2(t, k, gap);
#endif
    return any_step_not_below(t, k, gap);
}

#endif
