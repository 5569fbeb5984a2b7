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

static PyMethodDef methods[] = {
    {"envelope_image", envelope_image, METH_VARARGS,
     "envelope_image(out, x, lo, hi, colours, x_scale, x_offset, y_scale, y_offset): fill the joined "
     "column spans of each channel into `out` (see sensorlab/plotting/raster.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_raster", "Envelope columns filled into an ARGB image (raster.py).", -1, methods};

PyMODINIT_FUNC PyInit__raster(void) { return PyModule_Create(&module); }
