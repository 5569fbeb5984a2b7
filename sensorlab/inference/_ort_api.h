/* Part of _ort.c (included there, one translation unit, as _hop.c includes its parts): the part of
 * onnxruntime's C ABI used here, declared by slot (see _ort.c's top), and `load`, which dlopens the
 * library and checks the table. Needs <Python.h>, <dlfcn.h>, <stdint.h> and <string.h> included first. */
#ifndef SENSORLAB_ORT_API_H
#define SENSORLAB_ORT_API_H

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

#endif
