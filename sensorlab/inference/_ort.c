/* sensorlab.inference._ort: the live model run through onnxruntime's C API, with the GIL released.
 *
 * onnxruntime's Python binding costs 6-20 us a call before the model runs (argument conversion,
 * its IOBinding wrapper, pybind11's dispatch): for a sensor-size model that is half the run. Here
 * a session is created from the fused graph's bytes (`sensorlab.inference.fused`) once, every
 * input and output is an OrtValue over an array the Python side allocated (and keeps alive), and
 * a window is ONE call: rebind the raw input when the window lies elsewhere, OrtApi::Run with the
 * GIL released, copy the recurrent state outputs into the state inputs, copy the probabilities
 * into the caller's row (`Session.run`). The engine's usual wake-up is one call too
 * (`Session.wake`): the hop (`_hop_core.h`, compiled in here as in `_hop.c`), the run of the
 * window it cut where it lies, the predictions chunk, the stats and the hand-over to the sink.
 *
 * No link-time dependency on onnxruntime: `load(path)` dlopens the shared library the onnxruntime
 * wheel ships (onnxruntime/capi/libonnxruntime.so.<version>, which exports OrtGetApiBase), so this
 * file builds with a C compiler and Python's headers alone, like _hop.c. onnxruntime's header is
 * not needed either: the few entry points used are declared below by their slot in the OrtApi
 * function table. That table's ABI is defined by `struct OrtApi` in onnxruntime's
 * include/onnxruntime/core/session/onnxruntime_c_api.h (microsoft/onnxruntime): it only ever
 * grows at its end (a new API version appends slots; existing slots never move), so a slot
 * index used here is valid in every release whose API version is at least the one requested.
 * `load` checks the version string, that GetApi returns a table, and that the status slots
 * behave as declared (a status made, its code and message read back, released) before anything
 * else is called; any failure is a reason string, and the engine keeps onnxruntime's Python
 * binding (`sensorlab.inference.ort_ext`).
 *
 * In four files, one translation unit (setup.py compiles this one; it includes the others): this
 * one, the module and the Session type's tables; _ort_api.h, the ABI declared by slot and `load`;
 * _ort_session.h, the Session (made over the caller's arrays, one window's run); _ort_wake.h, the
 * engine's usual wake-up in one call (hop, run, predictions chunk, stats, hand-over). Shared with
 * _hop.c: _hop_core.h (the hop, with its _hop_scan.h and _hop_arrays.h) and _py_attrs.h
 * (attributes read and written through slots).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <structmember.h> /* PyMemberDef, T_OBJECT_EX */
#include <time.h>

#include "_py_attrs.h"
#include "_hop_core.h"
#include "_ort_api.h"
#include "_ort_session.h"
#include "_ort_wake.h"

static PyObject *session_bound_at(Session *s, void *closure)
{
    return PyLong_FromVoidPtr(s->ins[s->raw].data);
}

static PyMethodDef session_methods[] = {
    {"run", (PyCFunction)(void (*)(void))session_run, METH_FASTCALL, "run(address, out, held): one window (see _ort.c)"},
    {"wake", (PyCFunction)(void (*)(void))session_wake, METH_FASTCALL,
     "wake(windower, chunks, stats, sink, name, consts): the engine's usual wake-up (see _ort_wake.h)"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef session_getset[] = {
    {"bound_at", (getter)session_bound_at, NULL, "the address the raw input reads from", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject SessionType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "sensorlab.inference._ort.Session",
    .tp_basicsize = sizeof(Session),
    .tp_dealloc = (destructor)session_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An onnxruntime session over preallocated buffers, run through the C API (see _ort.c).",
    .tp_methods = session_methods,
    .tp_getset = session_getset,
    .tp_new = session_new,
};

static PyMethodDef methods[] = {
    {"load", load, METH_O, "load(path) -> version: dlopen onnxruntime's library and take its C API"},
    {"numpy_api", numpy_api, METH_NOARGS, "numpy_api() -> str: '' when Session.wake can make NumPy arrays, else why not"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ort", "onnxruntime's C API for the live model run (see _ort.c).", -1, methods};

PyMODINIT_FUNC PyInit__ort(void)
{
    if (PyType_Ready(&SessionType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (wake_init() < 0)
        return NULL;
    OrtError = PyErr_NewException("sensorlab.inference._ort.OrtError", PyExc_RuntimeError, NULL);
    if (OrtError == NULL || PyModule_AddObject(m, "OrtError", OrtError) < 0)
        return NULL;
    Py_INCREF(OrtError);
    Py_INCREF(&SessionType);
    if (PyModule_AddObject(m, "Session", (PyObject *)&SessionType) < 0)
        return NULL;
    return m;
}
