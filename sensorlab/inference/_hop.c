/* sensorlab.inference._hop: the live windower's usual hop in one C call.
 *
 * `Windower._hop` (windower.py) in C, for a windower that does not resample: the chunks of one
 * wake-up (their float64 timestamps and float32 samples) copied into the held buffers, checked
 * for gaps there, and the window that became ready placed and handed over as `Ready`s, the
 * windower's state moved on exactly as the Python method moves it. In Python that hop is ~90
 * interpreter and NumPy steps (~15-30 us a window, most of a small model's run); here it is
 * one call.
 *
 * Only the plain C API and the buffer protocol: no NumPy headers, so the package builds with
 * the compiler and Python's headers alone. Anything this code does not take exactly as it is -
 * a chunk of another dtype or byte order, not C-contiguous, another channel count, a gap, held
 * buffers of another dtype - returns None with nothing held, and the windower takes its
 * general Python path, which handles every case. Numbers that the Python code would refuse
 * (a window reaching past the held samples, several windows at once, non-finite positions)
 * are handed to `Windower._hop_cut` after the samples are held, as `_hop` hands them to
 * `_push_segment`.
 *
 * Floating-point: every expression is evaluated in the order and precision the Python method
 * uses (IEEE doubles, no contraction: built with -ffp-contract=off), `rint` rounds half to even
 * like Python's `round`, and the binary searches are NumPy's own `searchsorted` loop (with its
 * NaN ordering), so positions, starts and `due` are the same bits.
 *
 * In three files, one translation unit (setup.py compiles this one; it includes the others):
 * this one, the hop; _hop_scan.h, the scans of the held timestamps (binary search, gap check
 * with its AVX2 dispatch); _hop_arrays.h, reading the chunks' and held buffers' arrays.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

/* The Windower's constants, in the order of `Windower._c_consts`. */
enum { K_GAP, K_AVAIL, K_HOP, K_N, K_RATE, K_LENGTH, K_MARGIN, K_LEAD, K_J0, K_EPS, K_SLACK, K_READY, K_ARRAY, K_F64, K_F32, K_NDARRAY, K_COUNT };

static PyObject *s_dtype, *s_ts, *s_x, *s_buf, *s_lo, *s_hi, *s_timestamps, *s_data, *s_anchor, *s_j, *s_restarted,
    *s_base, *s_newest, *s_due, *s_consts, *s_room, *s_hop_cut;

#include "_hop_scan.h"

static int get_double(PyObject *o, PyObject *name, double *out)
{
    PyObject *v = PyObject_GetAttr(o, name);
    if (v == NULL)
        return -1;
    *out = PyFloat_AsDouble(v);
    Py_DECREF(v);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

static int get_ssize(PyObject *o, PyObject *name, Py_ssize_t *out)
{
    PyObject *v = PyObject_GetAttr(o, name);
    if (v == NULL)
        return -1;
    *out = PyLong_AsSsize_t(v);
    Py_DECREF(v);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

static int set_ssize(PyObject *o, PyObject *name, Py_ssize_t value)
{
    PyObject *v = PyLong_FromSsize_t(value);
    if (v == NULL)
        return -1;
    int r = PyObject_SetAttr(o, name, v);
    Py_DECREF(v);
    return r;
}

static int set_double(PyObject *o, PyObject *name, double value)
{
    PyObject *v = PyFloat_FromDouble(value);
    if (v == NULL)
        return -1;
    int r = PyObject_SetAttr(o, name, v);
    Py_DECREF(v);
    return r;
}

/* The held buffer's lo and hi. */
static int held_bounds(PyObject *held, Py_ssize_t *lo, Py_ssize_t *hi)
{
    return get_ssize(held, s_lo, lo) || get_ssize(held, s_hi, hi) ? -1 : 0;
}

#include "_hop_arrays.h"

/* Hand the held hop to `Windower._hop_cut(k)` (the general cut of held samples). */
static PyObject *hop_cut(PyObject *w, Py_ssize_t k)
{
    PyObject *kk = PyLong_FromSsize_t(k);
    if (kk == NULL)
        return NULL;
    PyObject *r = PyObject_CallMethodOneArg(w, s_hop_cut, kk);
    Py_DECREF(kk);
    return r;
}

static PyObject *hop(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 && nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "hop(windower, chunks, one=False)");
        return NULL;
    }
    PyObject *w = args[0];
    const int one = nargs == 3 ? PyObject_IsTrue(args[2]) : 0;
    if (one < 0)
        return NULL;
    if (!PyList_Check(args[1]))
        Py_RETURN_NONE;  /* (the engine hands over a list) */
    PyObject *chunks = args[1];
    PyObject *hts = NULL, *hx = NULL, *consts = NULL, *result = NULL;
    Mem tbv = {0}, xbv = {0};
    int have_tb = 0, have_xb = 0, have_chunks = 0;
    Views vs;
    Py_ssize_t lo, hi, xlo, xhi, k = 0;

    if (PyList_GET_SIZE(chunks) == 0)
        Py_RETURN_NONE;
    if ((hts = PyObject_GetAttr(w, s_ts)) == NULL || (hx = PyObject_GetAttr(w, s_x)) == NULL)
        goto done;
    if (held_bounds(hts, &lo, &hi) || held_bounds(hx, &xlo, &xhi))
        goto done;
    if (hi == lo || xlo != lo || xhi != hi)
        goto refuse;
    if ((consts = PyObject_GetAttr(w, s_consts)) == NULL)
        goto done;
    if (!PyTuple_Check(consts) || PyTuple_GET_SIZE(consts) != K_COUNT) {
        PyErr_SetString(PyExc_TypeError, "Windower._c_consts is not the tuple _hop.c reads");
        goto done;
    }
    PyObject *f64 = PyTuple_GET_ITEM(consts, K_F64), *f32 = PyTuple_GET_ITEM(consts, K_F32), *ndarray = PyTuple_GET_ITEM(consts, K_NDARRAY);
    if ((have_tb = held_mem(hts, &tbv, f64, ndarray, 'd')) < 0 || (have_xb = held_mem(hx, &xbv, f32, ndarray, 'f')) < 0)
        goto done;
    if (!have_tb || !have_xb)
        goto refuse;
    Py_ssize_t row = xbv.shape[1] * 4;
    have_chunks = 1;
    int ok = chunk_views(chunks, &vs, row, &k, f64, f32, ndarray);
    if (ok < 0)
        goto done;
    if (!ok || k == 0)
        goto refuse;
    if (hi + k > tbv.shape[0] || hi + k > xbv.shape[0]) {
        /* Full: the held samples move to new buffers (`Held.room`), as `_hop` does. */
        release_mem(&tbv);
        release_mem(&xbv);
        have_tb = have_xb = 0;
        PyObject *kk = PyLong_FromSsize_t(k);
        if (kk == NULL)
            goto done;
        PyObject *r1 = PyObject_CallMethodOneArg(hts, s_room, kk);
        PyObject *r2 = r1 ? PyObject_CallMethodOneArg(hx, s_room, kk) : NULL;
        Py_DECREF(kk);
        Py_XDECREF(r1);
        if (r2 == NULL)
            goto done;
        Py_DECREF(r2);
        if (held_bounds(hts, &lo, &hi) || held_bounds(hx, &xlo, &xhi))
            goto done;
        if ((have_tb = held_mem(hts, &tbv, f64, ndarray, 'd')) < 0 || (have_xb = held_mem(hx, &xbv, f32, ndarray, 'f')) < 0)
            goto done;
        if (!have_tb || !have_xb || xlo != lo || xhi != hi || xbv.shape[1] * 4 != row || hi + k > tbv.shape[0] || hi + k > xbv.shape[0])
            goto refuse;
    }
    double *tb = (double *)tbv.buf;
    char *xb = (char *)xbv.buf;
    /* The copies, written past hi: not held until the gap check passes. Chunks whose arrays follow
     * each other in memory (views of one block: a replay, a source that slices one read) are
     * copied as one run, two memcpy calls for the run instead of two a chunk. */
    {
        Py_ssize_t at = hi, run_at = hi, run_m = 0;
        const char *run_t = NULL, *run_x = NULL;
        for (Py_ssize_t i = 0; i < vs.count; i += 2) {
            const Py_ssize_t m = vs.v[i].shape[0];
            const char *t = vs.v[i].buf, *x = vs.v[i + 1].buf;
            if (run_m > 0 && t == run_t + run_m * 8 && x == run_x + run_m * row)
                run_m += m;
            else {
                if (run_m > 0) {
                    memcpy(tb + run_at, run_t, (size_t)run_m * 8);
                    memcpy(xb + run_at * row, run_x, (size_t)(run_m * row));
                }
                run_t = t;
                run_x = x;
                run_at = at;
                run_m = m;
            }
            at += m;
        }
        if (run_m > 0) {
            memcpy(tb + run_at, run_t, (size_t)run_m * 8);
            memcpy(xb + run_at * row, run_x, (size_t)(run_m * row));
        }
    }
#define C(i) PyFloat_AsDouble(PyTuple_GET_ITEM(consts, i))
    const double gap = C(K_GAP), avail_off = C(K_AVAIL), hop_s = C(K_HOP), rate = C(K_RATE), length = C(K_LENGTH),
                 margin = C(K_MARGIN), lead = C(K_LEAD), eps = C(K_EPS), slack = C(K_SLACK);
#undef C
    const Py_ssize_t n = PyLong_AsSsize_t(PyTuple_GET_ITEM(consts, K_N)), j0 = PyLong_AsSsize_t(PyTuple_GET_ITEM(consts, K_J0));
    if (PyErr_Occurred())
        goto done;
    /* Gaps: between the newest held sample and these, and inside these: `max(steps) > gap`,
     * where NumPy's max of steps with a NaN is NaN (and NaN > gap is false). */
    {
        if (any_gap_step(tb + hi - 1, k, gap)) {
            int above = 0, nan = 0;
            for (Py_ssize_t i = hi; i < hi + k; i++) {
                double step = tb[i] - tb[i - 1];
                nan |= step != step;
                above |= step > gap;
            }
            if (above && !nan)
                goto refuse;  /* nothing held (hi unchanged): the general path splits them at the gap */
        }
    }
    hi += k;
    if (set_ssize(hts, s_hi, hi) || set_ssize(hx, s_hi, hi))
        goto done;
    const double newest = tb[hi - 1];
    if (set_double(w, s_newest, newest))
        goto done;
    double anchor;
    Py_ssize_t j;
    if (get_double(w, s_anchor, &anchor) || get_ssize(w, s_j, &j))
        goto done;
    const double avail = newest + avail_off;
    double last_jf = -1.0;
    if (avail >= anchor - eps) {
        last_jf = (avail - anchor) / hop_s + eps;
        if (!isfinite(last_jf)) {  /* math.floor refuses it: let the Python code say so */
            result = hop_cut(w, k);
            goto done;
        }
        last_jf = floor(last_jf);
    }
    if (last_jf < (double)j) {  /* no window yet: `_next_due([])` */
        double on_grid = anchor + (double)j * hop_s + lead;
        double after_a_gap = newest + gap + (double)j0 * hop_s + lead;
        if (set_double(w, s_due, (after_a_gap < on_grid ? after_a_gap : on_grid) - slack))
            goto done;
        result = PyList_New(0);
        goto done;
    }
    if (last_jf != (double)j) {  /* several windows: `_push_segment` on the held samples */
        result = hop_cut(w, k);
        goto done;
    }
    /* One window: `_cut`'s position and edge tests on the held samples. */
    const double start = anchor + (double)j * hop_s;
    const double *ts = tb + lo;
    const Py_ssize_t m = hi - lo;
    Py_ssize_t a = -1;
    if (tb[lo] <= start && start <= newest) {
        /* window_offsets.position1(ts, start, 0) */
        Py_ssize_t p = searchsorted(ts, m, start, 1) - 1;
        if (p < 0)
            p = 0;
        if (p > m - 2)
            p = m - 2;
        double t0 = ts[p], den = ts[p + 1] - t0;
        double pos = den != 0.0 ? (double)p + (start - t0) / den : NAN;
        if (!isfinite(pos)) {  /* Python raises here (ZeroDivisionError, round(nan)): its general cut says so */
            result = hop_cut(w, k);
            goto done;
        }
        a = (Py_ssize_t)rint(pos);
    }
    if (a < 0 || a + n > m || start + length > newest + 1.5 / rate) {  /* cut_windows' edge rule: the general path */
        result = hop_cut(w, k);
        goto done;
    }
    {
        /* [Ready(np.array([start]), held samples[None, lo + a : lo + a + n], restarted)], or with
         * ``one`` (start, held samples[lo + a : lo + a + n], restarted, the address of the window's
         * first sample): the engine's one-window path takes the start as a float and the window as
         * (n, C), so it gets them as they are, and binds the model's input to that address. */
        PyObject *starts = NULL, *window = NULL, *ready = NULL;
        if (one)
            starts = PyFloat_FromDouble(start);
        else {
            PyObject *start_list = Py_BuildValue("[d]", start);
            if (start_list != NULL) {
                starts = PyObject_CallOneArg(PyTuple_GET_ITEM(consts, K_ARRAY), start_list);
                Py_DECREF(start_list);
            }
        }
        if (starts != NULL) {
            PyObject *sl = NULL, *key = NULL, *xbuf = NULL;
            PyObject *from = PyLong_FromSsize_t(lo + a), *to = PyLong_FromSsize_t(lo + a + n);
            if (from != NULL && to != NULL)
                sl = PySlice_New(from, to, NULL);
            Py_XDECREF(from);
            Py_XDECREF(to);
            if (sl != NULL && one)
                key = sl;
            else if (sl != NULL) {
                key = PyTuple_Pack(2, Py_None, sl);
                Py_DECREF(sl);
            }
            if (key != NULL && (xbuf = PyObject_GetAttr(hx, s_buf)) != NULL) {
                window = PyObject_GetItem(xbuf, key);
                Py_DECREF(xbuf);
            }
            Py_XDECREF(key);
        }
        if (window != NULL) {
            PyObject *restarted = PyObject_GetAttr(w, s_restarted);
            if (restarted != NULL) {
                PyObject *rargs[3] = {starts, window, restarted};
                PyObject *address = one ? PyLong_FromVoidPtr(xb + (lo + a) * row) : NULL;
                if (!one)
                    ready = PyObject_Vectorcall(PyTuple_GET_ITEM(consts, K_READY), rargs, 3, NULL);
                else if (address != NULL)
                    ready = PyTuple_Pack(4, starts, window, restarted, address);
                Py_XDECREF(address);
                Py_DECREF(restarted);
            }
        }
        Py_XDECREF(starts);
        Py_XDECREF(window);
        if (ready == NULL)
            goto done;
        if (one)
            result = ready;
        else {
            result = PyList_New(1);
            if (result == NULL) {
                Py_DECREF(ready);
                goto done;
            }
            PyList_SET_ITEM(result, 0, ready);
        }
    }
    if (PyObject_SetAttr(w, s_restarted, Py_False))
        goto fail;
    j += 1;
    if (set_ssize(w, s_j, j))
        goto fail;
    /* Keep what the next window needs (as `_push_segment`). */
    {
        Py_ssize_t i = searchsorted(ts, m, anchor + (double)j * hop_s - margin - 2.0 / rate, 0);
        if (i > 0) {
            Py_ssize_t base;
            if (set_ssize(hts, s_lo, lo + i) || set_ssize(hx, s_lo, lo + i) || get_ssize(w, s_base, &base) || set_ssize(w, s_base, base + i))
                goto fail;
        }
    }
    {
        double on_grid = anchor + (double)j * hop_s + lead;
        double after_a_gap = newest + gap + (double)j0 * hop_s + lead;
        if (set_double(w, s_due, (after_a_gap < on_grid ? after_a_gap : on_grid) - slack))
            goto fail;
    }
    goto done;

fail:
    Py_CLEAR(result);
    goto done;
refuse:
    result = Py_NewRef(Py_None);
done:
    if (have_chunks)
        release_views(&vs);
    if (have_tb > 0)
        release_mem(&tbv);
    if (have_xb > 0)
        release_mem(&xbv);
    Py_XDECREF(consts);
    Py_XDECREF(hts);
    Py_XDECREF(hx);
    return result;
}

static PyObject *array_fields(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    if (fields_ok == 0)
        Py_RETURN_NONE;
    return PyBool_FromLong(fields_ok == 1);
}

static PyMethodDef methods[] = {
    {"array_fields", array_fields, METH_NOARGS,
     "array_fields() -> bool | None\n\n"
     "True when the hop reads NumPy arrays' fields directly (the layout was checked against the buffer\n"
     "protocol on the first array), False when it exports every array, None before the first hop."},
    {"hop", (PyCFunction)(void (*)(void))hop, METH_FASTCALL,
     "hop(windower, chunks, one=False) -> list[Ready] | tuple | None\n\n"
     "Windower._hop in C for a windower that does not resample: the chunks held, checked for gaps\n"
     "and the ready window cut; None, with nothing held, when the general Python path must take them.\n"
     "one: a single window cut comes back as (start, samples (n, C), after_gap, address of its first sample)\n"
     "instead of [Ready]."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_hop", "The live windower's usual hop in C (see _hop.c).", -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__hop(void)
{
    static const char *names[] = {"dtype", "_ts", "_x", "buf", "lo", "hi", "timestamps", "data", "_anchor", "_j", "_restarted",
                                  "_base", "_newest", "_due", "_c_consts", "room", "_hop_cut"};
    PyObject **slots[] = {&s_dtype, &s_ts, &s_x, &s_buf, &s_lo, &s_hi, &s_timestamps, &s_data, &s_anchor, &s_j, &s_restarted,
                          &s_base, &s_newest, &s_due, &s_consts, &s_room, &s_hop_cut};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (*slots[i] == NULL && (*slots[i] = PyUnicode_InternFromString(names[i])) == NULL)
            return NULL;
    }
    return PyModule_Create(&module_def);
}
