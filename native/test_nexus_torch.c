/*
 * test_nexus_torch.c: checks libnexus_torch.so through its C ABI, loaded with dlopen as Swift loads it.
 *
 *   test_nexus_torch LIB.so MODELS_DIR [DEVICE [HALF [GRAPHS [CHANNELS_LAST]]]]
 *
 * MODELS_DIR comes from export_test_models.py. DEVICE defaults to "cpu". NEXUS_TEST_TOLERANCE overrides the
 * relative tolerance (1e-4; looser on CUDA, where cuDNN may pick TF32 or other algorithms per batch size).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nexus_torch.h"

#define FUNCTIONS(X)                                                                                         \
    X(nexus_abi_version) X(nexus_torch_version) X(nexus_cuda_device_count) X(nexus_set_num_threads)           \
    X(nexus_model_load) X(nexus_model_free) X(nexus_model_is_half) X(nexus_model_uses_graphs)                \
    X(nexus_model_prepare) X(nexus_model_run) X(nexus_model_run_on_outputs) X(nexus_outputs_count)           \
    X(nexus_outputs_shape) X(nexus_outputs_copy_fp32) X(nexus_outputs_free) X(nexus_memory_bytes)            \
    X(nexus_reset_peak_memory)
#define DECLARE(name) static __typeof__(name) *p_##name;
FUNCTIONS(DECLARE)

static int passed, failed;
static double tolerance = 1e-4;
static char err[4096];

#define CHECK(cond, ...)                                                          \
    do {                                                                          \
        if (cond) {                                                               \
            passed++;                                                             \
        } else {                                                                  \
            failed++;                                                             \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                           \
            printf(__VA_ARGS__);                                                  \
            printf("\n");                                                         \
        }                                                                         \
    } while (0)

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static float *read_floats(const char *dir, const char *name, size_t count) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    float *data = malloc(count * sizeof(float));
    if (!f || fread(data, sizeof(float), count, f) != count) {
        printf("cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    return data;
}

/* max |a - b| over max |b|: one number for a whole output row. */
static double relative_error(const float *a, const float *b, size_t n) {
    double diff = 0, scale = 1e-12;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return diff / scale;
}

static nexus_model *load(const char *dir, const char *file, const char *device, int half, int graphs,
                         int channels_last, const int64_t *shape, int ndim) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    nexus_load_options o = {device, half, channels_last, graphs, shape, ndim, NEXUS_DTYPE_FP32};
    nexus_model *m = p_nexus_model_load(path, &o, err, sizeof err);
    if (!m) {
        printf("FAIL: cannot load %s: %s\n", path, err);
        exit(1);
    }
    return m;
}

/* Runs and copies output `index` out; returns its element count. */
static int64_t run_copy(nexus_model *m, const void *input, int dtype, int64_t batch, int index, float *out,
                        int64_t capacity) {
    nexus_outputs *o = p_nexus_model_run(m, input, dtype, batch, err, sizeof err);
    if (!o) {
        printf("FAIL: run (batch %lld): %s\n", (long long)batch, err);
        exit(1);
    }
    int64_t n = p_nexus_outputs_copy_fp32(o, index, out, capacity, err, sizeof err);
    if (n < 0) printf("FAIL: copy: %s\n", err);
    p_nexus_outputs_free(o);
    return n;
}

static double median_ms(nexus_model *m, const float *input, int64_t batch, float *out, int64_t capacity) {
    double t[15];
    for (int i = 0; i < 3; i++) run_copy(m, input, NEXUS_DTYPE_FP32, batch, 0, out, capacity);
    for (int i = 0; i < 15; i++) {
        double start = now_ms();
        run_copy(m, input, NEXUS_DTYPE_FP32, batch, 0, out, capacity);
        t[i] = now_ms() - start;
    }
    for (int i = 0; i < 15; i++)  // insertion sort
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) { double x = t[j]; t[j] = t[j - 1]; t[j - 1] = x; }
    return t[7];
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s LIB.so MODELS_DIR [DEVICE [HALF [GRAPHS [CHANNELS_LAST]]]]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[2];
    const char *device = argc > 3 ? argv[3] : "cpu";
    int half = argc > 4 ? atoi(argv[4]) : 0, graphs = argc > 5 ? atoi(argv[5]) : 0;
    int channels_last = argc > 6 ? atoi(argv[6]) : 0;
    int cuda = strncmp(device, "cuda", 4) == 0;
    if (cuda) tolerance = half ? 2e-2 : 5e-3;
    if (getenv("NEXUS_TEST_TOLERANCE")) tolerance = atof(getenv("NEXUS_TEST_TOLERANCE"));

    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        printf("FAIL: dlopen: %s\n", dlerror());
        return 1;
    }
#define RESOLVE(name)                                                           \
    if (!(p_##name = (__typeof__(name) *)dlsym(lib, #name))) {                  \
        printf("FAIL: missing symbol %s\n", #name);                             \
        return 1;                                                               \
    }
    FUNCTIONS(RESOLVE)

    CHECK(p_nexus_abi_version() == NEXUS_TORCH_ABI_VERSION, "abi version %d", p_nexus_abi_version());
    printf("libtorch %s, %d CUDA device(s); device %s half=%d graphs=%d channels_last=%d tolerance=%g\n",
           p_nexus_torch_version(), p_nexus_cuda_device_count(), device, half, graphs, channels_last, tolerance);
    p_nexus_set_num_threads(2);
    p_nexus_set_num_threads(2); /* the second inter-op setting throws inside; must be swallowed */

    const int64_t image[] = {3, 224, 224};
    const size_t pixels = 3 * 224 * 224, classes = 1000;
    double start = now_ms();
    nexus_model *net = load(dir, "resnet18.pt", device, half, graphs, channels_last, image, 3);
    printf("loaded resnet18.pt in %.0f ms (half=%d, graphs=%d)\n", now_ms() - start, p_nexus_model_is_half(net),
           p_nexus_model_uses_graphs(net));
    if (!cuda) CHECK(!p_nexus_model_is_half(net) && !p_nexus_model_uses_graphs(net), "half/graphs are CUDA only");

    /* Same logits as Python's torch for the same sample. */
    float *sample = read_floats(dir, "input.bin", pixels), *expected = read_floats(dir, "expected.bin", classes);
    float *out = malloc(8 * classes * sizeof(float)), *single = malloc(classes * sizeof(float));
    CHECK(run_copy(net, sample, NEXUS_DTYPE_FP32, 1, 0, out, classes) == (int64_t)classes, "logit count");
    double e = relative_error(out, expected, classes);
    CHECK(e <= tolerance, "resnet18 vs Python reference: relative error %g", e);

    /* A batch of 3 different samples: each row equals that sample's batch-1 result. */
    float *batch = malloc(8 * pixels * sizeof(float));
    unsigned seed = 12345;
    for (size_t i = 0; i < 8 * pixels; i++) batch[i] = (float)((seed = seed * 1103515245u + 12345u) >> 8) / (1 << 24);
    float *rows = malloc(3 * classes * sizeof(float));
    CHECK(run_copy(net, batch, NEXUS_DTYPE_FP32, 3, 0, rows, 3 * classes) == 3 * (int64_t)classes, "batch 3");
    for (int r = 0; r < 3; r++) {
        run_copy(net, batch + r * pixels, NEXUS_DTYPE_FP32, 1, 0, single, classes);
        e = relative_error(rows + r * classes, single, classes);
        CHECK(e <= tolerance, "batch row %d vs batch 1: relative error %g", r, e);
    }
    /* With graphs a batch of 2 replays the batch-3 graph padded: rows must not depend on the padding. */
    run_copy(net, batch + pixels, NEXUS_DTYPE_FP32, 2, 0, out, 2 * classes);
    e = relative_error(out, rows + classes, 2 * classes);
    CHECK(e <= tolerance, "batch 2 vs rows 1-2 of batch 3: relative error %g", e);

    /* uint8 input is converted to the model's float. */
    uint8_t *bytes = malloc(pixels);
    float *byte_values = malloc(pixels * sizeof(float));
    for (size_t i = 0; i < pixels; i++) byte_values[i] = (float)(bytes[i] = (uint8_t)(i * 7 % 251));
    run_copy(net, byte_values, NEXUS_DTYPE_FP32, 1, 0, single, classes);
    run_copy(net, bytes, NEXUS_DTYPE_UINT8, 1, 0, out, classes);
    e = relative_error(out, single, classes);
    CHECK(e <= 1e-6, "uint8 input vs the same values in fp32: relative error %g", e);

    /* Prefix batching: the trunk once over 3 rows (a dict output), then the head on rows [1, 3) on the device. */
    nexus_model *trunk = load(dir, "trunk.pt", device, half, graphs, channels_last, image, 3);
    const int64_t feature_shape[] = {512, 7, 7};
    nexus_model *head = load(dir, "head.pt", device, half, graphs, channels_last, feature_shape, 3);
    int64_t prepare[] = {2, 4};
    CHECK(p_nexus_model_prepare(head, prepare, 2, err, sizeof err) == 0, "prepare: %s", err);
    nexus_outputs *features = p_nexus_model_run(trunk, batch, NEXUS_DTYPE_FP32, 3, err, sizeof err);
    CHECK(features != NULL, "trunk run: %s", err);
    int64_t shape[8];
    CHECK(p_nexus_outputs_count(features) == 2, "trunk outputs %d", p_nexus_outputs_count(features));
    CHECK(p_nexus_outputs_shape(features, 0, shape, 8) == 4 && shape[0] == 3 && shape[1] == 512 && shape[2] == 7,
          "features shape");
    CHECK(p_nexus_outputs_shape(features, 1, shape, 1) == 2 && shape[0] == 3, "pooled shape");
    CHECK(p_nexus_outputs_shape(features, 2, shape, 8) == -1, "shape of a missing output");
    nexus_outputs *logits = p_nexus_model_run_on_outputs(head, features, 0, 1, 2, err, sizeof err);
    CHECK(logits != NULL, "head run: %s", err);
    if (logits) {
        CHECK(p_nexus_outputs_shape(logits, 0, shape, 8) == 2 && shape[0] == 2 && shape[1] == 1000, "head shape");
        CHECK(p_nexus_outputs_copy_fp32(logits, 0, out, 2 * classes, err, sizeof err) == 2 * (int64_t)classes,
              "head copy: %s", err);
        e = relative_error(out, rows + classes, 2 * classes);
        CHECK(e <= tolerance, "head(trunk(x))[1:3] vs resnet18(x)[1:3]: relative error %g", e);
        /* Errors name the sizes involved. */
        CHECK(p_nexus_outputs_copy_fp32(logits, 0, out, 10, err, sizeof err) == -1 && strstr(err, "2000") &&
                  strstr(err, "10"),
              "too small a destination: '%s'", err);
        p_nexus_outputs_free(logits);
    }
    CHECK(p_nexus_model_run_on_outputs(head, features, 0, 2, 2, err, sizeof err) == NULL && strstr(err, "[2, 4)"),
          "rows outside the source: '%s'", err);
    CHECK(p_nexus_model_run_on_outputs(head, features, 5, 0, 1, err, sizeof err) == NULL && strstr(err, "index 5"),
          "missing output index: '%s'", err);
    CHECK(p_nexus_model_run_on_outputs(head, features, 1, 0, 1, err, sizeof err) == NULL && strlen(err) > 0,
          "head on an output of the wrong shape must fail");
    p_nexus_outputs_free(features);

    /* Nested tuple/list outputs flatten in order; integer outputs copy as fp32. */
    const int64_t pair[] = {2, 3};
    nexus_model *nested = load(dir, "tuple.pt", device, 0, 0, 0, pair, 2);
    float small[12] = {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, 9.5f};
    nexus_outputs *o = p_nexus_model_run(nested, small, NEXUS_DTYPE_FP32, 2, err, sizeof err);
    CHECK(o && p_nexus_outputs_count(o) == 3, "nested outputs");
    if (o) {
        float v[12];
        CHECK(p_nexus_outputs_copy_fp32(o, 0, v, 12, err, sizeof err) == 2 && v[0] == 21 && v[1] == -5.5f, "sums");
        CHECK(p_nexus_outputs_copy_fp32(o, 1, v, 12, err, sizeof err) == 12 && v[5] == 12 && v[11] == 19, "doubled");
        CHECK(p_nexus_outputs_copy_fp32(o, 2, v, 12, err, sizeof err) == 2 && v[0] == 6 && v[1] == 9, "int64 max");
        p_nexus_outputs_free(o);
    }
    p_nexus_model_free(nested);

    /* Load errors say which file and which shape. */
    nexus_load_options options = {device, 0, 0, 0, image, 3, NEXUS_DTYPE_FP32};
    char missing[1024];
    snprintf(missing, sizeof missing, "%s/missing.pt", dir);
    CHECK(p_nexus_model_load(missing, &options, err, sizeof err) == NULL && strstr(err, missing), "missing file: '%s'", err);
    printf("missing file error: %s\n", err);
    const int64_t wrong[] = {4, 224, 224};
    char path[1024];
    snprintf(path, sizeof path, "%s/resnet18.pt", dir);
    options.sample_shape = wrong;
    CHECK(p_nexus_model_load(path, &options, err, sizeof err) == NULL && strstr(err, path) &&
              strstr(err, "[1, 4, 224, 224]"),
          "wrong shape: '%s'", err);
    printf("wrong shape error: %s\n", err);
    options.sample_shape = image;
    CHECK(p_nexus_model_load(missing, &options, NULL, 0) == NULL, "error == NULL is allowed");
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    CHECK(p_nexus_model_load(missing, &options, tiny, sizeof tiny) == NULL && strlen(tiny) == 7, "truncation");
    options.input_dtype = 7;
    CHECK(p_nexus_model_load(path, &options, err, sizeof err) == NULL && strstr(err, "nexus_dtype"), "dtype: '%s'", err);
    options.input_dtype = NEXUS_DTYPE_FP32;
    if (p_nexus_cuda_device_count() == 0) {
        options.device = "cuda:0";
        CHECK(p_nexus_model_load(path, &options, err, sizeof err) == NULL && strlen(err) > 0, "cuda without CUDA");
        printf("cuda:0 error: %s\n", err);
        CHECK(p_nexus_memory_bytes("cuda:0", 0) == -1, "cuda memory without CUDA");
    }
    CHECK(p_nexus_model_run(net, batch, 9, 1, err, sizeof err) == NULL && strstr(err, "nexus_dtype"), "run dtype");
    CHECK(p_nexus_model_run(net, batch, NEXUS_DTYPE_FP32, 0, err, sizeof err) == NULL, "batch 0");

    /* Memory. */
    int64_t resident = p_nexus_memory_bytes("cpu", 0), peak = p_nexus_memory_bytes("cpu", 1);
    CHECK(resident > 0 && peak >= resident, "cpu memory %lld, peak %lld", (long long)resident, (long long)peak);
    CHECK(p_nexus_memory_bytes("tpu:0", 0) == -1 && p_nexus_memory_bytes(NULL, 0) == -1, "unknown device");
    p_nexus_reset_peak_memory("cpu");
    p_nexus_reset_peak_memory("bogus");
    printf("memory: %s resident %.0f MiB, peak %.0f MiB", "cpu", resident / 1048576.0, peak / 1048576.0);
    if (cuda) printf("; %s allocated %.0f MiB, peak %.0f MiB", device, p_nexus_memory_bytes(device, 0) / 1048576.0,
                     p_nexus_memory_bytes(device, 1) / 1048576.0);
    printf("\n");

    /* Latency through the ABI (host fp32 in, fp32 logits out). */
    printf("resnet18 %s median latency: batch 1 %.2f ms, batch 8 %.2f ms\n", device,
           median_ms(net, batch, 1, out, 8 * classes), median_ms(net, batch, 8, out, 8 * classes));

    p_nexus_model_free(net);
    p_nexus_model_free(trunk);
    p_nexus_model_free(head);
    p_nexus_model_free(NULL);
    p_nexus_outputs_free(NULL);
    printf("%d passed, %d failed\n", passed, failed);
    if (failed) return 1;
    printf("PASS\n");
    return 0;
}
