/*
 * nexus_torch.h: the C ABI between Nexus (Swift) and libtorch.
 *
 * Swift loads libnexus_torch.so with dlopen at run time, so `nexus` builds and runs on machines without
 * libtorch. Every function catches C++ exceptions: a failure returns NULL / a negative value and writes a
 * NUL-terminated message into `error` (at most `error_capacity` bytes). Nothing here aborts the process.
 *
 * Concurrency:
 * - Different nexus_model handles may be loaded, run and freed from different threads at once.
 * - One nexus_model handle must be used by one thread at a time (its CUDA graphs and staging buffers are
 *   per handle). Nexus runs each device's models from that device's single executor thread.
 * - CUDA graphs are captured lazily inside nexus_model_run / nexus_model_run_on_outputs (or eagerly by
 *   nexus_model_prepare) on the caller's thread; capture must not overlap other work on the same device,
 *   which holds when only the device's executor thread runs models there.
 * - nexus_outputs handles are independent values: any thread may read or free them.
 */
#ifndef NEXUS_TORCH_H
#define NEXUS_TORCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NEXUS_TORCH_ABI_VERSION 1

/* Element types of host buffers passed in and out. */
enum nexus_dtype { NEXUS_DTYPE_UINT8 = 0, NEXUS_DTYPE_FP16 = 1, NEXUS_DTYPE_FP32 = 2 };

typedef struct nexus_model nexus_model;
/* The outputs of one run: one or more tensors (a tuple/list/dict output is flattened in order), kept on
 * the model's device until copied out. */
typedef struct nexus_outputs nexus_outputs;

typedef struct nexus_load_options {
    const char *device;          /* "cpu" or "cuda:N" */
    int half;                    /* 1: fp16 weights and activations (CUDA only; ignored on CPU) */
    int channels_last;           /* 1: channels-last memory format for 4-D inputs (CUDA only) */
    int cuda_graphs;             /* 1: one CUDA graph per batch size, captured on first use (CUDA only) */
    const int64_t *sample_shape; /* one sample's input shape, without the batch dimension */
    int sample_ndim;
    int input_dtype;             /* nexus_dtype of the tensor the model expects (before half): FP32/FP16 models
                                  * get fp16 input when the model runs in half; UINT8 models always get uint8 */
} nexus_load_options;

/* Returns NEXUS_TORCH_ABI_VERSION; Swift refuses a library with another version. */
int nexus_abi_version(void);
/* libtorch's version string, e.g. "1.13.1" or "2.11.0+cu130", and whether CUDA is compiled in. */
const char *nexus_torch_version(void);
int nexus_cuda_device_count(void);
/* Intra-op CPU threads (Debian's libtorch starts with 1). */
void nexus_set_num_threads(int threads);

/* Loads a TorchScript file onto a device and checks it with one batch-1 forward of `sample_shape`: a wrong
 * file or an input shape the model rejects fails here, not on the first request. With `half`, a model whose
 * fp16 forward fails falls back to fp32 (nexus_model_is_half says which). */
nexus_model *nexus_model_load(const char *path, const nexus_load_options *options, char *error,
                              size_t error_capacity);
void nexus_model_free(nexus_model *model);
int nexus_model_is_half(const nexus_model *model);
int nexus_model_uses_graphs(const nexus_model *model);

/* Captures CUDA graphs for these batch sizes now (a no-op without graphs). Returns 0 or -1. A model that cannot
 * be captured (it syncs with the host, say) runs without graphs from then on and nexus_model_uses_graphs turns
 * 0: this function then returns -1 with the reason, a run that hits it falls back silently. */
int nexus_model_prepare(nexus_model *model, const int64_t *batches, int count, char *error,
                        size_t error_capacity);

/* Runs one batch from host memory: `input` holds `batch` samples of `sample_shape` in `dtype`, contiguous.
 * With graphs, the batch is padded up to the smallest captured size that holds it. */
nexus_outputs *nexus_model_run(nexus_model *model, const void *input, int dtype, int64_t batch, char *error,
                               size_t error_capacity);

/* Runs the model on rows [start, start + count) of output `index` of an earlier run, without leaving the
 * device: the prefix-batching path (prefix once over the whole batch, each head on its slice). */
nexus_outputs *nexus_model_run_on_outputs(nexus_model *model, const nexus_outputs *source, int index,
                                          int64_t start, int64_t count, char *error, size_t error_capacity);

int nexus_outputs_count(const nexus_outputs *outputs);
/* Dimensions of output `index`, the batch dimension first. Returns ndim, writing up to `capacity` sizes. */
int nexus_outputs_shape(const nexus_outputs *outputs, int index, int64_t *shape, int capacity);
/* Copies output `index` to host as fp32 (converting from any floating or integer type). `count` is the
 * capacity of `destination` in floats. Returns the number of floats written, or -1. */
int64_t nexus_outputs_copy_fp32(const nexus_outputs *outputs, int index, float *destination, int64_t count,
                                char *error, size_t error_capacity);
void nexus_outputs_free(nexus_outputs *outputs);

/* Memory in bytes on `device`: for "cuda:N" the caching allocator's allocated (peak = 0) or peak since the
 * last reset (peak = 1); for "cpu" the process's resident set (peak = 0) or its peak (peak = 1).
 * Returns -1 for an unknown device. */
int64_t nexus_memory_bytes(const char *device, int peak);
void nexus_reset_peak_memory(const char *device);

#ifdef __cplusplus
}
#endif

#endif
