/* sensorlab.inference._ort: the live model run through onnxruntime's C API, with the GIL released.
 *
 * onnxruntime's Python binding costs 6-20 us a call before the model runs (argument conversion,
 * its IOBinding wrapper, pybind11's dispatch): for a sensor-size model that is half the run. Here
 * a session is created from the fused graph's bytes (`sensorlab.inference.fused`) once, every
 * input and output is an OrtValue over an array the Python side allocated (and keeps alive), and
 * a window is ONE call: rebind the raw input when the window lies elsewhere, OrtApi::Run with the
 * GIL released, copy the recurrent state outputs into the state inputs, copy the probabilities
 * into the caller's row (`Session.run`). The engine's usual wake-up is one call too
 * (`Session.hop_run`): `_hop.c`'s hop, then the run of the window it cut, where it lies.
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
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* -- the part of onnxruntime's C ABI used here ------------------------------------------------- */
typedef struct OrtStatus OrtStatus;
typedef struct OrtEnv OrtEnv;
typedef struct OrtSession OrtSession;
typedef struct OrtSessionOptions OrtSessionOptions;
typedef struct OrtMemoryInfo OrtMemoryInfo;
typedef struct OrtValue OrtValue;
typedef struct OrtApi OrtApi; /* opaque: read as a table of function pointers */

typedef struct {
    const OrtApi *(*GetApi)(uint32_t version);
    const char *(*GetVersionString)(void);
} OrtApiBase;

/* API version requested from GetApi: 1, the first stable table, holds every slot below. */
#define API_VERSION 1

/* Slot indices in `struct OrtApi` (onnxruntime_c_api.h, counted from its first member). */
enum {
    SLOT_CreateStatus = 0,
    SLOT_GetErrorCode = 1,
    SLOT_GetErrorMessage = 2,
    SLOT_CreateEnv = 3,
    SLOT_CreateSessionFromArray = 8,
    SLOT_Run = 9,
    SLOT_CreateSessionOptions = 10,
    SLOT_SetSessionExecutionMode = 13,
    SLOT_SetSessionLogSeverityLevel = 22,
    SLOT_SetSessionGraphOptimizationLevel = 23,
    SLOT_SetIntraOpNumThreads = 24,
    SLOT_SetInterOpNumThreads = 25,
    SLOT_CreateTensorWithDataAsOrtValue = 49,
    SLOT_CreateCpuMemoryInfo = 69,
    SLOT_ReleaseEnv = 92,
    SLOT_ReleaseStatus = 93,
    SLOT_ReleaseMemoryInfo = 94,
    SLOT_ReleaseSession = 95,
    SLOT_ReleaseValue = 96,
    SLOT_ReleaseSessionOptions = 100,
};

/* Enumerations (the header's values). */
enum { ORT_LOGGING_LEVEL_ERROR = 3 };
enum { ORT_SEQUENTIAL = 0 };
enum { ORT_ENABLE_ALL = 99 };
enum { OrtArenaAllocator = 1 };
enum { OrtMemTypeDefault = 0 };
enum { ORT_INVALID_ARGUMENT = 2 };

typedef OrtStatus *(*CreateStatus_t)(int code, const char *msg);
typedef int (*GetErrorCode_t)(const OrtStatus *);
typedef const char *(*GetErrorMessage_t)(const OrtStatus *);
typedef OrtStatus *(*CreateEnv_t)(int level, const char *logid, OrtEnv **out);
typedef OrtStatus *(*CreateSessionFromArray_t)(const OrtEnv *, const void *data, size_t len, const OrtSessionOptions *, OrtSession **out);
typedef OrtStatus *(*Run_t)(OrtSession *, const void *run_options, const char *const *input_names, const OrtValue *const *inputs, size_t n_in,
                            const char *const *output_names, size_t n_out, OrtValue **outputs);
typedef OrtStatus *(*CreateSessionOptions_t)(OrtSessionOptions **out);
typedef OrtStatus *(*SetInt_t)(OrtSessionOptions *, int);
typedef OrtStatus *(*CreateTensorWithData_t)(const OrtMemoryInfo *, void *data, size_t nbytes, const int64_t *shape, size_t ndim, int type, OrtValue **out);
typedef OrtStatus *(*CreateCpuMemoryInfo_t)(int allocator, int memtype, OrtMemoryInfo **out);
typedef void (*Release_t)(void *);

static struct {
    CreateStatus_t CreateStatus;
    GetErrorCode_t GetErrorCode;
    GetErrorMessage_t GetErrorMessage;
    CreateEnv_t CreateEnv;
    CreateSessionFromArray_t CreateSessionFromArray;
    Run_t Run;
    CreateSessionOptions_t CreateSessionOptions;
    SetInt_t SetSessionExecutionMode, SetSessionLogSeverityLevel, SetSessionGraphOptimizationLevel, SetIntraOpNumThreads, SetInterOpNumThreads;
    CreateTensorWithData_t CreateTensorWithDataAsOrtValue;
    CreateCpuMemoryInfo_t CreateCpuMemoryInfo;
    Release_t ReleaseEnv, ReleaseStatus, ReleaseMemoryInfo, ReleaseSession, ReleaseValue, ReleaseSessionOptions;
} ort;

static void *lib;              /* the dlopened library (never closed: sessions may outlive everything) */
static OrtEnv *env;            /* one per process, made by the first session */
static OrtMemoryInfo *cpu_mem; /* where every bound buffer lives */
static PyObject *loaded_version; /* the library's version string, once loaded */
static PyObject *OrtError;     /* _ort.OrtError: a status onnxruntime returned */

/* onnxruntime's status code names, as its Python binding prints them. */
static const char *code_name(int code)
{
    static const char *names[] = {"OK", "FAIL", "INVALID_ARGUMENT", "NO_SUCHFILE", "NO_MODEL", "ENGINE_ERROR", "RUNTIME_EXCEPTION",
                                  "INVALID_PROTOBUF", "MODEL_LOADED", "NOT_IMPLEMENTED", "INVALID_GRAPH", "EP_FAIL"};
    return code >= 0 && code < (int)(sizeof names / sizeof *names) ? names[code] : "UNKNOWN";
}

/* A non-NULL status → OrtError with the message the Python binding's exception carries for the
 * same failure ("[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : ..." from InferenceSession and
 * session.run), the status released; returns -1. */
static int fail(OrtStatus *st)
{
    int code = ort.GetErrorCode(st);
    PyErr_Format(OrtError, "[ONNXRuntimeError] : %d : %s : %s", code, code_name(code), ort.GetErrorMessage(st));
    ort.ReleaseStatus(st);
    return -1;
}

/* A failed run: the message of the Python binding's `run_with_iobinding` (the call this replaces). */
static int run_failed(OrtStatus *st)
{
    PyErr_Format(OrtError, "Error in execution: %s", ort.GetErrorMessage(st));
    ort.ReleaseStatus(st);
    return -1;
}

#define SLOT(api, i) (((void *const *)(api))[i])

/* load(path) -> version: dlopen onnxruntime's shared library and take its C API (see the top). */
static PyObject *load(PyObject *self, PyObject *arg)
{
    if (loaded_version != NULL) {
        Py_INCREF(loaded_version);
        return loaded_version;
    }
    PyObject *bytes;
    if (!PyUnicode_FSConverter(arg, &bytes))
        return NULL;
    void *h = dlopen(PyBytes_AS_STRING(bytes), RTLD_NOW | RTLD_LOCAL);
    Py_DECREF(bytes);
    if (h == NULL) {
        const char *e = dlerror();
        PyErr_Format(PyExc_ImportError, "cannot load onnxruntime's library: %s", e ? e : "dlopen failed");
        return NULL;
    }
    const OrtApiBase *(*get_base)(void) = (const OrtApiBase *(*)(void))dlsym(h, "OrtGetApiBase");
    const OrtApiBase *base = get_base ? get_base() : NULL;
    if (base == NULL || base->GetApi == NULL || base->GetVersionString == NULL) {
        dlclose(h);
        PyErr_SetString(PyExc_ImportError, "the library exports no OrtGetApiBase (not onnxruntime's C API)");
        return NULL;
    }
    const char *version = base->GetVersionString();
    if (version == NULL || strncmp(version, "1.", 2) != 0) {
        PyErr_Format(PyExc_ImportError, "onnxruntime %s: only the 1.x C API's table layout is known here", version ? version : "(no version)");
        dlclose(h);
        return NULL;
    }
    const OrtApi *api = base->GetApi(API_VERSION);
    if (api == NULL) {
        PyErr_Format(PyExc_ImportError, "onnxruntime %s returned no C API for version %d", version, API_VERSION);
        dlclose(h);
        return NULL;
    }
    ort.CreateStatus = (CreateStatus_t)SLOT(api, SLOT_CreateStatus);
    ort.GetErrorCode = (GetErrorCode_t)SLOT(api, SLOT_GetErrorCode);
    ort.GetErrorMessage = (GetErrorMessage_t)SLOT(api, SLOT_GetErrorMessage);
    ort.CreateEnv = (CreateEnv_t)SLOT(api, SLOT_CreateEnv);
    ort.CreateSessionFromArray = (CreateSessionFromArray_t)SLOT(api, SLOT_CreateSessionFromArray);
    ort.Run = (Run_t)SLOT(api, SLOT_Run);
    ort.CreateSessionOptions = (CreateSessionOptions_t)SLOT(api, SLOT_CreateSessionOptions);
    ort.SetSessionExecutionMode = (SetInt_t)SLOT(api, SLOT_SetSessionExecutionMode);
    ort.SetSessionLogSeverityLevel = (SetInt_t)SLOT(api, SLOT_SetSessionLogSeverityLevel);
    ort.SetSessionGraphOptimizationLevel = (SetInt_t)SLOT(api, SLOT_SetSessionGraphOptimizationLevel);
    ort.SetIntraOpNumThreads = (SetInt_t)SLOT(api, SLOT_SetIntraOpNumThreads);
    ort.SetInterOpNumThreads = (SetInt_t)SLOT(api, SLOT_SetInterOpNumThreads);
    ort.CreateTensorWithDataAsOrtValue = (CreateTensorWithData_t)SLOT(api, SLOT_CreateTensorWithDataAsOrtValue);
    ort.CreateCpuMemoryInfo = (CreateCpuMemoryInfo_t)SLOT(api, SLOT_CreateCpuMemoryInfo);
    ort.ReleaseEnv = (Release_t)SLOT(api, SLOT_ReleaseEnv);
    ort.ReleaseStatus = (Release_t)SLOT(api, SLOT_ReleaseStatus);
    ort.ReleaseMemoryInfo = (Release_t)SLOT(api, SLOT_ReleaseMemoryInfo);
    ort.ReleaseSession = (Release_t)SLOT(api, SLOT_ReleaseSession);
    ort.ReleaseValue = (Release_t)SLOT(api, SLOT_ReleaseValue);
    ort.ReleaseSessionOptions = (Release_t)SLOT(api, SLOT_ReleaseSessionOptions);
    /* The layout, checked where a wrong slot cannot do harm: a status round trip. */
    OrtStatus *probe = ort.CreateStatus(ORT_INVALID_ARGUMENT, "sensorlab probe");
    int ok = probe != NULL && ort.GetErrorCode(probe) == ORT_INVALID_ARGUMENT && ort.GetErrorMessage(probe) != NULL &&
             strcmp(ort.GetErrorMessage(probe), "sensorlab probe") == 0;
    if (probe != NULL)
        ort.ReleaseStatus(probe);
    if (!ok) {
        memset(&ort, 0, sizeof ort);
        PyErr_Format(PyExc_ImportError, "onnxruntime %s: its C API table does not match the layout declared in _ort.c", version);
        return NULL; /* (not closed: a wrong slot may have left state behind) */
    }
    OrtStatus *st = ort.CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &cpu_mem);
    if (st != NULL) {
        fail(st);
        return NULL;
    }
    lib = h;
    loaded_version = PyUnicode_FromString(version);
    Py_XINCREF(loaded_version);
    return loaded_version;
}

/* -- Session ------------------------------------------------------------------------------------ */

typedef struct {
    char *name;
    void *data;
    size_t nbytes;
    int64_t shape[8];
    size_t ndim;
    int type;
} Tensor;

typedef struct {
    PyObject_HEAD
    OrtSession *session;
    size_t n_in, n_out, n_state;
    Tensor *ins, *outs;
    const char **in_names, **out_names;
    OrtValue **in_values, **out_values, **out_call;
    size_t raw;          /* the input the window is bound to (index in ins) */
    void *own;           /* the buffer the raw input was made with (address 0) */
    size_t probs;        /* the output holding the probabilities (index in outs) */
    size_t (*state)[2];  /* (output index, input index): output copied into input after a run */
    int busy;
    PyObject *keep;      /* the arrays behind every address (the caller's list), alive while bound */
    PyObject *held;      /* the array the raw input is bound into (a window of the windower's held samples), alive while bound */
} Session;

static void session_dealloc(Session *s)
{
    if (s->in_values)
        for (size_t i = 0; i < s->n_in; i++)
            if (s->in_values[i])
                ort.ReleaseValue(s->in_values[i]);
    if (s->out_values)
        for (size_t i = 0; i < s->n_out; i++)
            if (s->out_values[i])
                ort.ReleaseValue(s->out_values[i]);
    if (s->session)
        ort.ReleaseSession(s->session);
    for (size_t i = 0; s->ins && i < s->n_in; i++)
        PyMem_Free(s->ins[i].name);
    for (size_t i = 0; s->outs && i < s->n_out; i++)
        PyMem_Free(s->outs[i].name);
    PyMem_Free(s->ins);
    PyMem_Free(s->outs);
    PyMem_Free(s->in_names);
    PyMem_Free(s->out_names);
    PyMem_Free(s->in_values);
    PyMem_Free(s->out_values);
    PyMem_Free(s->out_call);
    PyMem_Free(s->state);
    Py_XDECREF(s->keep);
    Py_XDECREF(s->held);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

/* (name, address, shape, onnx element type, bytes) → a Tensor. */
static int parse_tensor(PyObject *item, Tensor *t)
{
    const char *name;
    PyObject *address, *shape;
    Py_ssize_t nbytes;
    if (!PyArg_ParseTuple(item, "sOOin", &name, &address, &shape, &t->type, &nbytes))
        return -1;
    t->data = PyLong_AsVoidPtr(address);
    if (t->data == NULL && PyErr_Occurred())
        return -1;
    t->nbytes = (size_t)nbytes;
    PyObject *dims = PySequence_Fast(shape, "a tensor's shape must be a sequence");
    if (dims == NULL)
        return -1;
    Py_ssize_t nd = PySequence_Fast_GET_SIZE(dims);
    if (nd > 8) {
        Py_DECREF(dims);
        PyErr_SetString(PyExc_ValueError, "more than 8 axes");
        return -1;
    }
    t->ndim = (size_t)nd;
    for (Py_ssize_t i = 0; i < nd; i++) {
        t->shape[i] = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(dims, i));
        if (t->shape[i] == -1 && PyErr_Occurred()) {
            Py_DECREF(dims);
            return -1;
        }
    }
    Py_DECREF(dims);
    size_t len = strlen(name) + 1;
    t->name = PyMem_Malloc(len);
    if (t->name == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(t->name, name, len);
    return 0;
}

static int make_value(Tensor *t, void *data, OrtValue **out)
{
    OrtStatus *st = ort.CreateTensorWithDataAsOrtValue(cpu_mem, data, t->nbytes, t->shape, t->ndim, t->type, out);
    return st == NULL ? 0 : fail(st);
}

/* Session(graph, inputs, outputs, raw, probs, state, keep): see `sensorlab.inference.ort_ext`. */
static PyObject *session_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    Py_buffer graph;
    PyObject *inputs, *outputs, *state, *keep;
    Py_ssize_t raw, probs;
    if (lib == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "onnxruntime's library is not loaded (_ort.load)");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "y*O!O!nnO!O", &graph, &PyList_Type, &inputs, &PyList_Type, &outputs, &raw, &probs, &PyList_Type, &state, &keep))
        return NULL;
    Session *s = (Session *)type->tp_alloc(type, 0);
    if (s == NULL)
        goto error;
    Py_INCREF(keep);
    s->keep = keep;
    s->n_in = (size_t)PyList_GET_SIZE(inputs);
    s->n_out = (size_t)PyList_GET_SIZE(outputs);
    s->n_state = (size_t)PyList_GET_SIZE(state);
    if (raw < 0 || (size_t)raw >= s->n_in || probs < 0 || (size_t)probs >= s->n_out) {
        PyErr_SetString(PyExc_ValueError, "raw/probs index out of range");
        goto error;
    }
    s->raw = (size_t)raw;
    s->probs = (size_t)probs;
    s->ins = PyMem_Calloc(s->n_in, sizeof(Tensor));
    s->outs = PyMem_Calloc(s->n_out, sizeof(Tensor));
    s->in_names = PyMem_Calloc(s->n_in, sizeof(char *));
    s->out_names = PyMem_Calloc(s->n_out, sizeof(char *));
    s->in_values = PyMem_Calloc(s->n_in, sizeof(OrtValue *));
    s->out_values = PyMem_Calloc(s->n_out, sizeof(OrtValue *));
    s->out_call = PyMem_Calloc(s->n_out, sizeof(OrtValue *));
    s->state = PyMem_Calloc(s->n_state ? s->n_state : 1, sizeof *s->state);
    if (!s->ins || !s->outs || !s->in_names || !s->out_names || !s->in_values || !s->out_values || !s->out_call || !s->state) {
        PyErr_NoMemory();
        goto error;
    }
    for (size_t i = 0; i < s->n_in; i++) {
        if (parse_tensor(PyList_GET_ITEM(inputs, i), &s->ins[i]) < 0)
            goto error;
        s->in_names[i] = s->ins[i].name;
    }
    for (size_t i = 0; i < s->n_out; i++) {
        if (parse_tensor(PyList_GET_ITEM(outputs, i), &s->outs[i]) < 0)
            goto error;
        s->out_names[i] = s->outs[i].name;
    }
    for (size_t i = 0; i < s->n_state; i++) {
        Py_ssize_t o, n;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(state, i), "nn", &o, &n))
            goto error;
        if (o < 0 || (size_t)o >= s->n_out || n < 0 || (size_t)n >= s->n_in || s->outs[o].nbytes != s->ins[n].nbytes) {
            PyErr_SetString(PyExc_ValueError, "a state pair's indices or sizes do not match");
            goto error;
        }
        s->state[i][0] = (size_t)o;
        s->state[i][1] = (size_t)n;
    }
    /* The session: the options `sensorlab.inference.model.session_options` gives the Python binding. */
    OrtStatus *st = NULL;
    OrtSessionOptions *opts = NULL;
    if (env == NULL && (st = ort.CreateEnv(ORT_LOGGING_LEVEL_ERROR, "sensorlab", &env)) != NULL)
        goto status;
    if ((st = ort.CreateSessionOptions(&opts)) != NULL || (st = ort.SetIntraOpNumThreads(opts, 1)) != NULL ||
        (st = ort.SetInterOpNumThreads(opts, 1)) != NULL || (st = ort.SetSessionExecutionMode(opts, ORT_SEQUENTIAL)) != NULL ||
        (st = ort.SetSessionGraphOptimizationLevel(opts, ORT_ENABLE_ALL)) != NULL || (st = ort.SetSessionLogSeverityLevel(opts, 3)) != NULL)
        goto status;
    Py_BEGIN_ALLOW_THREADS
    st = ort.CreateSessionFromArray(env, graph.buf, (size_t)graph.len, opts, &s->session);
    Py_END_ALLOW_THREADS
    ort.ReleaseSessionOptions(opts);
    opts = NULL;
    if (st != NULL)
        goto status;
    s->own = s->ins[s->raw].data;
    for (size_t i = 0; i < s->n_in; i++)
        if (make_value(&s->ins[i], s->ins[i].data, &s->in_values[i]) < 0)
            goto error;
    for (size_t i = 0; i < s->n_out; i++)
        if (make_value(&s->outs[i], s->outs[i].data, &s->out_values[i]) < 0)
            goto error;
    PyBuffer_Release(&graph);
    return (PyObject *)s;
status:
    if (opts)
        ort.ReleaseSessionOptions(opts);
    fail(st);
error:
    PyBuffer_Release(&graph);
    Py_XDECREF(s);
    return NULL;
}

/* One run, the GIL released; then the state copied. -1 with OrtError set on failure. */
static int run_once(Session *s)
{
    OrtStatus *st;
    memcpy(s->out_call, s->out_values, s->n_out * sizeof(OrtValue *));
    s->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    st = ort.Run(s->session, NULL, s->in_names, (const OrtValue *const *)s->in_values, s->n_in, s->out_names, s->n_out, s->out_call);
    Py_END_ALLOW_THREADS
    s->busy = 0;
    for (size_t i = 0; i < s->n_out; i++)
        if (s->out_call[i] != s->out_values[i] && s->out_call[i] != NULL)
            ort.ReleaseValue(s->out_call[i]); /* (never seen: onnxruntime writes into the values it is given) */
    if (st != NULL)
        return run_failed(st);
    for (size_t i = 0; i < s->n_state; i++)
        memcpy(s->ins[s->state[i][1]].data, s->outs[s->state[i][0]].data, s->ins[s->state[i][1]].nbytes);
    return 0;
}

/* Bind the raw input to ``address`` (NULL: the buffer it was made with), keeping ``held`` (the
 * array that memory belongs to, or None) alive while it is bound there. */
static int bind_raw(Session *s, void *address, PyObject *held)
{
    Tensor *raw = &s->ins[s->raw];
    if (address == NULL) {
        address = s->own;
        held = Py_None;
    }
    if (address != raw->data) {
        OrtValue *v = NULL;
        if (make_value(raw, address, &v) < 0)
            return -1;
        ort.ReleaseValue(s->in_values[s->raw]);
        s->in_values[s->raw] = v;
        raw->data = address;
        Py_INCREF(held);
        Py_XSETREF(s->held, held);
    }
    return 0;
}

/* Copy the probabilities into ``out`` (None: nothing), a writable C-contiguous buffer of their size. */
static int copy_out(Session *s, PyObject *out)
{
    if (out == Py_None)
        return 0;
    Py_buffer b;
    if (PyObject_GetBuffer(out, &b, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    Tensor *p = &s->outs[s->probs];
    if ((size_t)b.len != p->nbytes) {
        PyBuffer_Release(&b);
        PyErr_Format(PyExc_ValueError, "out holds %zd bytes, the probabilities %zu", b.len, p->nbytes);
        return -1;
    }
    memcpy(b.buf, p->data, p->nbytes);
    PyBuffer_Release(&b);
    return 0;
}

/* run(address, out, held): one window. ``address``: where the raw window's first sample lies, in
 * ``held`` (an array kept alive while the input is bound there); 0 (and None) for the buffer the
 * raw input was made with. ``out``: None, or a writable C-contiguous buffer of the probabilities'
 * size, which receives them. */
static PyObject *session_run(Session *s, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "run(address, out, held)");
        return NULL;
    }
    if (s->busy) {
        PyErr_SetString(PyExc_RuntimeError, "this session is running on another thread");
        return NULL;
    }
    void *address = PyLong_AsVoidPtr(args[0]);
    if (address == NULL && PyErr_Occurred())
        return NULL;
    if (bind_raw(s, address, args[2]) < 0 || run_once(s) < 0 || copy_out(s, args[1]) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *s_fast_hops, *one;

/* The host clock `sensorlab.acquisition.clock.now` reads (time.monotonic: CLOCK_MONOTONIC). */
static double monotonic(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)((int64_t)t.tv_sec * 1000000000 + t.tv_nsec) / 1e9;
}

/* hop_run(hop, windower, chunks, out, ...): the engine's whole usual wake-up in one call.
 *
 * ``hop(windower, chunks, True)`` is `_hop.c`'s hop (the windower's chunks held and cut); when it
 * gives one window without a gap before it, that window is run where it lies (bound to its
 * address, the GIL released), the probabilities are written into ``out`` and
 * ``(start, t0, t1)`` is returned: the window's start, and the host clock before and after the
 * run (what the engine's stats and the predictions chunk need). Anything else the hop gives is
 * returned as it is, for the engine's Python path: None (the hop refused: nothing was held),
 * a list of `Ready` (several windows), or the one-window tuple ``(start, window, after_gap,
 * address)`` after a gap (a stateful model's state must be reset first). The windower's
 * ``fast_hops`` counts the hops served, as `Windower.push_chunks` counts them. */
static PyObject *session_hop_run(Session *s, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "hop_run(hop, windower, chunks, out)");
        return NULL;
    }
    if (s->busy) {
        PyErr_SetString(PyExc_RuntimeError, "this session is running on another thread");
        return NULL;
    }
    PyObject *call[3] = {args[1], args[2], Py_True};
    PyObject *r = PyObject_Vectorcall(args[0], call, 3, NULL);
    if (r == NULL || r == Py_None)
        return r;
    PyObject *n = PyObject_GetAttr(args[1], s_fast_hops), *n1 = NULL;
    if (n != NULL) {
        n1 = PyNumber_Add(n, one);
        Py_DECREF(n);
    }
    if (n1 == NULL || PyObject_SetAttr(args[1], s_fast_hops, n1) < 0) {
        Py_XDECREF(n1);
        Py_DECREF(r);
        return NULL;
    }
    Py_DECREF(n1);
    if (!PyTuple_CheckExact(r) || PyTuple_GET_SIZE(r) != 4 || PyTuple_GET_ITEM(r, 2) != Py_False)
        return r;
    double start = PyFloat_AsDouble(PyTuple_GET_ITEM(r, 0));
    void *address = PyLong_AsVoidPtr(PyTuple_GET_ITEM(r, 3));
    if ((start == -1.0 || address == NULL) && PyErr_Occurred()) {
        Py_DECREF(r);
        return NULL;
    }
    if (bind_raw(s, address, PyTuple_GET_ITEM(r, 1)) < 0) {
        Py_DECREF(r);
        return NULL;
    }
    Py_DECREF(r);
    double t0 = monotonic();
    if (run_once(s) < 0)
        return NULL;
    double t1 = monotonic();
    if (copy_out(s, args[3]) < 0)
        return NULL;
    return Py_BuildValue("(ddd)", start, t0, t1);
}

static PyObject *session_bound_at(Session *s, void *closure)
{
    return PyLong_FromVoidPtr(s->ins[s->raw].data);
}

static PyMethodDef session_methods[] = {
    {"run", (PyCFunction)(void (*)(void))session_run, METH_FASTCALL, "run(address, out, held): one window (see _ort.c)"},
    {"hop_run", (PyCFunction)(void (*)(void))session_hop_run, METH_FASTCALL, "hop_run(hop, windower, chunks, out): the usual wake-up (see _ort.c)"},
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
    s_fast_hops = PyUnicode_InternFromString("fast_hops");
    one = PyLong_FromLong(1);
    if (s_fast_hops == NULL || one == NULL)
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
