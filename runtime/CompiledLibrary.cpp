//===- CompiledLibrary.cpp ------------------------------------------------===//
#include "qc/CompiledLibrary.h"

#include <dlfcn.h>
#include <stdexcept>

namespace qc {

namespace {
void *openLibrary(const std::string &path) {
  std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  void *handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    throw std::runtime_error(path + ": " + dlerror());
  return handle;
}
} // namespace

std::string CompiledLibrary::defaultWeights(const std::string &path) {
  void *handle = openLibrary(path);
  auto kernels = reinterpret_cast<decltype(&qc_kernels)>(
      dlsym(handle, "qc_kernels"));
  std::string weights =
      kernels && kernels()->weights ? kernels()->weights : "";
  dlclose(handle);
  if (!kernels)
    throw std::runtime_error(path + ": not a library quant-compile built "
                             "with this runtime (no qc_kernels)");
  return weights;
}

CompiledLibrary::CompiledLibrary(const std::string &path,
                                 const std::string &weights,
                                 const qc_options &options) {
  handle = openLibrary(path);
  auto resolve = [&](auto &fn, const char *name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
        dlsym(handle, name));
    if (!fn) {
      dlclose(handle);
      throw std::runtime_error(path + ": not a library quant-compile built "
                               "with this runtime (no " +
                               std::string(name) + ")");
    }
  };
  resolve(api.open, "qc_open");
  resolve(api.free, "qc_model_free");
  resolve(api.eval, "qc_model_eval");
  resolve(api.error, "qc_model_error");
  resolve(api.vocab, "qc_model_vocab");
  resolve(api.observe, "qc_model_observe_inputs");
  char error[1024] = {};
  model = api.open(weights.empty() ? nullptr : weights.c_str(), &options,
                   error, sizeof error);
  if (!model) {
    dlclose(handle);
    throw std::runtime_error(error);
  }
}

CompiledLibrary::~CompiledLibrary() {
  api.free(model);
  dlclose(handle);
}

void CompiledLibrary::eval(const int32_t *tokens, int64_t count, int64_t pos,
                           bool all, float *logits) {
  if (api.eval(model, tokens, count, pos, all ? 1 : 0, logits) != 0)
    throw std::runtime_error(api.error(model));
}

void CompiledLibrary::observeInputs(InputObserver fn) {
  observer = std::move(fn);
  if (!observer) {
    api.observe(model, nullptr, nullptr);
    return;
  }
  api.observe(
      model,
      [](void *user, const char *const *weights, int count, const float *x,
         int64_t rows, int64_t cols) {
        auto &fn = *static_cast<InputObserver *>(user);
        for (int i = 0; i < count; ++i)
          fn(weights[i], x, rows, cols);
      },
      &observer);
}

} // namespace qc
