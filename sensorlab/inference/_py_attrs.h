/* Shared by _hop.c and _ort.c (each includes it once, one translation unit each): Python
 * attributes read and written from C, through the instance's slot where its type stores the
 * attribute in one, else ``getattr`` / ``setattr``.
 *
 * ``getattr`` on an instance costs ~150-250 instructions (the type's attribute cache, the
 * descriptor, the instance's dict or member read); a wake-up reads and writes ~40 attributes of
 * the windower, its held buffers, the stats and the predictions chunk. Where the type stores the
 * attribute in a slot (``__slots__``: a member descriptor of an object slot, found on the type as
 * ``getattr`` finds it), the value is one load and a store swaps one pointer: what ``getattr`` and
 * ``setattr`` end in. The slot offsets of one type are taken once (`SlotMap`) and used while the
 * type is the same, unmodified one (its version tag, which CPython clears on any change to the
 * type or a base: a property put over a slot, a new ``__setattr__``); any other type, a modified
 * type, or an attribute the type does not store in a slot goes through ``getattr`` / ``setattr``,
 * so the values are always those Python code sees. Needs <Python.h> and <structmember.h>. */
#ifndef SENSORLAB_PY_ATTRS_H
#define SENSORLAB_PY_ATTRS_H

#define SLOT_MAX 16

/* One type's slot offsets for a fixed list of attribute names. */
typedef struct {
    PyObject **const *names; /* the interned names (pointers to the module's globals), ``n`` of them */
    int n;
    PyTypeObject *type;      /* the type the offsets are for (a strong reference), or NULL */
    unsigned int tag;        /* its version tag then (0: not one, so never matched) */
    Py_ssize_t off[SLOT_MAX]; /* -1: not a plain object slot (getattr / setattr) */
} SlotMap;

#ifdef Py_TPFLAGS_VALID_VERSION_TAG
#define TYPE_TAG(t) (((t)->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) ? (t)->tp_version_tag : 0u)
#else
#define TYPE_TAG(t) ((t)->tp_version_tag)
#endif

/* The offset of ``name``'s object slot in instances of ``type``, where ``getattr`` and ``setattr``
 * read and write that slot and nothing else; else -1. */
static Py_ssize_t slot_offset(PyTypeObject *type, PyObject *name)
{
    if (type->tp_getattro != PyObject_GenericGetAttr || type->tp_setattro != PyObject_GenericSetAttr)
        return -1; /* (a __getattr__, __getattribute__ or __setattr__ of its own) */
    PyObject *d = _PyType_Lookup(type, name); /* borrowed; NULL without an exception when absent */
    if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type))
        return -1;
    PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
    if (m->type != T_OBJECT_EX || (m->flags & READONLY) || !PyType_IsSubtype(type, PyDescr_TYPE(d)))
        return -1;
    return m->offset;
}

/* The map for ``o``'s type: kept while that type is unmodified, else taken again. */
static inline SlotMap *slot_map(SlotMap *m, PyObject *o)
{
    PyTypeObject *t = Py_TYPE(o);
    if (t == m->type && m->tag != 0 && TYPE_TAG(t) == m->tag)
        return m;
    for (int i = 0; i < m->n; i++)
        m->off[i] = slot_offset(t, *m->names[i]); /* (the lookups give the type a version tag) */
    Py_INCREF(t);
    Py_XSETREF(m->type, t);
    m->tag = TYPE_TAG(t);
    return m;
}

/* ``getattr(o, names[i])``: a new reference, or NULL with the exception set. */
static inline PyObject *attr_get(SlotMap *m, PyObject *o, int i)
{
    const Py_ssize_t off = slot_map(m, o)->off[i];
    if (off >= 0) {
        PyObject *v = *(PyObject **)((char *)o + off);
        if (v != NULL)
            return Py_NewRef(v);
    }
    return PyObject_GetAttr(o, *m->names[i]); /* (an unset slot: its AttributeError) */
}

/* ``setattr(o, names[i], v)``, the reference to ``v`` taken over (NULL: -1, the error already set). */
static inline int attr_set(SlotMap *m, PyObject *o, int i, PyObject *v)
{
    if (v == NULL)
        return -1;
    const Py_ssize_t off = slot_map(m, o)->off[i];
    if (off >= 0) {
        Py_XSETREF(*(PyObject **)((char *)o + off), v);
        return 0;
    }
    const int r = PyObject_SetAttr(o, *m->names[i], v);
    Py_DECREF(v);
    return r;
}

static inline int get_double(SlotMap *m, PyObject *o, int i, double *out)
{
    PyObject *v = attr_get(m, o, i);
    if (v == NULL)
        return -1;
    *out = PyFloat_AsDouble(v);
    Py_DECREF(v);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

static inline int get_ssize(SlotMap *m, PyObject *o, int i, Py_ssize_t *out)
{
    PyObject *v = attr_get(m, o, i);
    if (v == NULL)
        return -1;
    *out = PyLong_AsSsize_t(v);
    Py_DECREF(v);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

/* ``o.names[i] = value`` for a new float. */
static inline int set_double(SlotMap *m, PyObject *o, int i, double value)
{
    return attr_set(m, o, i, PyFloat_FromDouble(value));
}

static inline int set_ssize(SlotMap *m, PyObject *o, int i, Py_ssize_t value)
{
    return attr_set(m, o, i, PyLong_FromSsize_t(value));
}

/* ``o.names[i] += 1`` (Python's int addition). */
static inline int add_one(SlotMap *m, PyObject *o, int i)
{
    static PyObject *one;
    if (one == NULL && (one = PyLong_FromLong(1)) == NULL)
        return -1;
    PyObject *n = attr_get(m, o, i);
    if (n == NULL)
        return -1;
    PyObject *n1 = PyNumber_Add(n, one);
    Py_DECREF(n);
    return attr_set(m, o, i, n1);
}

/* The interned names of ``count`` attributes into ``slots`` (once); -1 on failure. */
static int intern_names(const char *const *names, PyObject **const *slots, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (*slots[i] == NULL && (*slots[i] = PyUnicode_InternFromString(names[i])) == NULL)
            return -1;
    return 0;
}

#endif
