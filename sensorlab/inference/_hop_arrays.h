/* Part of the hop (included by _hop_core.h, one translation unit, as _hop_scan.h): the hop's arrays without
 * NumPy's headers. A chunk's or a held buffer's memory, read from NumPy's array fields where
 * their layout is checked to be NumPy's, through the buffer protocol otherwise; the format,
 * contiguity and shape the hop takes, anything else refused (the general Python path takes it).
 * Uses _hop_core.h's interned name s_dtype and its held and chunk `SlotMap`s, declared before
 * it includes this. */
#ifndef SENSORLAB_HOP_ARRAYS_H
#define SENSORLAB_HOP_ARRAYS_H

static int native_format(const char *fmt, char code)
{
    /* NumPy exports native-order float32 as "f" and float64 as "d" ("<" or "=" prefixes are
     * also native on a little-endian host); ">f" (big-endian) and anything else are refused. */
    if (fmt == NULL)
        return 0;
#if PY_LITTLE_ENDIAN
    if (fmt[0] == '<' || fmt[0] == '=' || fmt[0] == '@')
#else
    if (fmt[0] == '>' || fmt[0] == '!' || fmt[0] == '=' || fmt[0] == '@')
#endif
        fmt++;
    return fmt[0] == code && fmt[1] == '\0';
}

/* NumPy's array object as every compiled extension reads it: the head of `PyArrayObject_fields`
 * (NumPy's public ABI since 1.7, unchanged in 2.x; NumPy's own macros such as PyArray_DATA read
 * these fields in every extension built against it). Reading them is ~20 instructions where the
 * buffer protocol costs ~300 an array (NumPy fills a buffer-info record per export, and the
 * dtype read that let it skip the format string is an attribute lookup): ~50 arrays a wake-up.
 * The layout is checked once against the buffer protocol (`check_fields`) before it is used;
 * where it does not match, every array goes through the buffer protocol as before. */
typedef struct {
    PyObject_HEAD
    char *data;
    int nd;
    Py_ssize_t *dimensions;
    Py_ssize_t *strides;
    PyObject *base;
    PyObject *descr;
    int flags;
} ArrayFields;
#define A_C_CONTIGUOUS 0x0001
#define A_WRITEABLE 0x0400

static int fields_ok = 0;  /* 0: not checked yet, 1: the layout above is NumPy's, -1: it is not (buffer protocol only) */

/* Whether `ArrayFields` reads ``a`` (an exact ndarray) as the buffer protocol exports it: data, shape, strides, dtype object, contiguity. */
static void check_fields(PyObject *a)
{
    Py_buffer v;
    if (PyObject_GetBuffer(a, &v, PyBUF_STRIDES | PyBUF_FORMAT) < 0) {
        PyErr_Clear();
        return;  /* (checked on a later call) */
    }
    ArrayFields *f = (ArrayFields *)a;
    int ok = f->data == (char *)v.buf && f->nd == v.ndim && f->nd >= 1 && f->nd <= 32;
    for (int i = 0; ok && i < v.ndim; i++)
        ok = f->dimensions[i] == v.shape[i] && f->strides[i] == v.strides[i];
    if (ok) {
        PyObject *dt = PyObject_GetAttr(a, s_dtype);
        if (dt == NULL)
            PyErr_Clear();
        ok = dt != NULL && dt == f->descr && ((f->flags & A_C_CONTIGUOUS) != 0) == (PyBuffer_IsContiguous(&v, 'C') != 0)
             && ((f->flags & A_WRITEABLE) != 0) == !v.readonly;
        Py_XDECREF(dt);
    }
    PyBuffer_Release(&v);
    fields_ok = ok ? 1 : -1;
}

/* An array's memory as the hop reads it: its first element, dimensions (1 or 2), and what to release. */
typedef struct {
    char *buf;
    int nd;
    Py_ssize_t shape[2];
    PyObject *obj;     /* direct: the array (a reference held until released) */
    Py_buffer view;    /* exported: the buffer */
    int exported;
} Mem;

static void release_mem(Mem *m)
{
    if (m->exported)
        PyBuffer_Release(&m->view);
    else
        Py_XDECREF(m->obj);
    m->obj = NULL;
    m->exported = 0;
}

/* The memory of ``a`` (borrowed), whose elements must be ``code`` ('d': native float64, 'f':
 * native float32), C-contiguous (and writable with ``writable``), 1 or 2 dimensions. Read from
 * the array's fields when ``a`` is exactly an ndarray of NumPy's own native dtype object
 * ``native``; any other object or dtype object (byte-swapped, or an equal one made elsewhere)
 * is exported and its format checked. 1: ok, 0: refused (no such buffer, another format),
 * -1: error. */
static int get_mem(PyObject *a, Mem *m, PyObject *native, PyObject *ndarray, char code, int writable)
{
    m->obj = NULL;
    m->exported = 0;
    if (fields_ok == 0 && (PyObject *)Py_TYPE(a) == ndarray)
        check_fields(a);
    if (fields_ok == 1 && (PyObject *)Py_TYPE(a) == ndarray) {
        ArrayFields *f = (ArrayFields *)a;
        const int need = A_C_CONTIGUOUS | (writable ? A_WRITEABLE : 0);
        if (f->descr == native && (f->flags & need) == need && (f->nd == 1 || f->nd == 2)) {
            m->buf = f->data;
            m->nd = f->nd;
            m->shape[0] = f->dimensions[0];
            m->shape[1] = f->nd == 2 ? f->dimensions[1] : 1;
            m->obj = Py_NewRef(a);
            return 1;
        }
    }
    if (PyObject_GetBuffer(a, &m->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0) {
        PyErr_Clear();
        return 0;
    }
    m->exported = 1;
    if (!native_format(m->view.format, code) || m->view.ndim < 1 || m->view.ndim > 2) {
        release_mem(m);
        return 0;
    }
    m->buf = (char *)m->view.buf;
    m->nd = m->view.ndim;
    m->shape[0] = m->view.shape[0];
    m->shape[1] = m->view.ndim == 2 ? m->view.shape[1] : 1;
    return 1;
}

/* A held array (``held.buf``): float64 1-D (code 'd') or float32 2-D ('f'), writable and C-contiguous. 1: ok, 0: refused, -1: error. */
static int held_mem(PyObject *held, Mem *m, PyObject *native, PyObject *ndarray, char code)
{
    PyObject *buf = attr_get(&held_map, held, H_BUF);
    if (buf == NULL)
        return -1;
    int r = get_mem(buf, m, native, ndarray, code, 1);
    Py_DECREF(buf);  /* (get_mem holds its own reference or buffer) */
    if (r == 1 && m->nd != (code == 'd' ? 1 : 2)) {
        release_mem(m);
        return 0;
    }
    return r;
}

typedef struct {
    Mem *v;            /* 2 per chunk: timestamps, samples */
    Py_ssize_t count;  /* held (to release) */
    Mem local[64];
} Views;

static void release_views(Views *vs)
{
    for (Py_ssize_t i = 0; i < vs->count; i++)
        release_mem(&vs->v[i]);
    if (vs->v != vs->local)
        PyMem_Free(vs->v);
}

/* Every chunk's timestamps and samples; the samples per chunk. 1: all as `_hop` takes them
 * (float64 1-D stamps; native float32 samples, C-contiguous, `row` bytes a sample, as many as
 * the stamps), 0: refused, -1: error. */
static int chunk_views(PyObject *chunks, Views *vs, Py_ssize_t row, Py_ssize_t *k_out, PyObject *f64, PyObject *f32, PyObject *ndarray)
{
    Py_ssize_t n = PyList_GET_SIZE(chunks), k = 0;
    vs->count = 0;
    vs->v = 2 * n <= 64 ? vs->local : PyMem_New(Mem, 2 * n);
    if (vs->v == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *c = PyList_GET_ITEM(chunks, i);
        PyObject *t = attr_get(&chunk_map, c, C_TIMESTAMPS); /* (slots of `Chunk`: two loads) */
        if (t == NULL)
            return -1;
        PyObject *d = attr_get(&chunk_map, c, C_DATA);
        if (d == NULL) {
            Py_DECREF(t);
            return -1;
        }
        Mem *tv = &vs->v[vs->count], *dv = &vs->v[vs->count + 1];
        /* not C-contiguous, no buffer at all, or not native float64 stamps and float32 samples: the general path */
        int ok = get_mem(t, tv, f64, ndarray, 'd', 0);
        if (ok) {
            vs->count++;
            ok = get_mem(d, dv, f32, ndarray, 'f', 0);
            if (ok)
                vs->count++;
        }
        Py_DECREF(t);
        Py_DECREF(d);
        if (!ok || tv->nd != 1)
            return 0;
        Py_ssize_t m = tv->shape[0];
        int shape_ok = dv->nd == 2 ? (dv->shape[0] == m && dv->shape[1] * 4 == row) : (dv->shape[0] == m && row == 4);
        if (!shape_ok)
            return 0;
        k += m;
    }
    *k_out = k;
    return 1;
}

/* -- chunks read in place ------------------------------------------------------------------------
 * The usual chunks (`Chunk`s, slots set, exact ndarrays of NumPy's native float64 / float32 dtype
 * objects, C-contiguous, as `_hop` takes them) read without references or `Mem` records: each
 * array's fields are read where it lies, ~10 instructions, where `get_mem` + its release cost
 * ~60 (25 chunks, 50 arrays a wake-up at 100 Hz). Borrowed: valid while no Python code runs, so
 * the hop scans again after `Held.room` (Python) before it copies. */

/* The array in ``c``'s slot at ``off`` when it is an exact ndarray of dtype object ``native``,
 * C-contiguous, 1 or 2 dimensions; else NULL. */
static inline ArrayFields *in_place(PyObject *c, Py_ssize_t off, PyObject *native, PyObject *ndarray)
{
    PyObject *a = *(PyObject **)((char *)c + off);
    if (a == NULL || (PyObject *)Py_TYPE(a) != ndarray)
        return NULL;
    ArrayFields *f = (ArrayFields *)a;
    return f->descr == native && (f->flags & A_C_CONTIGUOUS) && (f->nd == 1 || f->nd == 2) ? f : NULL;
}

/* The samples in ``chunks`` when every chunk is read in place (float64 1-D stamps; float32
 * samples (m, row / 4), or (m,) with ``row`` 4); -1 when any is not (`chunk_views` takes them). */
static Py_ssize_t chunks_in_place(PyObject *chunks, Py_ssize_t row, PyObject *f64, PyObject *f32, PyObject *ndarray)
{
    const Py_ssize_t n = PyList_GET_SIZE(chunks);
    if (fields_ok != 1 || n == 0)
        return -1;
    const SlotMap *m = slot_map(&chunk_map, PyList_GET_ITEM(chunks, 0));
    const PyTypeObject *type = m->type;
    const Py_ssize_t ots = m->off[C_TIMESTAMPS], odata = m->off[C_DATA];
    if (ots < 0 || odata < 0)
        return -1;
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *c = PyList_GET_ITEM(chunks, i);
        if (Py_TYPE(c) != type)
            return -1;
        const ArrayFields *t = in_place(c, ots, f64, ndarray), *d = in_place(c, odata, f32, ndarray);
        if (t == NULL || d == NULL || t->nd != 1)
            return -1;
        const Py_ssize_t len = t->dimensions[0];
        if (d->dimensions[0] != len || (d->nd == 2 ? d->dimensions[1] * 4 != row : row != 4))
            return -1;
        k += len;
    }
    return k;
}

/* The copies of one hop's chunks past ``hi`` in the held buffers: chunks whose arrays follow each
 * other in memory (views of one block: a replay, a source that slices one read) are copied as
 * one run, two memcpy calls for the run instead of two a chunk. */
typedef struct {
    double *tb;
    char *xb;
    Py_ssize_t row, at, run_at, run_m;
    const char *run_t, *run_x;
} Copies;

static inline void copies_flush(Copies *c)
{
    if (c->run_m > 0) {
        memcpy(c->tb + c->run_at, c->run_t, (size_t)c->run_m * 8);
        memcpy(c->xb + c->run_at * c->row, c->run_x, (size_t)(c->run_m * c->row));
    }
}

/* One chunk's ``m`` stamps at ``t`` and samples at ``x``. */
static inline void copies_add(Copies *c, const char *t, const char *x, Py_ssize_t m)
{
    if (c->run_m > 0 && t == c->run_t + c->run_m * 8 && x == c->run_x + c->run_m * c->row)
        c->run_m += m;
    else {
        copies_flush(c);
        c->run_t = t;
        c->run_x = x;
        c->run_at = c->at;
        c->run_m = m;
    }
    c->at += m;
}

/* Copy the chunks `chunks_in_place` took (no Python code run since). */
static void copy_in_place(PyObject *chunks, Copies *cp)
{
    const Py_ssize_t ots = chunk_map.off[C_TIMESTAMPS], odata = chunk_map.off[C_DATA], n = PyList_GET_SIZE(chunks);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *c = PyList_GET_ITEM(chunks, i);
        const ArrayFields *t = *(ArrayFields **)((char *)c + ots), *d = *(ArrayFields **)((char *)c + odata);
        copies_add(cp, t->data, d->data, t->dimensions[0]);
    }
    copies_flush(cp);
}

/* Copy the chunks `chunk_views` took. */
static void copy_views(const Views *vs, Copies *cp)
{
    for (Py_ssize_t i = 0; i < vs->count; i += 2)
        copies_add(cp, vs->v[i].buf, vs->v[i + 1].buf, vs->v[i].shape[0]);
    copies_flush(cp);
}

#endif
