/* The live windower's usual hop (`Windower._hop` in C, see _hop.c's top), as a C function both
 * extensions call: _hop.c's `hop` (for `Windower.push_chunks`) and _ort_wake.h's `Session.wake`,
 * which runs the window where it lies without making the window's Python objects. Included once
 * by each (one translation unit each), after <Python.h>, <structmember.h>, <math.h>, <string.h>
 * and _py_attrs.h; includes the hop's scans (_hop_scan.h) and arrays (_hop_arrays.h).
 *
 * The windower's, its held buffers' and the chunks' attributes are read and written through
 * `SlotMap`s (_py_attrs.h): `Windower`, `Held` and `Chunk` keep them in slots, so each is a load
 * or a pointer swap, and any other type (a subclass with a property, an instance dict) goes
 * through getattr / setattr with the same values. */
#ifndef SENSORLAB_HOP_CORE_H
#define SENSORLAB_HOP_CORE_H

/* The Windower's constants, in the order of `Windower._c_consts`. */
enum { K_GAP, K_AVAIL, K_HOP, K_N, K_RATE, K_LENGTH, K_MARGIN, K_LEAD, K_J0, K_EPS, K_SLACK, K_READY, K_ARRAY, K_F64, K_F32, K_NDARRAY, K_COUNT };

static PyObject *s_dtype, *s_ts, *s_x, *s_buf, *s_lo, *s_hi, *s_timestamps, *s_data, *s_device_times, *s_arrival_times, *s_anchor, *s_j,
    *s_restarted, *s_base, *s_newest, *s_due, *s_consts, *s_room, *s_hop_cut, *s_fast_hops;

/* The attributes read and written, by object (indices into each map's names). */
enum { W_TS, W_X, W_CONSTS, W_ANCHOR, W_J, W_RESTARTED, W_BASE, W_NEWEST, W_DUE, W_FAST_HOPS, W_COUNT };
enum { H_BUF, H_LO, H_HI, H_COUNT };
enum { C_DATA, C_TIMESTAMPS, C_DEVICE_TIMES, C_ARRIVAL_TIMES, C_COUNT };
static PyObject **const windower_names[W_COUNT] = {&s_ts, &s_x, &s_consts, &s_anchor, &s_j, &s_restarted, &s_base, &s_newest, &s_due, &s_fast_hops};
static PyObject **const held_names[H_COUNT] = {&s_buf, &s_lo, &s_hi};
static PyObject **const chunk_names[C_COUNT] = {&s_data, &s_timestamps, &s_device_times, &s_arrival_times};
static SlotMap windower_map = {windower_names, W_COUNT, NULL, 0, {0}};
static SlotMap held_map = {held_names, H_COUNT, NULL, 0, {0}};
static SlotMap chunk_map = {chunk_names, C_COUNT, NULL, 0, {0}};

#include "_hop_scan.h"
#include "_hop_arrays.h"

/* The names, interned; -1 on failure. */
static int hop_init(void)
{
    static const char *names[] = {"dtype", "_ts", "_x", "buf", "lo", "hi", "timestamps", "data", "device_times", "arrival_times", "_anchor", "_j",
                                  "_restarted", "_base", "_newest", "_due", "_c_consts", "room", "_hop_cut", "fast_hops"};
    static PyObject **const slots[] = {&s_dtype, &s_ts, &s_x, &s_buf, &s_lo, &s_hi, &s_timestamps, &s_data, &s_device_times, &s_arrival_times, &s_anchor,
                                       &s_j, &s_restarted, &s_base, &s_newest, &s_due, &s_consts, &s_room, &s_hop_cut, &s_fast_hops};
    return intern_names(names, slots, sizeof names / sizeof *names);
}

/* What `hop_core` did. */
enum {
    HOP_ERROR = -1,   /* an exception is set */
    HOP_REFUSED = 0,  /* nothing held: the general Python path takes the chunks */
    HOP_NONE = 1,     /* held, no window ready yet (`_due` set) */
    HOP_GENERAL = 2,  /* held; `Windower._hop_cut(k)` cuts what is ready (several windows, an edge, a number Python refuses) */
    HOP_ONE = 3,      /* held, one window cut: `Hop` says where; the windower moved on past it */
};

typedef struct {
    Py_ssize_t k;        /* samples the hop held */
    double start;        /* HOP_ONE: the window's start */
    Py_ssize_t from, n;  /* HOP_ONE: its first row in the held samples' buffer, and its samples */
    char *address;       /* HOP_ONE: where its first sample lies */
    PyObject *buf;       /* HOP_ONE: the held samples' buffer (a new reference) */
    PyObject *restarted; /* HOP_ONE: `_restarted` before the hop (a new reference): the grid restarted before this window */
    PyObject *consts;    /* HOP_ONE: `_c_consts` (a new reference) */
} Hop;

static void hop_clear(Hop *h)
{
    Py_CLEAR(h->buf);
    Py_CLEAR(h->restarted);
    Py_CLEAR(h->consts);
}

/* The held buffer's lo and hi. */
static int held_bounds(PyObject *held, Py_ssize_t *lo, Py_ssize_t *hi)
{
    return get_ssize(&held_map, held, H_LO, lo) || get_ssize(&held_map, held, H_HI, hi) ? -1 : 0;
}

/* ``_due`` for the next window (`_next_due`'s formula). */
static int set_due(PyObject *w, double anchor, Py_ssize_t j, double hop_s, double lead, double newest, double gap, Py_ssize_t j0, double slack)
{
    const double on_grid = anchor + (double)j * hop_s + lead;
    const double after_a_gap = newest + gap + (double)j0 * hop_s + lead;
    return set_double(&windower_map, w, W_DUE, (after_a_gap < on_grid ? after_a_gap : on_grid) - slack);
}

/* The usual hop of ``w`` (a `Windower`) over ``chunks`` (a list of `Chunk`s), as `Windower._hop`
 * does it: the chunks held (copied past the held samples, checked for gaps, then counted in),
 * and the window that became ready placed, the windower's state moved on past it. HOP_* above;
 * with HOP_ONE, ``h`` holds references the caller releases (`hop_clear`). */
static int hop_core(PyObject *w, PyObject *chunks, Hop *h)
{
    PyObject *hts = NULL, *hx = NULL, *consts = NULL;
    Mem tbv = {0}, xbv = {0};
    int have_tb = 0, have_xb = 0, have_chunks = 0, result = HOP_ERROR;
    Views vs;
    Py_ssize_t lo, hi, xlo, xhi, k = 0;

    memset(h, 0, sizeof *h);
    if (PyList_GET_SIZE(chunks) == 0)
        return HOP_REFUSED;
    if ((hts = attr_get(&windower_map, w, W_TS)) == NULL || (hx = attr_get(&windower_map, w, W_X)) == NULL)
        goto done;
    if (held_bounds(hts, &lo, &hi) || held_bounds(hx, &xlo, &xhi))
        goto done;
    if (hi == lo || xlo != lo || xhi != hi)
        goto refuse;
    if ((consts = attr_get(&windower_map, w, W_CONSTS)) == NULL)
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
    /* The chunks: read in place (the usual chunks, no references), else through `Mem` records. */
    k = chunks_in_place(chunks, row, f64, f32, ndarray);
    const int placed = k >= 0;
    if (!placed) {
        have_chunks = 1;
        int ok = chunk_views(chunks, &vs, row, &k, f64, f32, ndarray);
        if (ok < 0)
            goto done;
        if (!ok)
            goto refuse;
    }
    if (k == 0)
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
        if (placed && chunks_in_place(chunks, row, f64, f32, ndarray) != k)
            goto refuse; /* (Python code ran: the chunks read again before they are copied) */
    }
    double *tb = (double *)tbv.buf;
    char *xb = (char *)xbv.buf;
    /* The copies (`Copies`), written past hi: not held until the gap check passes. */
    Copies cp = {tb, xb, row, hi, hi, 0, NULL, NULL};
    if (placed)
        copy_in_place(chunks, &cp);
    else
        copy_views(&vs, &cp);
#define C(i) PyFloat_AsDouble(PyTuple_GET_ITEM(consts, i))
    const double gap = C(K_GAP), avail_off = C(K_AVAIL), hop_s = C(K_HOP), rate = C(K_RATE), length = C(K_LENGTH),
                 margin = C(K_MARGIN), lead = C(K_LEAD), eps = C(K_EPS), slack = C(K_SLACK);
#undef C
    const Py_ssize_t n = PyLong_AsSsize_t(PyTuple_GET_ITEM(consts, K_N)), j0 = PyLong_AsSsize_t(PyTuple_GET_ITEM(consts, K_J0));
    if (PyErr_Occurred())
        goto done;
    /* Gaps: between the newest held sample and these, and inside these: `max(steps) > gap`,
     * where NumPy's max of steps with a NaN is NaN (and NaN > gap is false). */
    if (any_gap_step(tb + hi - 1, k, gap)) {
        int above = 0, nan = 0;
        for (Py_ssize_t i = hi; i < hi + k; i++) {
            double step = tb[i] - tb[i - 1];
            nan |= step != step;
            above |= step > gap;
        }
        if (above && !nan)
            goto refuse; /* nothing held (hi unchanged): the general path splits them at the gap */
    }
    h->k = k;
    hi += k;
    if (set_ssize(&held_map, hts, H_HI, hi) || set_ssize(&held_map, hx, H_HI, hi))
        goto done;
    const double newest = tb[hi - 1];
    if (set_double(&windower_map, w, W_NEWEST, newest))
        goto done;
    double anchor;
    Py_ssize_t j;
    if (get_double(&windower_map, w, W_ANCHOR, &anchor) || get_ssize(&windower_map, w, W_J, &j))
        goto done;
    const double avail = newest + avail_off;
    double last_jf = -1.0;
    if (avail >= anchor - eps) {
        last_jf = (avail - anchor) / hop_s + eps;
        if (!isfinite(last_jf)) { /* math.floor refuses it: let the Python code say so */
            result = HOP_GENERAL;
            goto done;
        }
        last_jf = floor(last_jf);
    }
    if (last_jf < (double)j) { /* no window yet: `_next_due([])` */
        result = set_due(w, anchor, j, hop_s, lead, newest, gap, j0, slack) ? HOP_ERROR : HOP_NONE;
        goto done;
    }
    if (last_jf != (double)j) { /* several windows: `_push_segment` on the held samples */
        result = HOP_GENERAL;
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
        if (!isfinite(pos)) { /* Python raises here (ZeroDivisionError, round(nan)): its general cut says so */
            result = HOP_GENERAL;
            goto done;
        }
        a = (Py_ssize_t)rint(pos);
    }
    if (a < 0 || a + n > m || start + length > newest + 1.5 / rate) { /* cut_windows' edge rule: the general path */
        result = HOP_GENERAL;
        goto done;
    }
    /* The window: held samples [lo + a, lo + a + n). */
    if ((h->restarted = attr_get(&windower_map, w, W_RESTARTED)) == NULL || (h->buf = attr_get(&held_map, hx, H_BUF)) == NULL)
        goto fail;
    h->start = start;
    h->from = lo + a;
    h->n = n;
    h->address = xb + (lo + a) * row;
    h->consts = Py_NewRef(consts);
    if (h->restarted != Py_False && attr_set(&windower_map, w, W_RESTARTED, Py_NewRef(Py_False)))
        goto fail;
    j += 1;
    if (set_ssize(&windower_map, w, W_J, j))
        goto fail;
    /* Keep what the next window needs (as `_push_segment`). */
    {
        Py_ssize_t i = searchsorted(ts, m, anchor + (double)j * hop_s - margin - 2.0 / rate, 0);
        if (i > 0) {
            Py_ssize_t base;
            if (set_ssize(&held_map, hts, H_LO, lo + i) || set_ssize(&held_map, hx, H_LO, lo + i) || get_ssize(&windower_map, w, W_BASE, &base) ||
                set_ssize(&windower_map, w, W_BASE, base + i))
                goto fail;
        }
    }
    if (set_due(w, anchor, j, hop_s, lead, newest, gap, j0, slack))
        goto fail;
    result = HOP_ONE;
    goto done;

fail:
    hop_clear(h);
    goto done;
refuse:
    result = HOP_REFUSED;
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

/* The window of a HOP_ONE hop as Python objects: with ``one``, ``(start, held samples[from:from + n],
 * restarted, address)`` (the engine's one-window path: the start a float, the window (n, C), the
 * address its model input is bound to); else ``[Ready(np.array([start]), held samples[None,
 * from:from + n], restarted)]``. */
static PyObject *hop_window(const Hop *h, int one)
{
    PyObject *starts = NULL, *window = NULL, *ready = NULL, *sl = NULL, *key = NULL;
    if (one)
        starts = PyFloat_FromDouble(h->start);
    else {
        PyObject *start_list = Py_BuildValue("[d]", h->start);
        if (start_list != NULL) {
            starts = PyObject_CallOneArg(PyTuple_GET_ITEM(h->consts, K_ARRAY), start_list);
            Py_DECREF(start_list);
        }
    }
    if (starts == NULL)
        return NULL;
    PyObject *from = PyLong_FromSsize_t(h->from), *to = PyLong_FromSsize_t(h->from + h->n);
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
    if (key != NULL) {
        window = PyObject_GetItem(h->buf, key);
        Py_DECREF(key);
    }
    if (window != NULL) {
        PyObject *rargs[3] = {starts, window, h->restarted};
        if (!one)
            ready = PyObject_Vectorcall(PyTuple_GET_ITEM(h->consts, K_READY), rargs, 3, NULL);
        else {
            PyObject *address = PyLong_FromVoidPtr(h->address);
            if (address != NULL) {
                ready = PyTuple_Pack(4, starts, window, h->restarted, address);
                Py_DECREF(address);
            }
        }
    }
    Py_DECREF(starts);
    Py_XDECREF(window);
    if (ready == NULL || one)
        return ready;
    PyObject *list = PyList_New(1);
    if (list == NULL) {
        Py_DECREF(ready);
        return NULL;
    }
    PyList_SET_ITEM(list, 0, ready);
    return list;
}

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

/* What `hop_core` did, as `_hop.c`'s `hop` returns it: None (refused), [] (nothing ready), the
 * general cut's list, or the one window (`hop_window`). ``h`` is released. */
static PyObject *hop_result(PyObject *w, int r, Hop *h, int one)
{
    PyObject *out = NULL;
    switch (r) {
    case HOP_REFUSED:
        out = Py_NewRef(Py_None);
        break;
    case HOP_NONE:
        out = PyList_New(0);
        break;
    case HOP_GENERAL:
        out = hop_cut(w, h->k);
        break;
    case HOP_ONE:
        out = hop_window(h, one);
        break;
    }
    hop_clear(h);
    return out;
}

#endif
