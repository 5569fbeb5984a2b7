/* Part of _ort.c (included after _ort_api.h): the `Session` object, an onnxruntime session over
 * arrays the Python side allocated, and its one-window `run`. */
#ifndef SENSORLAB_ORT_SESSION_H
#define SENSORLAB_ORT_SESSION_H

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

#endif
