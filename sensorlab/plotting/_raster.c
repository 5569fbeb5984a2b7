/* sensorlab.plotting._raster: min/max envelopes of several channels filled into one ARGB image.
 *
 * `envelope_image` in raster.py, in one C call: for each pixel column (one per envelope
 * point) and channel, the column's span joined to its neighbours' (as `join_columns` joins
 * them), mapped to pixel rows and filled as one vertical run of the channel's colour, the
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

static int get(PyObject *obj, Py_buffer *view, const char *what, const char *fmt, int ndim, int writable)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    const char *f = view->format;
    if (f && (*f == '<' || *f == '=' || *f == '@'))
        f++;
    if (view->ndim != ndim || f == NULL || strcmp(f, fmt) != 0) {
        PyErr_Format(PyExc_TypeError, "envelope_image: %s must be a C-contiguous %d-D array of format '%s' (got %d-D '%s')",
                     what, ndim, fmt, view->ndim, view->format ? view->format : "?");
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *envelope_image(PyObject *self, PyObject *args)
{
    PyObject *o_out, *o_x, *o_lo, *o_hi, *o_colours;
    double xs, xo, ys, yo;
    if (!PyArg_ParseTuple(args, "OOOOOdddd", &o_out, &o_x, &o_lo, &o_hi, &o_colours, &xs, &xo, &ys, &yo))
        return NULL;
    Py_buffer out, bx, blo, bhi, bc;
    if (get(o_out, &out, "out", "I", 2, 1) < 0)
        return NULL;
    if (get(o_x, &bx, "x", "d", 1, 0) < 0)
        goto e_out;
    if (get(o_lo, &blo, "lo", "d", 2, 0) < 0)
        goto e_x;
    if (get(o_hi, &bhi, "hi", "d", 2, 0) < 0)
        goto e_lo;
    if (get(o_colours, &bc, "colours", "I", 1, 0) < 0)
        goto e_hi;
    Py_ssize_t n = bx.shape[0], ch = bc.shape[0], h = out.shape[0], w = out.shape[1];
    if (blo.shape[0] != n || bhi.shape[0] != n || blo.shape[1] != ch || bhi.shape[1] != ch) {
        PyErr_SetString(PyExc_ValueError, "envelope_image: lo and hi must be (len(x), len(colours))");
        goto e_c;
    }
    const double *x = bx.buf, *lo = blo.buf, *hi = bhi.buf;
    const uint32_t *colours = bc.buf;
    uint32_t *img = out.buf;
    /* pixel columns first (channel by channel below: a later channel is painted over every
     * earlier one, also where two points fall in one column) */
    double *cols = PyMem_RawMalloc((n ? n : 1) * sizeof(double));
    if (cols == NULL) {
        PyErr_NoMemory();
        goto e_c;
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
            if (i + 1 < n && (cols[i + 1] - col) == 1.0) {
                double l1 = lo[(i + 1) * ch + k], h1 = hi[(i + 1) * ch + k];
                double l0 = lo[i * ch + k], h0 = hi[i * ch + k];
                u = np_max(u, l1 > h0 ? 0.5 * (h0 + l1) : h0);
                l = np_min(l, h1 < l0 ? 0.5 * (l0 + h1) : l0);
            }
            if (i > 0 && (col - cols[i - 1]) == 1.0) {
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
    PyBuffer_Release(&bc);
    PyBuffer_Release(&bhi);
    PyBuffer_Release(&blo);
    PyBuffer_Release(&bx);
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
e_c:
    PyBuffer_Release(&bc);
e_hi:
    PyBuffer_Release(&bhi);
e_lo:
    PyBuffer_Release(&blo);
e_x:
    PyBuffer_Release(&bx);
e_out:
    PyBuffer_Release(&out);
    return NULL;
}

/* polyline_spans(px, ys, c0, lo, hi): raster.polyline_spans's arithmetic. px (n,) float64
 * increasing device x; ys (k, n) float64; lo, hi (m, k) float64 written: column c0 + c's range
 * of each line, its values at the column's edges (as NumPy computes them) and its points. */
static PyObject *polyline_spans(PyObject *self, PyObject *args)
{
    PyObject *o_px, *o_ys, *o_lo, *o_hi;
    double c0;
    Py_buffer bpx, bys, blo, bhi;
    if (!PyArg_ParseTuple(args, "OOdOO", &o_px, &o_ys, &c0, &o_lo, &o_hi))
        return NULL;
    if (get(o_px, &bpx, "px", "d", 1, 0) < 0)
        return NULL;
    if (get(o_ys, &bys, "ys", "d", 2, 0) < 0)
        goto fail_px;
    if (get(o_lo, &blo, "lo", "d", 2, 1) < 0)
        goto fail_ys;
    if (get(o_hi, &bhi, "hi", "d", 2, 1) < 0)
        goto fail_lo;
    Py_ssize_t n = bpx.shape[0], k = bys.shape[0], m = blo.shape[0];
    if (bys.shape[1] != n || blo.shape[1] != k || bhi.shape[0] != m || bhi.shape[1] != k || n < 2) {
        PyErr_SetString(PyExc_ValueError, "polyline_spans: ys must be (k, n >= 2), lo and hi (m, k)");
        goto fail;
    }
    const double *px = bpx.buf, *ys = bys.buf;
    double *lo = blo.buf, *hi = bhi.buf;
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
    PyBuffer_Release(&bhi);
    PyBuffer_Release(&blo);
    PyBuffer_Release(&bys);
    PyBuffer_Release(&bpx);
    Py_RETURN_NONE;
fail:
    PyBuffer_Release(&bhi);
fail_lo:
    PyBuffer_Release(&blo);
fail_ys:
    PyBuffer_Release(&bys);
fail_px:
    PyBuffer_Release(&bpx);
    return NULL;
}

static PyMethodDef methods[] = {
    {"polyline_spans", polyline_spans, METH_VARARGS, "polyline_spans(px, ys, c0, lo, hi): raster.polyline_spans in C"},
    {"envelope_image", envelope_image, METH_VARARGS,
     "envelope_image(out, x, lo, hi, colours, x_scale, x_offset, y_scale, y_offset): fill the joined "
     "column spans of each channel into `out` (see sensorlab/plotting/raster.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_raster", "Envelope columns filled into an ARGB image (raster.py).", -1, methods};

PyMODINIT_FUNC PyInit__raster(void) { return PyModule_Create(&module); }
