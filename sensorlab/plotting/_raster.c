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

static PyMethodDef methods[] = {
    {"polyline_spans", polyline_spans, METH_VARARGS, "polyline_spans(px, ys, c0, lo, hi): raster.polyline_spans in C"},
    {"envelope_image", envelope_image, METH_VARARGS,
     "envelope_image(out, x, lo, hi, colours, x_scale, x_offset, y_scale, y_offset, join=True): fill the "
     "column spans of each channel (joined to their neighbours' unless join is false) into `out` "
     "(see sensorlab/plotting/raster.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_raster", "Envelope columns filled into an ARGB image (raster.py).", -1, methods};

PyMODINIT_FUNC PyInit__raster(void) { return PyModule_Create(&module); }
