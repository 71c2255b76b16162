/*===- qc/runtime.h - The qc runtime's C ABI -------------------*- C -*-===*
 *
 * A compiled qc model is generated kernels (one per weight format and shape
 * for the products, one per operation and shape for the rest of the graph)
 * plus this runtime: it loads the weights archive, keeps the KV cache in
 * the compiled element type, and calls the kernels in graph order on a
 * thread pool. The header is C, versioned, and free of LLVM.
 * ABI 2: graph kernels in the table; the KV type is compiled, not an option.
 * ABI 3: the int8 activation quantization is a generated kernel too
 * ("quantize_q8:<K>").
 * ABI 4: "@q8k" kernels take one activation scale per 256 weights
 * ("quantize_q8k:<K>").
 * Also in ABI 4 (added, compatible): qc_model_observe_inputs.
 *
 *===----------------------------------------------------------------------===*/
#ifndef QC_RUNTIME_H
#define QC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on every incompatible change of this header. */
#define QC_RUNTIME_ABI_VERSION 4
int qc_runtime_abi_version(void);

/* One generated kernel: `key` is "<format>:<rows>x<cols>" with "@q8" added
 * when the kernel takes activations quantized to int8 per 32-block (by the
 * "quantize_q8:<cols>" kernel), "@q8k" when per 256-block (by
 * "quantize_q8k:<cols>"), or a graph kernel's key; `fn` is the
 * kernel's C interface (_mlir_ciface_...). */
typedef struct qc_kernel {
  const char *key;
  void *fn;
} qc_kernel;

typedef struct qc_kernel_table {
  int64_t abi_version; /* QC_RUNTIME_ABI_VERSION of the compiler */
  int64_t count;
  const qc_kernel *kernels;
  const char *weights;  /* archive the model was compiled from */
  const char *features; /* x86 features the code needs, comma-separated */
} qc_kernel_table;

typedef struct qc_model qc_model;

typedef struct qc_options {
  int threads;       /* 0: all cores */
  int64_t context;   /* 0: the model's context */
  int mmap;          /* 1: run on the file mapped in place (less memory,
                        slower: 4 KiB pages) instead of a huge-page copy;
                        2: mapped, and each block's pages leave the resident
                        set once the block ran (one block resident at a
                        time: calibrating a model larger than memory) */
} qc_options;

/* Loads `weights` (NULL: the table's own) and binds every weight to a kernel
 * of `table`. On failure (a CPU without the table's features, a missing or
 * mismatched weights file) returns NULL and writes the reason to `error`. */
qc_model *qc_model_load(const qc_kernel_table *table, const char *weights,
                        const qc_options *options, char *error,
                        size_t error_size);
void qc_model_free(qc_model *model);

/* In a program or library quant-compile built: the model's own kernels, and
 * qc_model_load with them. */
const qc_kernel_table *qc_kernels(void);
qc_model *qc_open(const char *weights, const qc_options *options, char *error,
                  size_t error_size);

int64_t qc_model_vocab(const qc_model *model);
int64_t qc_model_context(const qc_model *model);
/* The context the model was trained with (qc_model_context: the one in use). */
int64_t qc_model_trained_context(const qc_model *model);
int32_t qc_model_bos(const qc_model *model);
int32_t qc_model_eos(const qc_model *model);

/* Runs `count` tokens at positions pos..pos+count-1, appending to the KV
 * cache. Writes count x vocab logits when `all_logits`, else the last
 * token's vocab logits. A NULL `logits` skips the output head's product
 * (its input still goes to the observer): calibration needs no logits.
 * Returns 0, or -1 with qc_model_error set. */
int qc_model_eval(qc_model *model, const int32_t *tokens, int64_t count,
                  int64_t pos, int all_logits, float *logits);
const char *qc_model_error(const qc_model *model);

/* Calibration hook: before the products of one input run, `observer` gets
 * the names of the weights that multiply it (q, k and v share one input)
 * and the input, `rows` x `cols` f32 values in row-major order, valid for
 * the call only. Tied output heads are named "token_embd.weight". A NULL
 * observer removes it. The float reference reports the same inputs, so
 * statistics from either agree (llama-imatrix's sum of x^2 per column). */
typedef void (*qc_input_observer)(void *user, const char *const *weights,
                                  int count, const float *x, int64_t rows,
                                  int64_t cols);
void qc_model_observe_inputs(qc_model *model, qc_input_observer observer,
                             void *user);

/* Token ids of `text` (BOS first when add_bos). Returns the number of ids,
 * which may exceed `capacity` (then only `capacity` are written). */
int64_t qc_tokenize(const qc_model *model, const char *text, int add_bos,
                    int32_t *ids, int64_t capacity);
/* The text of one token; valid until the next call on this model. */
const char *qc_token_text(qc_model *model, int32_t id);

typedef struct qc_sampler {
  float temperature; /* <= 0: greedy */
  int top_k;         /* <= 0: all */
  float top_p;       /* >= 1: all */
  uint64_t seed;
} qc_sampler;
/* Picks the next token from `vocab` logits; `state` carries the random
 * generator between calls (initialise it to the seed). */
int32_t qc_sample(const float *logits, int64_t vocab, const qc_sampler *s,
                  uint64_t *state);

#ifdef __cplusplus
}
#endif
#endif /* QC_RUNTIME_H */
