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
 * In five files, one translation unit (setup.py compiles this one; it includes the others):
 * this one, the module; _hop_core.h, the hop as a C function (which _ort.c's one-call wake-up
 * calls too); _hop_scan.h, the scans of the held timestamps (binary search, gap check with its
 * AVX2 dispatch); _hop_arrays.h, reading the chunks' and held buffers' arrays; _py_attrs.h
 * (shared with _ort.c), attributes read and written through slots.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>
#include <structmember.h> /* PyMemberDef, T_OBJECT_EX */

#include "_py_attrs.h"
#include "_hop_core.h"

static PyObject *hop(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 && nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "hop(windower, chunks, one=False)");
        return NULL;
    }
    const int one = nargs == 3 ? PyObject_IsTrue(args[2]) : 0;
    if (one < 0)
        return NULL;
    if (!PyList_Check(args[1]))
        Py_RETURN_NONE; /* (the engine hands over a list) */
    Hop h;
    const int r = hop_core(args[0], args[1], &h);
    return r == HOP_ERROR ? NULL : hop_result(args[0], r, &h, one);
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
    if (hop_init() < 0)
        return NULL;
    return PyModule_Create(&module_def);
}
