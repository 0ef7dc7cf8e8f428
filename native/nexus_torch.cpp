// nexus_torch.cpp: the C ABI of nexus_torch.h over libtorch (TorchScript).
//
// Builds against Debian's libtorch 1.13 (CPU) and pip PyTorch 2.x (CPU or CUDA). Everything that needs CUDA
// sits under NEXUS_WITH_CUDA, which build.sh defines only when the libtorch it found has CUDA and the CUDA
// runtime headers are present. Every exported function catches all exceptions: Swift cannot unwind C++.

#include "nexus_torch.h"

#include <ATen/Parallel.h>
#include <torch/script.h>
#include <torch/version.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#ifdef NEXUS_WITH_CUDA
// Only headers that need nothing beyond cuda_runtime_api.h: ATen/cuda/CUDAContext.h (and so at::cuda::CUDAEvent)
// would also need the cuBLAS/cuSPARSE/cuSOLVER headers, which a pip install spreads over several packages.
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace {

void set_error(char *error, size_t capacity, const std::string &message) {
    if (error == nullptr || capacity == 0) return;
    size_t n = std::min(message.size(), capacity - 1);
    std::memcpy(error, message.data(), n);
    error[n] = '\0';
}

// TorchScript wraps an op's failure in its interpreter traceback; the last "...Error: " line is the cause and
// the part worth showing in a short error buffer.
std::string condense(std::string message) {
    const std::string marker = "The following operation failed in the TorchScript interpreter";
    if (message.find(marker) == std::string::npos) return message;
    size_t cut = message.rfind("Error: ");
    if (cut == std::string::npos) return message;
    size_t line = message.rfind('\n', cut);
    message = message.substr(line == std::string::npos ? 0 : line + 1);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    return message;
}

std::string describe(const std::exception &e) {
    if (auto c10_error = dynamic_cast<const c10::Error *>(&e)) return condense(c10_error->what_without_backtrace());
    return condense(e.what());
}

// Runs body, turning any exception into `failed` plus a message.
template <class Body, class Result>
Result guarded(char *error, size_t capacity, Result failed, Body body) {
    try {
        return body();
    } catch (const std::exception &e) {
        try { set_error(error, capacity, describe(e)); } catch (...) { set_error(error, capacity, "out of memory"); }
    } catch (...) {
        set_error(error, capacity, "unknown C++ exception");
    }
    return failed;
}

std::string shape_string(c10::IntArrayRef shape) {
    std::ostringstream out;
    out << "[";
    for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << "]";
    return out.str();
}

at::ScalarType scalar_type(int dtype) {
    switch (dtype) {
    case NEXUS_DTYPE_UINT8: return at::kByte;
    case NEXUS_DTYPE_FP16: return at::kHalf;
    case NEXUS_DTYPE_FP32: return at::kFloat;
    }
    throw std::invalid_argument("unknown nexus_dtype " + std::to_string(dtype));
}

void flatten(const c10::IValue &value, std::vector<at::Tensor> &out) {
    if (value.isTensor()) {
        out.push_back(value.toTensor());
    } else if (value.isTuple()) {
        for (const auto &element : value.toTupleRef().elements()) flatten(element, out);
    } else if (value.isList()) {
        for (const auto &element : value.toListRef()) flatten(element, out);
    } else if (value.isGenericDict()) {
        for (const auto &entry : value.toGenericDict()) flatten(entry.value(), out);  // insertion order
    } else {
        throw std::runtime_error(std::string("model output contains a ") + value.tagKind() + ", not only tensors");
    }
}

#ifdef NEXUS_WITH_CUDA
// A bare cudaEvent_t: at::cuda::CUDAEvent would pull in CUDAContext.h (see the includes above).
struct Event {
    cudaEvent_t event = nullptr;
    Event() { C10_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming)); }
    ~Event() { if (event) cudaEventDestroy(event); }
    Event(const Event &) = delete;
    Event &operator=(const Event &) = delete;
};

struct CapturedGraph {
    // Declared first so it is destroyed last, after the tensors that live in its memory pool.
    std::unique_ptr<at::cuda::CUDAGraph> graph;
    at::Tensor input;                  // [B, sample...], the graph reads it in place
    std::vector<at::Tensor> outputs;   // written in place by every replay
};
#endif

}  // namespace

struct nexus_model {
    std::string path;
    torch::jit::Module module;
    c10::Device device{c10::kCPU};
    at::ScalarType input_type = at::kFloat;  // what forward() receives, after half
    bool half = false, channels_last = false, graphs = false;
    std::vector<int64_t> sample;
#ifdef NEXUS_WITH_CUDA
    at::Tensor staging;                     // pinned host buffer for uploads, grown as needed
    std::unique_ptr<Event> staging_read;    // recorded after the last upload out of `staging`
    std::vector<std::unique_ptr<CapturedGraph>> captured;
    // One memory pool for all of this model's graphs. PyTorch calls sharing safe when graphs replay in capture
    // order; here any order is, since a graph's outputs are cloned right after its replay, before another graph
    // (whose intermediates may share their memory) replays, and static inputs live outside the pool.
    decltype(at::cuda::graph_pool_handle()) pool{};
    std::optional<c10::cuda::CUDAStream> capture_stream;
#endif
};

// TorchScript's graph executor optimization is off (it is a thread-local setting, so it is set around each
// forward). With it on, the profiling executor re-specializes the graph for every new input shape: on CPU
// (ResNet-18, libtorch 1.13, 2 threads) the first batch-1 request took 53-59 ms instead of 22-28 and each new
// batch size paid about 20% once, with no steady-state gain (22.6 vs 23.6 ms at batch 1, 180 vs 182 ms at 8).
// On CUDA it would also compile NNC fusion kernels at run time on each new shape, which a server pays as latency
// spikes and which must not happen inside graph capture; CUDA graphs already remove the launch overhead that
// fusion saves. Not measured on a GPU.
constexpr bool kOptimizeGraphs = false;

struct nexus_outputs {
    std::vector<at::Tensor> tensors;
#ifdef NEXUS_WITH_CUDA
    // Recorded on the producing stream: a reader on another stream or thread waits for it.
    std::shared_ptr<Event> ready;
#endif
};

namespace {

std::vector<at::Tensor> forward(nexus_model &m, const at::Tensor &input) {
    torch::jit::GraphOptimizerEnabledGuard optimize(kOptimizeGraphs);
    std::vector<at::Tensor> out;
    flatten(m.module.forward({input}), out);
    return out;
}

// `fresh`: t is a temporary of ours. Anything else (the caller's buffer, another run's outputs) is copied: a
// model may modify its input in place or return it (then an output would point into the caller's memory).
at::Tensor to_model_input(const nexus_model &m, const at::Tensor &t, bool fresh) {
    auto format = m.channels_last && t.dim() == 4 ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    return t.to(m.device, m.input_type, /*non_blocking=*/false, /*copy=*/!fresh, format);
}

void check_forward(nexus_model &m) {
    std::vector<int64_t> shape{1};
    shape.insert(shape.end(), m.sample.begin(), m.sample.end());
    try {
        c10::InferenceMode inference;
        auto zeros = at::zeros(shape, at::TensorOptions().dtype(m.input_type).device(m.device));
        auto outputs = forward(m, to_model_input(m, zeros, true));
        if (outputs.empty()) throw std::runtime_error("the model returned no tensors");
    } catch (const std::exception &e) {
        throw std::runtime_error(m.path + " rejects input shape " + shape_string(shape) + ": " + describe(e));
    }
}

#ifdef NEXUS_WITH_CUDA
// The model ran eagerly on this input but could not be captured (a host sync, data-dependent shapes...).
struct CaptureFailed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

c10::cuda::CUDAStream current_stream(const nexus_model &m) { return c10::cuda::getCurrentCUDAStream(m.device.index()); }

CapturedGraph &capture(nexus_model &m, std::vector<int64_t> shape) {
    // Capture outside InferenceMode: capture_begin updates the generator's state tensors in place, and ones made
    // inside InferenceMode would refuse a later capture outside it (pytorch/pytorch#166792). Normal tensors may be
    // updated in place inside InferenceMode, so run() can still copy into `input`.
    c10::InferenceMode normal(false);
    torch::NoGradGuard no_grad;
    auto g = std::make_unique<CapturedGraph>();
    auto format = m.channels_last && shape.size() == 4 ? at::MemoryFormat::ChannelsLast
                                                        : at::MemoryFormat::Contiguous;
    // Zeroed once: padding rows then hold zeros or earlier requests' rows, which per-row inference ignores.
    g->input = at::zeros(shape, at::TensorOptions().dtype(m.input_type).device(m.device).memory_format(format));
    if (!m.capture_stream) m.capture_stream = c10::cuda::getStreamFromPool(false, m.device.index());
    // Capture is rare and may not overlap other work on the device (header), so plain device syncs suffice to
    // order it against the caller's stream.
    c10::cuda::device_synchronize();
    {
        c10::cuda::CUDAStreamGuard on_side_stream(*m.capture_stream);
        // Warmup lets the profiling executor specialize and cuDNN/cuBLAS allocate workspaces outside capture.
        for (int i = 0; i < 3; ++i) forward(m, g->input);
        m.capture_stream->synchronize();
        g->graph = std::make_unique<at::cuda::CUDAGraph>();
        bool capturing = false;
        try {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
            // Thread-local: another device's executor thread may cudaMalloc while this one captures.
            g->graph->capture_begin(m.pool, cudaStreamCaptureModeThreadLocal);
#else
            g->graph->capture_begin(m.pool);  // 1.13/2.0 take no capture mode (global)
#endif
            capturing = true;
            g->outputs = forward(m, g->input);
            capturing = false;
            g->graph->capture_end();
        } catch (const std::exception &e) {
            if (capturing) {
                try { g->graph->capture_end(); } catch (...) {}  // takes the stream out of capture mode
            }
            (void)cudaGetLastError();  // the invalidated capture's error would surface at the next launch check
            throw CaptureFailed(describe(e));
        }
    }
    c10::cuda::device_synchronize();
    m.captured.push_back(std::move(g));
    return *m.captured.back();
}

// The smallest captured graph holding `batch` rows of this sample shape (`exact`: of `batch` rows), captured
// now if there is none.
CapturedGraph &graph_for(nexus_model &m, int64_t batch, c10::IntArrayRef sample, bool exact = false) {
    CapturedGraph *best = nullptr;
    for (auto &g : m.captured) {
        if (g->input.sizes().slice(1) != sample || g->input.size(0) < batch) continue;
        if (exact && g->input.size(0) != batch) continue;
        if (best == nullptr || g->input.size(0) < best->input.size(0)) best = g.get();
    }
    if (best != nullptr) return *best;
    std::vector<int64_t> shape{batch};
    shape.insert(shape.end(), sample.begin(), sample.end());
    return capture(m, shape);
}
#endif

// Runs a batch (any dtype, on the model's device unless graphs are off) through the model, by graph replay
// when enabled. `fresh` as for to_model_input.
std::vector<at::Tensor> execute(nexus_model &m, const at::Tensor &x, bool fresh) {
#ifdef NEXUS_WITH_CUDA
    if (m.graphs) {
        int64_t b = x.size(0);
        CapturedGraph *found = nullptr;
        try {
            found = &graph_for(m, b, x.sizes().slice(1));
        } catch (const CaptureFailed &) {
            // Serve it eagerly from now on: nexus_model_uses_graphs says so, nexus_model_prepare says why.
            m.graphs = false;
            return forward(m, to_model_input(m, x, fresh));
        }
        CapturedGraph &g = *found;
        int64_t captured_batch = g.input.size(0);
        g.input.narrow(0, 0, b).copy_(x);  // converts dtype and memory format on the way
        g.graph->replay();                 // on the current stream, after the copy
        std::vector<at::Tensor> out;
        for (const auto &o : g.outputs) {
            bool batched = o.dim() > 0 && o.size(0) == captured_batch;
            out.push_back((batched ? o.narrow(0, 0, b) : o).clone());  // the next replay overwrites g.outputs
        }
        return out;
    }
#endif
    return forward(m, to_model_input(m, x, fresh));
}

nexus_outputs *wrap(nexus_model &m, std::vector<at::Tensor> tensors) {
    auto out = std::make_unique<nexus_outputs>();
    out->tensors = std::move(tensors);
#ifdef NEXUS_WITH_CUDA
    if (m.device.is_cuda()) {
        out->ready = std::make_shared<Event>();
        C10_CUDA_CHECK(cudaEventRecord(out->ready->event, current_stream(m).stream()));
    }
#endif
    return out.release();
}

const at::Tensor &output_at(const nexus_outputs *outputs, int index) {
    if (outputs == nullptr) throw std::invalid_argument("outputs is NULL");
    if (index < 0 || index >= (int)outputs->tensors.size())
        throw std::out_of_range("output index " + std::to_string(index) + " out of range (the run has " +
                                std::to_string(outputs->tensors.size()) + " outputs)");
#ifdef NEXUS_WITH_CUDA
    // Readers may be on another thread, whose current stream is not the producer's.
    const at::Tensor &t = outputs->tensors[index];
    if (outputs->ready && t.is_cuda()) {
        C10_CUDA_CHECK(cudaStreamWaitEvent(c10::cuda::getCurrentCUDAStream(t.device().index()).stream(),
                                           outputs->ready->event, 0));
    }
#endif
    return outputs->tensors[index];
}

int64_t cpu_memory_bytes(int peak) {
    if (peak) {
        std::ifstream status("/proc/self/status");
        std::string line;
        while (std::getline(status, line)) {
            if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // "VmHWM:  123 kB"
        }
        struct rusage usage {};
        return getrusage(RUSAGE_SELF, &usage) == 0 ? (int64_t)usage.ru_maxrss * 1024 : -1;
    }
    std::ifstream statm("/proc/self/statm");
    int64_t size = 0, resident = 0;
    if (!(statm >> size >> resident)) return -1;
    return resident * (int64_t)sysconf(_SC_PAGESIZE);
}

}  // namespace

extern "C" {

int nexus_abi_version(void) { return NEXUS_TORCH_ABI_VERSION; }

const char *nexus_torch_version(void) {
#ifdef NEXUS_WITH_CUDA
    return TORCH_VERSION "+cuda";
#else
    return TORCH_VERSION;
#endif
}

int nexus_cuda_device_count(void) {
#ifdef NEXUS_WITH_CUDA
    try { return (int)c10::cuda::device_count(); } catch (...) { return 0; }
#else
    return 0;
#endif
}

void nexus_set_num_threads(int threads) {
    if (threads <= 0) return;
    try { at::set_num_threads(threads); } catch (...) {}
    // Allowed only once and only before any inter-op work; later calls throw, which is fine to ignore.
    try { at::set_num_interop_threads(threads); } catch (...) {}
}

nexus_model *nexus_model_load(const char *path, const nexus_load_options *options, char *error,
                              size_t error_capacity) {
    return guarded(error, error_capacity, (nexus_model *)nullptr, [&]() -> nexus_model * {
        if (path == nullptr || options == nullptr) throw std::invalid_argument("path and options are required");
        if (options->sample_ndim < 0 || (options->sample_ndim > 0 && options->sample_shape == nullptr))
            throw std::invalid_argument("sample_shape is missing");
        auto m = std::make_unique<nexus_model>();
        m->path = path;
        m->sample.assign(options->sample_shape, options->sample_shape + options->sample_ndim);
        m->device = c10::Device(options->device ? options->device : "cpu");
        bool cuda = m->device.is_cuda();
#ifdef NEXUS_WITH_CUDA
        std::optional<c10::cuda::CUDAGuard> device_guard;
#endif
        if (cuda) {
#ifdef NEXUS_WITH_CUDA
            int index = m->device.has_index() ? m->device.index() : 0;
            if (index >= nexus_cuda_device_count())
                throw std::runtime_error(std::string("no CUDA device ") + options->device + " (" +
                                         std::to_string(nexus_cuda_device_count()) + " visible)");
            m->device = c10::Device(c10::kCUDA, (c10::DeviceIndex)index);
            device_guard.emplace(m->device.index());  // ops that create tensors use the model's device
            m->graphs = options->cuda_graphs != 0;
            if (m->graphs) m->pool = at::cuda::graph_pool_handle();
#else
            throw std::runtime_error("libnexus_torch was built without CUDA");
#endif
        } else if (!m->device.is_cpu()) {
            throw std::invalid_argument(std::string("unsupported device ") + options->device);
        }
        m->channels_last = cuda && options->channels_last;
        // The input type follows the weights into fp16, except for a model that takes uint8 (and casts itself).
        at::ScalarType base = scalar_type(options->input_dtype);
        m->input_type = base;

        torch::NoGradGuard no_grad;  // not InferenceMode: Module::to and set_data refuse inference tensors
        auto load = [&] {
            try {
                m->module = torch::jit::load(m->path, m->device);
            } catch (const std::exception &e) {
                throw std::runtime_error("cannot load " + m->path + ": " + describe(e));
            }
            m->module.eval();
            if (m->channels_last) {  // conv weights in the input's format, or cuDNN converts them every call
                for (at::Tensor p : m->module.parameters())
                    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
            }
        };
        load();
        if (cuda && options->half) {
            m->module.to(at::kHalf);
            m->half = true;
            if (base != at::kByte) m->input_type = at::kHalf;
            try {
                check_forward(*m);
            } catch (const std::exception &) {
                // Some models (custom ops, explicit .float() casts) do not run in fp16: serve them in fp32.
                m->half = false;
                m->input_type = base;
                load();
            }
        }
        if (!m->half) check_forward(*m);
        return m.release();
    });
}

void nexus_model_free(nexus_model *model) {
    try { delete model; } catch (...) {}
}

int nexus_model_is_half(const nexus_model *model) { return model && model->half ? 1 : 0; }

int nexus_model_uses_graphs(const nexus_model *model) { return model && model->graphs ? 1 : 0; }

int nexus_model_prepare(nexus_model *model, const int64_t *batches, int count, char *error,
                        size_t error_capacity) {
    return guarded(error, error_capacity, -1, [&]() -> int {
        if (model == nullptr) throw std::invalid_argument("model is NULL");
        if (count > 0 && batches == nullptr) throw std::invalid_argument("batches is NULL");
#ifdef NEXUS_WITH_CUDA
        if (!model->graphs) return 0;
        c10::cuda::CUDAGuard device(model->device.index());
        for (int i = 0; i < count; ++i) {
            if (batches[i] <= 0) throw std::invalid_argument("batch sizes must be positive");
            try {
                graph_for(*model, batches[i], model->sample, /*exact=*/true);
            } catch (const CaptureFailed &e) {
                model->graphs = false;  // as execute() does
                throw std::runtime_error("cannot capture a CUDA graph of " + model->path + " for batch " +
                                         std::to_string(batches[i]) + " (now running without graphs): " + e.what());
            }
        }
#endif
        return 0;
    });
}

nexus_outputs *nexus_model_run(nexus_model *model, const void *input, int dtype, int64_t batch, char *error,
                               size_t error_capacity) {
    return guarded(error, error_capacity, (nexus_outputs *)nullptr, [&]() -> nexus_outputs * {
        if (model == nullptr || input == nullptr) throw std::invalid_argument("model and input are required");
        if (batch <= 0) throw std::invalid_argument("batch must be positive");
        nexus_model &m = *model;
        c10::InferenceMode inference;
        std::vector<int64_t> shape{batch};
        shape.insert(shape.end(), m.sample.begin(), m.sample.end());
        // from_blob borrows the caller's buffer: every path below copies out of it before returning.
        at::Tensor host = torch::from_blob(const_cast<void *>(input), shape, scalar_type(dtype));
#ifdef NEXUS_WITH_CUDA
        if (m.device.is_cuda()) {
            c10::cuda::CUDAGuard device(m.device.index());
            // The previous upload may still be reading the staging buffer.
            if (m.staging_read) C10_CUDA_CHECK(cudaEventSynchronize(m.staging_read->event));
            if (!m.staging.defined() || m.staging.scalar_type() != host.scalar_type() ||
                m.staging.numel() < host.numel()) {
                auto pinned = at::TensorOptions().dtype(host.scalar_type()).pinned_memory(true);
                m.staging = at::empty({host.numel()}, pinned);
            }
            at::Tensor staged = m.staging.narrow(0, 0, host.numel()).view(shape);
            staged.copy_(host);
            // Uploaded in the caller's dtype (uint8 is 4x less traffic than fp32) and converted on the device.
            at::Tensor on_device = staged.to(m.device, staged.scalar_type(), /*non_blocking=*/true);
            if (!m.staging_read) m.staging_read = std::make_unique<Event>();
            C10_CUDA_CHECK(cudaEventRecord(m.staging_read->event, current_stream(m).stream()));
            return wrap(m, execute(m, on_device, true));
        }
#endif
        return wrap(m, execute(m, host, false));
    });
}

nexus_outputs *nexus_model_run_on_outputs(nexus_model *model, const nexus_outputs *source, int index,
                                          int64_t start, int64_t count, char *error, size_t error_capacity) {
    return guarded(error, error_capacity, (nexus_outputs *)nullptr, [&]() -> nexus_outputs * {
        if (model == nullptr) throw std::invalid_argument("model is NULL");
        nexus_model &m = *model;
        c10::InferenceMode inference;
#ifdef NEXUS_WITH_CUDA
        std::optional<c10::cuda::CUDAGuard> device;
        if (m.device.is_cuda()) device.emplace(m.device.index());
#endif
        const at::Tensor &features = output_at(source, index);
        if (features.dim() == 0)
            throw std::invalid_argument("output " + std::to_string(index) + " has no batch dimension");
        if (count <= 0 || start < 0 || start + count > features.size(0))
            throw std::out_of_range("rows [" + std::to_string(start) + ", " + std::to_string(start + count) +
                                    ") are outside output " + std::to_string(index) + " of " +
                                    std::to_string(features.size(0)) + " rows");
        at::Tensor slice = features.narrow(0, start, count);
        if (slice.device() != m.device) slice = slice.to(m.device);
        return wrap(m, execute(m, slice, false));
    });
}

int nexus_outputs_count(const nexus_outputs *outputs) { return outputs ? (int)outputs->tensors.size() : 0; }

int nexus_outputs_shape(const nexus_outputs *outputs, int index, int64_t *shape, int capacity) {
    if (outputs == nullptr || index < 0 || index >= (int)outputs->tensors.size()) return -1;
    const at::Tensor &t = outputs->tensors[index];
    for (int i = 0; i < (int)t.dim() && i < capacity && shape != nullptr; ++i) shape[i] = t.size(i);
    return (int)t.dim();
}

int64_t nexus_outputs_copy_fp32(const nexus_outputs *outputs, int index, float *destination, int64_t count,
                                char *error, size_t error_capacity) {
    return guarded(error, error_capacity, (int64_t)-1, [&]() -> int64_t {
        c10::InferenceMode inference;
        const at::Tensor &t = output_at(outputs, index);
        if (t.numel() > count)
            throw std::length_error("output " + std::to_string(index) + " has " + std::to_string(t.numel()) +
                                    " values, the destination holds " + std::to_string(count));
        if (t.numel() > 0 && destination == nullptr) throw std::invalid_argument("destination is NULL");
        at::Tensor host = t.to(at::kCPU, at::kFloat).contiguous();  // waits for the device
        if (host.numel() > 0) std::memcpy(destination, host.data_ptr<float>(), host.numel() * sizeof(float));
        return host.numel();
    });
}

void nexus_outputs_free(nexus_outputs *outputs) {
    try { delete outputs; } catch (...) {}
}

int64_t nexus_memory_bytes(const char *device, int peak) {
    try {
        if (device == nullptr) return -1;
        c10::Device d(device);
        if (d.is_cpu()) return cpu_memory_bytes(peak);
#ifdef NEXUS_WITH_CUDA
        if (d.is_cuda()) {
            int index = d.has_index() ? d.index() : 0;
            if (index >= nexus_cuda_device_count()) return -1;
            at::empty({0}, at::TensorOptions().device(c10::kCUDA, index));  // initializes CUDA and its allocator
            auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats((c10::DeviceIndex)index);
            const auto &allocated = stats.allocated_bytes[0];  // index 0 is StatType::AGGREGATE in 1.13 and 2.x
            return peak ? allocated.peak : allocated.current;
        }
#endif
    } catch (...) {
    }
    return -1;
}

void nexus_reset_peak_memory(const char *device) {
    try {
        if (device == nullptr) return;
        c10::Device d(device);
        if (d.is_cpu()) {
            // "5" resets VmHWM (Linux >= 4.0); refused in some containers, where the peak is then since start.
            if (FILE *f = std::fopen("/proc/self/clear_refs", "w")) {
                std::fputs("5", f);
                std::fclose(f);
            }
        }
#ifdef NEXUS_WITH_CUDA
        if (d.is_cuda()) {
            int index = d.has_index() ? d.index() : 0;
            if (index < nexus_cuda_device_count()) {
                at::empty({0}, at::TensorOptions().device(c10::kCUDA, index));
                c10::cuda::CUDACachingAllocator::resetPeakStats((c10::DeviceIndex)index);
            }
        }
#endif
    } catch (...) {
    }
}

}  // extern "C"
