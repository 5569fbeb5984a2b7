/* Part of _hop.c (included there, one translation unit, as _hop_scan.h): the hop's arrays without
 * NumPy's headers. A chunk's or a held buffer's memory, read from NumPy's array fields where
 * their layout is checked to be NumPy's, through the buffer protocol otherwise; the format,
 * contiguity and shape the hop takes, anything else refused (the general Python path takes it).
 * Uses the interned attribute names s_dtype, s_buf, s_timestamps and s_data of _hop.c, which
 * declares them before including this. */
#ifndef SENSORLAB_HOP_ARRAYS_H
#define SENSORLAB_HOP_ARRAYS_H
#include <structmember.h> /* PyMemberDef, T_OBJECT_EX */

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
    PyObject *buf = PyObject_GetAttr(held, s_buf);
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

/* A chunk's timestamps and samples read from its slots (`Chunk` is a slots dataclass): the slot
 * offsets of the last chunk type seen, taken from its member descriptors, so each chunk's two
 * arrays are two loads where ``getattr`` costs ~250 instructions each (type lookup, descriptor,
 * member read: what ``getattr`` itself ends in). Any other type - a subclass with its own
 * ``__getattribute__``, a class with an instance dict - goes through ``getattr``. */
static PyTypeObject *slot_type;   /* the type the offsets are for (a strong reference), or NULL */
static Py_ssize_t slot_ts = -1, slot_data = -1;

/* The offset of ``name``'s object slot (T_OBJECT_EX) in instances of ``type``, or -1. */
static Py_ssize_t slot_offset(PyTypeObject *type, PyObject *name)
{
    PyObject *d = _PyType_Lookup(type, name);  /* borrowed; NULL without an exception when absent */
    if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type))
        return -1;
    PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
    if (m->type != T_OBJECT_EX || !PyType_IsSubtype(type, PyDescr_TYPE(d)))
        return -1;
    return m->offset;
}

/* ``getattr(c, name)`` (a new reference), from the slot at ``offset`` when ``c``'s type is the one cached. */
static PyObject *chunk_attr(PyObject *c, PyObject *name, Py_ssize_t offset)
{
    if (Py_TYPE(c) != slot_type) {
        PyTypeObject *t = Py_TYPE(c);
        Py_ssize_t ts = -1, data = -1;
        if (t->tp_getattro == PyObject_GenericGetAttr) {
            ts = slot_offset(t, s_timestamps);
            data = slot_offset(t, s_data);
        }
        Py_INCREF(t);
        Py_XSETREF(slot_type, t);
        slot_ts = ts;
        slot_data = data;
        offset = name == s_timestamps ? ts : data;
    }
    if (offset >= 0) {
        PyObject *v = *(PyObject **)((char *)c + offset);
        if (v != NULL)
            return Py_NewRef(v);
    }
    return PyObject_GetAttr(c, name);  /* (an unset slot: its AttributeError) */
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
        PyObject *t = chunk_attr(c, s_timestamps, slot_ts);
        if (t == NULL)
            return -1;
        PyObject *d = chunk_attr(c, s_data, slot_data);
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

#endif
