/* sensorlab.plotting._raster: min/max envelopes of several channels filled into one ARGB image.
 *
 * `envelope_image` in raster.py, in one C call: for each pixel column (one per envelope
 * point) and channel, the column's span joined to its neighbours' (as `join_columns` joins
 * them; not where the caller's spans meet already), mapped to pixel rows and filled as one vertical run of the channel's colour, the
 * channels in their order (a later one over an earlier one). The NumPy code in raster.py does
 * the same; the pixels are the same bits.
 *
 * Only the plain C API and the buffer protocol: no NumPy headers, so the package builds with
 * the compiler and Python's headers alone. Anything this code does not take exactly as it is
 * (another dtype, not C-contiguous, mismatched shapes) raises, and raster.py falls back to
 * NumPy only when the module is not built, never on bad input.
 *
 * Floating-point: every expression is evaluated as the NumPy code evaluates it (IEEE doubles,
 * no contraction: built with -ffp-contract=off), NaN propagating through min/max as in
 * np.minimum / np.maximum.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* np.minimum / np.maximum: NaN if either is NaN. */
static inline double np_min(double a, double b) { return (a != a) ? a : (b != b) ? b : (a < b ? a : b); }
static inline double np_max(double a, double b) { return (a != a) ? a : (b != b) ? b : (a > b ? a : b); }

/* One argument of a function here: the object passed, the buffer it is read through, and what
 * it must be. */
typedef struct {
    PyObject *obj;
    Py_buffer view;
    const char *what, *fmt;
    int ndim, writable;
} Arg;

/* Take the buffers of args[0..n) or raise (naming the function `fn` and the argument) and
 * release those already taken: each must be a C-contiguous `ndim`-D array of format `fmt`
 * (a byte-order mark for the native order allowed), writable where asked. */
static int get_args(const char *fn, Arg *args, int n)
{
    for (int i = 0; i < n; i++) {
        Arg *a = &args[i];
        if (PyObject_GetBuffer(a->obj, &a->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (a->writable ? PyBUF_WRITABLE : 0)) < 0) {
            while (i--)
                PyBuffer_Release(&args[i].view);
            return -1;
        }
        const char *f = a->view.format;
        if (f && (*f == '<' || *f == '=' || *f == '@'))
            f++;
        if (a->view.ndim != a->ndim || f == NULL || strcmp(f, a->fmt) != 0) {
            PyErr_Format(PyExc_TypeError, "%s: %s must be a C-contiguous %d-D array of format '%s' (got %d-D '%s')", fn,
                         a->what, a->ndim, a->fmt, a->view.ndim, a->view.format ? a->view.format : "?");
            for (; i >= 0; i--)
                PyBuffer_Release(&args[i].view);
            return -1;
        }
    }
    return 0;
}

static void release_args(Arg *args, int n)
{
    for (int i = n - 1; i >= 0; i--)
        PyBuffer_Release(&args[i].view);
}

/* envelope_image(out, x, lo, hi, colours, xs, xo, ys, yo[, join]): join = 0 skips joining the
 * neighbouring columns (spans that already meet, as polyline_spans gives them: the same pixels). */
static PyObject *envelope_image(PyObject *self, PyObject *args)
{
    Arg a[5] = {{.what = "out", .fmt = "I", .ndim = 2, .writable = 1}, {.what = "x", .fmt = "d", .ndim = 1},
                {.what = "lo", .fmt = "d", .ndim = 2}, {.what = "hi", .fmt = "d", .ndim = 2},
                {.what = "colours", .fmt = "I", .ndim = 1}};
    double xs, xo, ys, yo;
    int join = 1;
    if (!PyArg_ParseTuple(args, "OOOOOdddd|p", &a[0].obj, &a[1].obj, &a[2].obj, &a[3].obj, &a[4].obj, &xs, &xo, &ys, &yo, &join))
        return NULL;
    if (get_args("envelope_image", a, 5) < 0)
        return NULL;
    Py_buffer *out = &a[0].view, *bx = &a[1].view, *blo = &a[2].view, *bhi = &a[3].view, *bc = &a[4].view;
    Py_ssize_t n = bx->shape[0], ch = bc->shape[0], h = out->shape[0], w = out->shape[1];
    if (blo->shape[0] != n || bhi->shape[0] != n || blo->shape[1] != ch || bhi->shape[1] != ch) {
        PyErr_SetString(PyExc_ValueError, "envelope_image: lo and hi must be (len(x), len(colours))");
        release_args(a, 5);
        return NULL;
    }
    const double *x = bx->buf, *lo = blo->buf, *hi = bhi->buf;
    const uint32_t *colours = bc->buf;
    uint32_t *img = out->buf;
    /* pixel columns first (channel by channel below: a later channel is painted over every
     * earlier one, also where two points fall in one column) */
    double *cols = PyMem_RawMalloc((n ? n : 1) * sizeof(double));
    if (cols == NULL) {
        release_args(a, 5);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++)
        cols[i] = floor(x[i] * xs + xo);
    for (Py_ssize_t k = 0; k < ch; k++) {
        uint32_t colour = colours[k];
        if (!colour)
            continue;
        for (Py_ssize_t i = 0; i < n; i++) {
            double col = cols[i];
            if (!(col >= 0.0 && col < (double)w))
                continue;
            double l = lo[i * ch + k], u = hi[i * ch + k];
            /* join_columns: meet the neighbour's span halfway where the spans do not overlap */
            if (join && i + 1 < n && (cols[i + 1] - col) == 1.0) {
                double l1 = lo[(i + 1) * ch + k], h1 = hi[(i + 1) * ch + k];
                double l0 = lo[i * ch + k], h0 = hi[i * ch + k];
                u = np_max(u, l1 > h0 ? 0.5 * (h0 + l1) : h0);
                l = np_min(l, h1 < l0 ? 0.5 * (l0 + h1) : l0);
            }
            if (join && i > 0 && (col - cols[i - 1]) == 1.0) {
                double l0 = lo[(i - 1) * ch + k], h0 = hi[(i - 1) * ch + k];
                double l1 = lo[i * ch + k], h1 = hi[i * ch + k];
                l = np_min(l, l1 > h0 ? 0.5 * (h0 + l1) : l1);
                u = np_max(u, h1 < l0 ? 0.5 * (l0 + h1) : h1);
            }
            double ra = l * ys + yo, rb = u * ys + yo;
            if (ra != ra || rb != rb)
                continue;
            double top = floor(np_min(ra, rb)), bottom = floor(np_max(ra, rb));
            if (bottom < 0.0 || top > (double)(h - 1))
                continue;
            Py_ssize_t r0 = top < 0.0 ? 0 : (Py_ssize_t)top, r1 = bottom > (double)(h - 1) ? h - 1 : (Py_ssize_t)bottom;
            uint32_t *p = img + r0 * w + (Py_ssize_t)col;
            for (Py_ssize_t r = r0; r <= r1; r++, p += w)
                *p = colour;
        }
    }
    Py_END_ALLOW_THREADS
    PyMem_RawFree(cols);
    release_args(a, 5);
    Py_RETURN_NONE;
}

/* polyline_spans(px, ys, c0, lo, hi): raster.polyline_spans's arithmetic. px (n,) float64
 * increasing device x; ys (k, n) float64; lo, hi (m, k) float64 written: column c0 + c's range
 * of each line, its values at the column's edges (as NumPy computes them) and its points. */
static PyObject *polyline_spans(PyObject *self, PyObject *args)
{
    Arg a[4] = {{.what = "px", .fmt = "d", .ndim = 1}, {.what = "ys", .fmt = "d", .ndim = 2},
                {.what = "lo", .fmt = "d", .ndim = 2, .writable = 1}, {.what = "hi", .fmt = "d", .ndim = 2, .writable = 1}};
    double c0;
    if (!PyArg_ParseTuple(args, "OOdOO", &a[0].obj, &a[1].obj, &c0, &a[2].obj, &a[3].obj))
        return NULL;
    if (get_args("polyline_spans", a, 4) < 0)
        return NULL;
    Py_buffer *bpx = &a[0].view, *bys = &a[1].view, *blo = &a[2].view, *bhi = &a[3].view;
    Py_ssize_t n = bpx->shape[0], k = bys->shape[0], m = blo->shape[0];
    if (bys->shape[1] != n || blo->shape[1] != k || bhi->shape[0] != m || bhi->shape[1] != k || n < 2) {
        PyErr_SetString(PyExc_ValueError, "polyline_spans: ys must be (k, n >= 2), lo and hi (m, k)");
        release_args(a, 4);
        return NULL;
    }
    const double *px = bpx->buf, *ys = bys->buf;
    double *lo = blo->buf, *hi = bhi->buf;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t j = 1;
    for (Py_ssize_t c = 0; c <= m; c++) {  /* edge c: x = c0 + c */
        double e = c0 + (double)c;
        while (j < n - 1 && px[j] <= e)  /* searchsorted(e, "right") clipped to 1..n-1 */
            j++;
        double x0 = px[j - 1], x1 = px[j];
        double f = (e - x0) / (x1 > x0 ? x1 - x0 : 1.0);
        f = f < 0.0 ? 0.0 : (f > 1.0 ? 1.0 : f);
        for (Py_ssize_t ch = 0; ch < k; ch++) {
            double y0 = ys[ch * n + j - 1];
            double v = y0 + (ys[ch * n + j] - y0) * f;
            if (c < m) {
                lo[c * k + ch] = v;
                hi[c * k + ch] = v;
            }
            if (c > 0) {
                lo[(c - 1) * k + ch] = np_min(lo[(c - 1) * k + ch], v);
                hi[(c - 1) * k + ch] = np_max(hi[(c - 1) * k + ch], v);
            }
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        double c = floor(px[i]) - c0;
        if (!(c >= 0.0 && c < (double)m))
            continue;
        Py_ssize_t ci = (Py_ssize_t)c;
        for (Py_ssize_t ch = 0; ch < k; ch++) {
            double y = ys[ch * n + i];
            lo[ci * k + ch] = np_min(lo[ci * k + ch], y);
            hi[ci * k + ch] = np_max(hi[ci * k + ch], y);
        }
    }
    Py_END_ALLOW_THREADS
    release_args(a, 4);
    Py_RETURN_NONE;
}

/* Image columns trace_image fills at a time (a tile of TILE x rows pixels, one cache line a row). */
#define TILE 16

/* floor(x) (but 0.0 for -0.0, which no caller tells apart) without a call into libm: built
 * for plain x86-64, floor is a function call, and trace_image takes ~100,000 a frame. */
static inline double fast_floor(double x)
{
    if (fabs(x) < 4503599627370496.0) {  /* 2^52: a whole number beyond it; NaN and inf: floor */
        double t = (double)(long long)x;
        return t > x ? t - 1.0 : t;
    }
    return floor(x);
}

/* A value of the (k, n) array ys, float32 or float64, read through its strides (a panel's
 * display buffer is a strided view: no copy is made of it). */
static inline double ys_at(const char *base, Py_ssize_t s0, Py_ssize_t s1, int f32, Py_ssize_t ch, Py_ssize_t i)
{
    const char *p = base + ch * s0 + i * s1;
    return f32 ? (double)*(const float *)p : *(const double *)p;
}

/* trace_image(out, x, ys, colours, xs, xo, first, last, yscale, yoffset): the live view's
 * envelope traces (TraceGroup._fill) in one call, with the pixels of raster.polyline_spans
 * on px = x * xs + xo followed by envelope_image(out, centres, lo, hi, colours, 1.0, -first,
 * yscale, yoffset, join=False): column c of `out` is device column first + c. x (n,) float64
 * increasing, C-contiguous; ys (k, n) float32 or float64, any strides; colours (k,) uint32,
 * 0 for a channel not drawn (its spans are not worked out either). Returns False, drawing
 * nothing, when the points between `first` and `last` + 1 are no more than the columns (raw
 * samples a pixel or more apart: the caller strokes them), else True, having written every
 * pixel of `out` (0 where no line is: the caller need not clear it). */
static PyObject *trace_image(PyObject *self, PyObject *args)
{
    Arg a[3] = {{.what = "out", .fmt = "I", .ndim = 2, .writable = 1}, {.what = "x", .fmt = "d", .ndim = 1},
                {.what = "colours", .fmt = "I", .ndim = 1}};
    PyObject *ys_obj;
    double xs, xo, first, last, yscale, yoffset;
    if (!PyArg_ParseTuple(args, "OOOOdddddd", &a[0].obj, &a[1].obj, &ys_obj, &a[2].obj, &xs, &xo, &first, &last, &yscale, &yoffset))
        return NULL;
    if (get_args("trace_image", a, 3) < 0)
        return NULL;
    Py_buffer yv;
    if (PyObject_GetBuffer(ys_obj, &yv, PyBUF_RECORDS_RO) < 0) {
        release_args(a, 3);
        return NULL;
    }
    const char *f = yv.format;
    if (f && (*f == '<' || *f == '=' || *f == '@'))
        f++;
    Py_buffer *out = &a[0].view, *bx = &a[1].view, *bc = &a[2].view;
    Py_ssize_t n = bx->shape[0], k = bc->shape[0], h = out->shape[0], w = out->shape[1];
    if (yv.ndim != 2 || f == NULL || (strcmp(f, "f") != 0 && strcmp(f, "d") != 0) || yv.shape[0] != k || yv.shape[1] != n) {
        PyErr_SetString(PyExc_TypeError, "trace_image: ys must be a (len(colours), len(x)) array of float32 or float64");
        PyBuffer_Release(&yv);
        release_args(a, 3);
        return NULL;
    }
    int f32 = strcmp(f, "f") == 0;
    Py_ssize_t s0 = yv.strides[0], s1 = yv.strides[1];
    const char *yb = yv.buf;
    const double *x = bx->buf;
    const uint32_t *colours = bc->buf;
    uint32_t *img = out->buf;
    double *px = PyMem_RawMalloc((n ? n : 1) * sizeof(double));
    if (px == NULL) {
        PyBuffer_Release(&yv);
        release_args(a, 3);
        return PyErr_NoMemory();
    }
    int filled = 0;
    double *lo = NULL, *hi = NULL;
    uint32_t *tile = NULL;
    Py_ssize_t *cov = NULL, *merged = NULL;  /* rows covered in a column (see below) */
    double *pc = NULL;
    int written = 0;  /* every pixel of `out` (the tiles below) */
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++)
        px[i] = x[i] * xs + xo;
    /* TraceGroup._fill: a = px.searchsorted(first), b = px.searchsorted(last + 1) ("left") */
    Py_ssize_t ia = 0, ib;
    while (ia < n && px[ia] < first)
        ia++;
    ib = ia;
    while (ib < n && px[ib] < last + 1.0)
        ib++;
    if (n >= 1 && ib - ia > (Py_ssize_t)(last - first) + 1) {
        /* polyline_spans: the points of the columns first..last and one beyond each end
         * (col = floor(px): a = searchsorted(col, first, "left") - 1, b = searchsorted(col, last, "right") + 1) */
        Py_ssize_t a0 = 0, b0;
        while (a0 < n && floor(px[a0]) < first)
            a0++;
        b0 = a0;
        while (b0 < n && floor(px[b0]) <= last)
            b0++;
        a0 = a0 - 1 < 0 ? 0 : a0 - 1;
        b0 = b0 + 1 > n ? n : b0 + 1;
        filled = 1;
        if (b0 - a0 >= 1) {
            const double *p = px + a0;
            Py_ssize_t np_ = b0 - a0, kd = 0;
            double cf = floor(p[0]), cl = floor(p[np_ - 1]);
            double c0 = cf > first - 1.0 ? cf : first - 1.0, c1 = cl < last + 1.0 ? cl : last + 1.0;
            Py_ssize_t m = (Py_ssize_t)(c1 - c0) + 1;  /* columns c0..c1 */
            for (Py_ssize_t ch = 0; ch < k; ch++)
                kd += colours[ch] != 0;
            if (m > 0 && kd > 0) {
                lo = malloc(kd * m * sizeof(double));
                hi = malloc(kd * m * sizeof(double));
                tile = calloc((size_t)h * TILE, sizeof(uint32_t));
                cov = malloc(2 * (kd + 1) * sizeof(Py_ssize_t));
                pc = malloc(np_ * sizeof(double));
                merged = malloc(2 * (kd + 1) * sizeof(Py_ssize_t));
            }
            if (m > 0 && kd > 0 && lo && hi && tile && cov && merged && pc) {
                /* 1. each drawn channel's spans (polyline_spans); pc: the points' columns */
                for (Py_ssize_t i = 0; i < np_; i++)
                    pc[i] = fast_floor(p[i]) - c0;
                for (Py_ssize_t ch = 0, d = 0; ch < k; ch++) {
                    if (!colours[ch])
                        continue;
                    double *L = lo + d * m, *H = hi + d * m;
                    d++;
                    if (np_ > 1) {
                        Py_ssize_t j = 1;
                        for (Py_ssize_t c = 0; c <= m; c++) {  /* edge c: x = c0 + c */
                            double e = c0 + (double)c;
                            while (j < np_ - 1 && p[j] <= e)
                                j++;
                            double x0 = p[j - 1], x1 = p[j];
                            double fr = (e - x0) / (x1 > x0 ? x1 - x0 : 1.0);
                            fr = fr < 0.0 ? 0.0 : (fr > 1.0 ? 1.0 : fr);
                            double y0 = ys_at(yb, s0, s1, f32, ch, a0 + j - 1);
                            double v = y0 + (ys_at(yb, s0, s1, f32, ch, a0 + j) - y0) * fr;
                            if (c < m)
                                L[c] = H[c] = v;
                            if (c > 0) {
                                L[c - 1] = np_min(L[c - 1], v);
                                H[c - 1] = np_max(H[c - 1], v);
                            }
                        }
                    } else {  /* one point: the line is that value everywhere */
                        double v = ys_at(yb, s0, s1, f32, ch, a0);
                        for (Py_ssize_t c = 0; c < m; c++)
                            L[c] = H[c] = v;
                    }
                    for (Py_ssize_t i = 0; i < np_; i++) {
                        double c = pc[i];
                        if (!(c >= 0.0 && c < (double)m))
                            continue;
                        double y = ys_at(yb, s0, s1, f32, ch, a0 + i);
                        L[(Py_ssize_t)c] = np_min(L[(Py_ssize_t)c], y);
                        H[(Py_ssize_t)c] = np_max(H[(Py_ssize_t)c], y);
                    }
                }
                /* 2. envelope_image(..., 1.0, -first, yscale, yoffset, join=False) at the centres
                 * c0 + c + 0.5, i.e. image column c0 + c - first. Filled TILE columns at a time
                 * into a small row-major tile (the runs are vertical: written straight into the
                 * image, each pixel of a run was a cache line of its own), then copied into the
                 * image row by row; a later channel over an earlier one as before, and pixels no
                 * span covers left as they are. */
                Py_ssize_t off = (Py_ssize_t)(c0 - first);
                written = 1;
                for (Py_ssize_t t0 = 0; t0 < w; t0 += TILE) {
                    Py_ssize_t tw = w - t0 < TILE ? w - t0 : TILE, rmin = h, rmax = -1;
                    for (Py_ssize_t jc = 0; jc < tw; jc++) {
                        Py_ssize_t c = t0 + jc - off;
                        if (c < 0 || c >= m)
                            continue;
                        /* floor((c0 + c + 0.5) * 1.0 - first), all whole numbers: t0 + jc */
                        Py_ssize_t tc = jc;
                        /* The channels from the last (drawn on top) to the first: each pixel is
                         * written once, by the last channel covering it (the noisy channels of an
                         * EEG overlap: writing every run wrote most pixels many times over). `cov`
                         * holds the rows covered so far as sorted, disjoint runs. */
                        Py_ssize_t ncov = 0;
                        for (Py_ssize_t ch = k - 1, d = kd - 1; ch >= 0; ch--) {
                            uint32_t colour = colours[ch];
                            if (!colour)
                                continue;
                            const double *L = lo + d * m, *H = hi + d * m;
                            d--;
                            double ra = L[c] * yscale + yoffset, rb = H[c] * yscale + yoffset;
                            if (ra != ra || rb != rb)
                                continue;
                            double top = fast_floor(np_min(ra, rb)), bottom = fast_floor(np_max(ra, rb));
                            if (bottom < 0.0 || top > (double)(h - 1))
                                continue;
                            Py_ssize_t r0 = top < 0.0 ? 0 : (Py_ssize_t)top, r1 = bottom > (double)(h - 1) ? h - 1 : (Py_ssize_t)bottom;
                            rmin = r0 < rmin ? r0 : rmin;
                            rmax = r1 > rmax ? r1 : rmax;
                            if (ncov == 0 || (ncov == 1 && r0 <= cov[1] + 1 && r1 >= cov[0] - 1)) {
                                /* the usual case, one covered run that this one touches (or none
                                 * yet): what sticks out of it on either side, then the two joined */
                                Py_ssize_t a = ncov ? cov[0] : r1 + 1, b = ncov ? cov[1] : r1;
                                Py_ssize_t cur = r0, stop = r1 < a - 1 ? r1 : a - 1;
                                for (uint32_t *q = tile + cur * TILE + tc; cur <= stop; cur++, q += TILE)
                                    *q = colour;
                                cur = r0 > b + 1 ? r0 : b + 1;
                                for (uint32_t *q = tile + cur * TILE + tc; cur <= r1; cur++, q += TILE)
                                    *q = colour;
                                cov[0] = ncov && a < r0 ? a : r0;
                                cov[1] = ncov && b > r1 ? b : r1;
                                ncov = 1;
                                continue;
                            }
                            /* write the rows of r0..r1 no later channel covers */
                            Py_ssize_t cur = r0;
                            for (Py_ssize_t v = 0; v < ncov && cur <= r1; v++) {
                                Py_ssize_t a = cov[2 * v], b = cov[2 * v + 1];
                                if (b < cur)
                                    continue;
                                if (a > r1)
                                    break;
                                for (uint32_t *q = tile + cur * TILE + tc; cur < a; cur++, q += TILE)
                                    *q = colour;
                                cur = b + 1;
                            }
                            for (uint32_t *q = tile + cur * TILE + tc; cur <= r1; cur++, q += TILE)
                                *q = colour;
                            /* cov = cov united with r0..r1 (runs that touch are joined) */
                            Py_ssize_t v = 0, nn = 0;
                            while (v < ncov && cov[2 * v + 1] < r0 - 1) {
                                merged[2 * nn] = cov[2 * v];
                                merged[2 * nn + 1] = cov[2 * v + 1];
                                nn++, v++;
                            }
                            Py_ssize_t a = r0, b = r1;
                            while (v < ncov && cov[2 * v] <= r1 + 1) {
                                a = cov[2 * v] < a ? cov[2 * v] : a;
                                b = cov[2 * v + 1] > b ? cov[2 * v + 1] : b;
                                v++;
                            }
                            merged[2 * nn] = a;
                            merged[2 * nn + 1] = b;
                            nn++;
                            for (; v < ncov; v++, nn++) {
                                merged[2 * nn] = cov[2 * v];
                                merged[2 * nn + 1] = cov[2 * v + 1];
                            }
                            Py_ssize_t *swap = cov;
                            cov = merged;
                            merged = swap;
                            ncov = nn;
                        }
                    }
                    /* every pixel of these columns is written: the caller need not clear `out` */
                    for (Py_ssize_t r = 0; r < h; r++) {
                        uint32_t *dst = img + r * w + t0;
                        if (r < rmin || r > rmax) {
                            memset(dst, 0, tw * sizeof(uint32_t));
                        } else {
                            memcpy(dst, tile + r * TILE, tw * sizeof(uint32_t));
                            memset(tile + r * TILE, 0, TILE * sizeof(uint32_t));
                        }
                    }
                }
            } else if (m > 0 && kd > 0) {
                filled = -1;  /* out of memory */
            }
        }
    }
    if (filled == 1 && !written)
        memset(img, 0, (size_t)h * w * sizeof(uint32_t));
    Py_END_ALLOW_THREADS
    free(lo);
    free(hi);
    free(tile);
    free(cov);
    free(merged);
    free(pc);
    PyMem_RawFree(px);
    PyBuffer_Release(&yv);
    release_args(a, 3);
    if (filled < 0)
        return PyErr_NoMemory();
    return PyBool_FromLong(filled);
}

/* rgb32_preview(out, frame, step): out[r, c] = 0xffRRGGBB of frame[r * step, c * step, 2::-1]
 * (a camera's BGR bytes as Qt's Format_RGB32 pixels). frame (h, w, >= 3) uint8, any strides;
 * out (ceil(h / step), ceil(w / step)) uint32, C-contiguous. */
static PyObject *rgb32_preview(PyObject *self, PyObject *args)
{
    Arg a[1] = {{.what = "out", .fmt = "I", .ndim = 2, .writable = 1}};
    PyObject *frame_obj;
    Py_ssize_t step;
    if (!PyArg_ParseTuple(args, "OOn", &a[0].obj, &frame_obj, &step))
        return NULL;
    if (step < 1) {
        PyErr_SetString(PyExc_ValueError, "rgb32_preview: step must be >= 1");
        return NULL;
    }
    if (get_args("rgb32_preview", a, 1) < 0)
        return NULL;
    Py_buffer fv;
    if (PyObject_GetBuffer(frame_obj, &fv, PyBUF_RECORDS_RO) < 0) {
        release_args(a, 1);
        return NULL;
    }
    Py_buffer *out = &a[0].view;
    Py_ssize_t h = out->shape[0], w = out->shape[1];
    if (fv.ndim != 3 || fv.itemsize != 1 || fv.shape[2] < 3 || (fv.shape[0] + step - 1) / step != h || (fv.shape[1] + step - 1) / step != w) {
        PyErr_SetString(PyExc_TypeError, "rgb32_preview: frame must be (h, w, >= 3) bytes and out (ceil(h / step), ceil(w / step))");
        PyBuffer_Release(&fv);
        release_args(a, 1);
        return NULL;
    }
    const unsigned char *fb = fv.buf;
    Py_ssize_t s0 = fv.strides[0] * step, s1 = fv.strides[1] * step, s2 = fv.strides[2];
    uint32_t *o = out->buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < h; r++) {
        const unsigned char *p = fb + r * s0;
        uint32_t *q = o + r * w;
        for (Py_ssize_t c = 0; c < w; c++, p += s1)
            q[c] = 0xFF000000u | (uint32_t)p[2 * s2] << 16 | (uint32_t)p[s2] << 8 | (uint32_t)p[0];
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&fv);
    release_args(a, 1);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"rgb32_preview", rgb32_preview, METH_VARARGS,
     "rgb32_preview(out, frame, step): every step-th pixel of a BGR frame as 0xffRRGGBB into out (raster.py)."},
    {"trace_image", trace_image, METH_VARARGS,
     "trace_image(out, x, ys, colours, xs, xo, first, last, yscale, yoffset): polyline_spans of the lines "
     "through (x * xs + xo, ys[k]) filled into `out` as envelope_image does (see TraceGroup._fill); False "
     "when they are raw samples a pixel or more apart (nothing drawn)."},
    {"polyline_spans", polyline_spans, METH_VARARGS, "polyline_spans(px, ys, c0, lo, hi): raster.polyline_spans in C"},
    {"envelope_image", envelope_image, METH_VARARGS,
     "envelope_image(out, x, lo, hi, colours, x_scale, x_offset, y_scale, y_offset, join=True): fill the "
     "column spans of each channel (joined to their neighbours' unless join is false) into `out` "
     "(see sensorlab/plotting/raster.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_raster", "Envelope columns filled into an ARGB image (raster.py).", -1, methods};

PyMODINIT_FUNC PyInit__raster(void) { return PyModule_Create(&module); }
