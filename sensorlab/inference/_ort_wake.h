/* Part of _ort.c (included after _ort_session.h): the engine's whole usual wake-up in one call.
 *
 * `Session.wake` does what `InferenceProcessor._run_one` + `_emit_one` do in Python for the usual
 * hop, with the same arithmetic in the same order (IEEE doubles, no contraction: setup.py builds
 * with -ffp-contract=off), so the predictions chunk and the stats are the Python path's bits: the
 * hop (`_hop_core.h`, the same C code as `_hop.c`'s), the run of the window where it lies, the predictions chunk (four new arrays, a
 * `Chunk` made as `object.__new__` makes it), the stats (`InferenceStats`, `StreamStats.count_one`)
 * and the hand-over to the sink. Python's part of a wake-up is then one call.
 *
 * The chunk's arrays are made through NumPy's C API table, taken at run time from the capsule
 * NumPy exports for compiled extensions (no NumPy headers, like _hop.c: the few entries used are
 * declared by their index in that table, which NumPy keeps fixed within an ABI version; the ABI
 * version is checked first). Without it (`numpy_api` says why), the engine keeps its Python
 * bookkeeping around `Session.run`. */
#ifndef SENSORLAB_ORT_WAKE_H
#define SENSORLAB_ORT_WAKE_H

static PyObject *empty_tuple;
static PyObject *s_latency_ms, *s_latency_ms_mean, *s_windows, *s_lag_ms, *s_samples, *s_first_time, *s_last_time, *s_last_arrival;
/* The stats' attributes the wake-up writes (`InferenceStats`, a slots dataclass: see _py_attrs.h). */
enum { S_LATENCY_MS, S_LATENCY_MS_MEAN, S_WINDOWS, S_LAG_MS, S_SAMPLES, S_FIRST_TIME, S_LAST_TIME, S_LAST_ARRIVAL, S_COUNT };
static PyObject **const stats_names[S_COUNT] = {&s_latency_ms, &s_latency_ms_mean, &s_windows, &s_lag_ms, &s_samples, &s_first_time, &s_last_time, &s_last_arrival};
static SlotMap stats_map = {stats_names, S_COUNT, NULL, 0, {0}};

/* The host clock `sensorlab.acquisition.clock.now` reads (time.monotonic: CLOCK_MONOTONIC). */
static double monotonic(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)((int64_t)t.tv_sec * 1000000000 + t.tv_nsec) / 1e9;
}

/* -- NumPy's C API table (only what the predictions chunk needs) -------------------------------- */
enum { NP_GetNDArrayCVersion = 0, NP_Type = 2, NP_DescrFromType = 45, NP_NewFromDescr = 94 };
enum { NPY_FLOAT_CODE = 11, NPY_DOUBLE_CODE = 12 };
/* NumPy's ABI versions whose table holds these entries at these indices (1.x: 0x01000009, 2.x). */
#define NP_ABI_1 0x01000009u
#define NP_ABI_2 0x02000000u
typedef PyObject *(*DescrFromType_t)(int);
typedef PyObject *(*NewFromDescr_t)(PyTypeObject *, PyObject *, int, const Py_ssize_t *, const Py_ssize_t *, void *, int, PyObject *);
/* The head of NumPy's array object (`PyArrayObject_fields`, its public ABI): the data pointer,
 * which NumPy's own PyArray_DATA macro reads in every extension built against it. */
typedef struct {
    PyObject_HEAD
    char *data;
} NpHead;

static void **np_api;
static PyObject *np_why; /* why not, once asked and refused */

/* 1: NumPy's table is taken; 0: it cannot be (the reason in np_why). */
static int numpy_api_ready(void)
{
    if (np_api != NULL)
        return 1;
    if (np_why != NULL)
        return 0;
    PyObject *m = PyImport_ImportModule("numpy._core._multiarray_umath");
    if (m == NULL) {
        PyErr_Clear();
        m = PyImport_ImportModule("numpy.core._multiarray_umath");
    }
    PyObject *cap = m ? PyObject_GetAttrString(m, "_ARRAY_API") : NULL;
    Py_XDECREF(m); /* (the module, imported by numpy, stays loaded: the table stays valid) */
    void **api = cap ? PyCapsule_GetPointer(cap, NULL) : NULL;
    Py_XDECREF(cap);
    if (api == NULL) {
        PyErr_Clear();
        np_why = PyUnicode_FromString("NumPy exports no _ARRAY_API capsule");
        return 0;
    }
    unsigned v = ((unsigned (*)(void))api[NP_GetNDArrayCVersion])();
    if (v != NP_ABI_1 && v != NP_ABI_2) {
        np_why = PyUnicode_FromFormat("NumPy's C ABI version %x is not one whose table _ort_wake.h knows", v);
        return 0;
    }
    np_api = api;
    return 1;
}

/* A new C-contiguous array of NumPy type ``code`` and shape ``dims`` (np.empty's), its data in ``*data``. */
static PyObject *new_array(int code, int nd, const Py_ssize_t *dims, char **data)
{
    PyObject *descr = ((DescrFromType_t)np_api[NP_DescrFromType])(code);
    if (descr == NULL)
        return NULL;
    PyObject *a = ((NewFromDescr_t)np_api[NP_NewFromDescr])((PyTypeObject *)np_api[NP_Type], descr, nd, dims, NULL, NULL, 0, NULL); /* (steals descr) */
    if (a != NULL)
        *data = ((NpHead *)a)->data;
    return a;
}

/* numpy_api() -> str: "" when `Session.wake` can make the predictions chunk's arrays, else why not. */
static PyObject *numpy_api(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    if (numpy_api_ready())
        return PyUnicode_FromString("");
    return Py_NewRef(np_why);
}

/* -- the wake-up -------------------------------------------------------------------------------- */

/* The stats of one window run between t0 and t1, ending at ``end``: `_emit_one`'s, in its order. */
static int count_window(PyObject *st, double end, double t0, double t1, double period, double ewma)
{
    const double per = (t1 - t0) * 1000.0;
    double mean;
    if (set_double(&stats_map, st, S_LATENCY_MS, per) < 0 || get_double(&stats_map, st, S_LATENCY_MS_MEAN, &mean) < 0)
        return -1;
    if (set_double(&stats_map, st, S_LATENCY_MS_MEAN, mean != mean ? per : (1 - ewma) * mean + ewma * per) < 0 || add_one(&stats_map, st, S_WINDOWS) < 0 ||
        set_double(&stats_map, st, S_LAG_MS, (t1 - end + period) * 1000.0) < 0)
        return -1;
    /* StreamStats.count_one(1, end, end, t1) */
    PyObject *n = attr_get(&stats_map, st, S_SAMPLES);
    if (n == NULL)
        return -1;
    const int first = PyObject_Not(n); /* (an int: samples == 0) */
    Py_DECREF(n);
    if (first < 0)
        return -1;
    if ((first && set_double(&stats_map, st, S_FIRST_TIME, end) < 0) || add_one(&stats_map, st, S_SAMPLES) < 0 ||
        set_double(&stats_map, st, S_LAST_TIME, end) < 0 || set_double(&stats_map, st, S_LAST_ARRIVAL, t1) < 0)
        return -1;
    return 0;
}

/* wake(windower, chunks, stats, sink, name, consts): the engine's whole usual wake-up.
 *
 * The usual hop of ``windower`` over ``chunks`` (`_hop_core.h`'s, as `Windower.push_chunks(chunks,
 * True)` with the C hop: the chunks held and cut). When it gives one window without a gap
 * before it, that window is run where it lies (bound to its address, the GIL released), and the
 * predictions chunk ``Chunk(probs (1, classes) float32, [end], [start], [t1])`` is made,
 * ``stats`` (the stream's `InferenceStats`) counts it, and ``sink(name, chunk)`` is called when
 * ``sink`` is not None, all as `InferenceProcessor._emit_one` does; then True is returned.
 * ``consts``: (window length s, sample period s, the running mean's weight, the `Chunk` type),
 * from the engine. Anything else the hop gives is returned as `Windower.push_chunks` returns
 * it, for the engine's Python path: None (the hop refused: nothing was held), a list of `Ready`
 * (several windows, or none yet), or the one-window tuple ``(start, window, after_gap,
 * address)`` after a gap (a stateful model's state must be reset first). The windower's
 * ``fast_hops`` counts the hops served, as `Windower.push_chunks` counts them. No Python object
 * is made for the window itself: the run reads the held samples' buffer (kept alive while the
 * input is bound there) at the window's address. */
static PyObject *session_wake(Session *s, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6 || !PyTuple_CheckExact(args[5]) || PyTuple_GET_SIZE(args[5]) != 4 ||
        !PyType_Check(PyTuple_GET_ITEM(args[5], 3))) {
        PyErr_SetString(PyExc_TypeError, "wake(windower, chunks, stats, sink, name, (length, period, ewma, Chunk))");
        return NULL;
    }
    if (s->busy) {
        PyErr_SetString(PyExc_RuntimeError, "this session is running on another thread");
        return NULL;
    }
    if (!numpy_api_ready()) {
        PyErr_Format(PyExc_RuntimeError, "Session.wake cannot make arrays: %U", np_why);
        return NULL;
    }
    PyObject *w = args[0], *consts = args[5];
    const double length = PyFloat_AsDouble(PyTuple_GET_ITEM(consts, 0)), period = PyFloat_AsDouble(PyTuple_GET_ITEM(consts, 1)),
                 ewma = PyFloat_AsDouble(PyTuple_GET_ITEM(consts, 2));
    if (PyErr_Occurred())
        return NULL;
    if (!PyList_Check(args[1]))
        Py_RETURN_NONE; /* (the engine hands over a list) */
    Hop h;
    const int r = hop_core(w, args[1], &h);
    if (r == HOP_ERROR)
        return NULL;
    if (r == HOP_REFUSED)
        Py_RETURN_NONE;
    if (add_one(&windower_map, w, W_FAST_HOPS) < 0) {
        hop_clear(&h);
        return NULL;
    }
    if (r != HOP_ONE || h.restarted != Py_False)
        return hop_result(w, r, &h, 1);
    const double start = h.start;
    int bound = bind_raw(s, h.address, h.buf);
    hop_clear(&h);
    if (bound < 0)
        return NULL;
    /* The chunk's arrays are made before the run, as `_run_one` makes them (NumPy's code is still
     * in the caches here; after a model run it is fetched again). */
    Tensor *p = &s->outs[s->probs];
    const Py_ssize_t probs_dims[2] = {1, (Py_ssize_t)(p->nbytes / 4)}, one_dim[1] = {1};
    char *pd = NULL, *ed = NULL, *sd = NULL, *ad = NULL;
    PyObject *probs = new_array(NPY_FLOAT_CODE, 2, probs_dims, &pd);
    PyObject *ends = probs ? new_array(NPY_DOUBLE_CODE, 1, one_dim, &ed) : NULL;
    PyObject *starts = ends ? new_array(NPY_DOUBLE_CODE, 1, one_dim, &sd) : NULL;
    PyObject *arrival = starts ? new_array(NPY_DOUBLE_CODE, 1, one_dim, &ad) : NULL;
    PyObject *chunk = NULL, *result = NULL;
    if (arrival == NULL)
        goto done;
    const double t0 = monotonic();
    if (run_once(s) < 0)
        goto done;
    const double t1 = monotonic();
    memcpy(pd, p->data, (size_t)probs_dims[1] * 4);
    const double end = start + length; /* (float64, as run_windows' starts + window) */
    memcpy(ed, &end, 8);
    memcpy(sd, &start, 8);
    memcpy(ad, &t1, 8);
    /* `object.__new__(Chunk)` and its four fields set, as `_emit_one` makes it. */
    PyTypeObject *chunk_type = (PyTypeObject *)PyTuple_GET_ITEM(consts, 3);
    chunk = PyBaseObject_Type.tp_new(chunk_type, empty_tuple, NULL);
    if (chunk == NULL || attr_set(&chunk_map, chunk, C_DATA, Py_NewRef(probs)) < 0 || attr_set(&chunk_map, chunk, C_TIMESTAMPS, Py_NewRef(ends)) < 0 ||
        attr_set(&chunk_map, chunk, C_DEVICE_TIMES, Py_NewRef(starts)) < 0 || attr_set(&chunk_map, chunk, C_ARRIVAL_TIMES, Py_NewRef(arrival)) < 0)
        goto done;
    if (count_window(args[2], end, t0, t1, period, ewma) < 0)
        goto done;
    if (args[3] != Py_None) {
        PyObject *hand[2] = {args[4], chunk};
        PyObject *got = PyObject_Vectorcall(args[3], hand, 2, NULL);
        if (got == NULL)
            goto done;
        Py_DECREF(got);
    }
    result = Py_NewRef(Py_True);
done:
    Py_XDECREF(chunk);
    Py_XDECREF(probs);
    Py_XDECREF(ends);
    Py_XDECREF(starts);
    Py_XDECREF(arrival);
    return result;
}

/* The interned names and constants the wake-up uses; -1 on failure. */
static int wake_init(void)
{
    static const char *names[] = {"latency_ms", "latency_ms_mean", "windows", "lag_ms", "samples", "first_time", "last_time", "last_arrival"};
    static PyObject **const slots[] = {&s_latency_ms, &s_latency_ms_mean, &s_windows, &s_lag_ms, &s_samples, &s_first_time, &s_last_time, &s_last_arrival};
    if (hop_init() < 0 || intern_names(names, slots, sizeof names / sizeof *names) < 0)
        return -1;
    empty_tuple = PyTuple_New(0);
    return empty_tuple != NULL ? 0 : -1;
}

#endif
