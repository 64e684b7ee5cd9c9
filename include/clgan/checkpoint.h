/* clgan/checkpoint.h: checkpoints of a GAN training run in the safetensors
 * layout (readable by PyTorch's and NumPy's safetensors loaders): G and D,
 * the optimizers' moments, G's weight average, and in __metadata__ the
 * model spec, the training config, step, data cursor, RNG counters and
 * CRC-32s. Saving is atomic; loading checks every byte. Builds on gan.h. */
#ifndef CLGAN_CHECKPOINT_H
#define CLGAN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "clgan.h"
#include "clgan/gan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The metadata's format_version this library writes and reads. */
#define CLGAN_CHECKPOINT_VERSION 1

typedef struct clgan_checkpoint clgan_checkpoint;
/* Repeated from gan.h (C11 allows it): clgan.h may include this header
 * while gan.h is still being read. */
typedef struct clgan_trainer clgan_trainer;
typedef struct clgan_model clgan_model;
struct clgan_train_config;

/* Reads and validates a checkpoint file: the layout (header length cap,
 * JSON, F32 only, shapes against byte ranges, ranges contiguous with no
 * overlap or hole, data ending at the end of the file), both CRC-32s, every
 * metadata field present and in range, the config, and every tensor the
 * model spec implies present with its shape (and no others). On success
 * *out owns the decoded checkpoint. Errors: CLGAN_ENULL, CLGAN_ENOENT,
 * CLGAN_EIO, CLGAN_EFORMAT, CLGAN_ECRC, CLGAN_ENOMEM; the message names
 * the file and the first problem. */
clgan_status clgan_checkpoint_read(const char *path, clgan_checkpoint **out);
/* The same from bytes in memory (copied). */
clgan_status clgan_checkpoint_decode(const void *bytes, size_t size, clgan_checkpoint **out);
/* Accepts NULL. */
void clgan_checkpoint_free(clgan_checkpoint *ck);
/* The run's resolved config (borrowed from ck). */
const struct clgan_train_config *clgan_checkpoint_config(const clgan_checkpoint *ck);
/* G steps done when it was written. */
size_t clgan_checkpoint_step(const clgan_checkpoint *ck);
/* Width of a data point; image sets also their height, width, channels
 * (0 for point sets). */
size_t clgan_checkpoint_data_dim(const clgan_checkpoint *ck);
void clgan_checkpoint_image_shape(const clgan_checkpoint *ck, size_t *h, size_t *w, size_t *c);
/* Builds G and D of the checkpoint on `be` for at most max_batch rows,
 * with its weights (G: its weight average when the run kept one). Either
 * out pointer may be NULL. The models are the caller's (clgan_model_free
 * before the backend). Errors: those of clgan_model_new. */
clgan_status clgan_checkpoint_models(const clgan_checkpoint *ck, clgan_backend *be, size_t max_batch,
                                     clgan_model **G, clgan_model **D);

/* Encodes the trainer's whole state (blocking: reads the device) into a
 * malloc'ed checkpoint image (caller frees). Errors: CLGAN_ENONFINITE (a
 * NaN or Inf in any saved value: never written), memory and device errors. */
clgan_status clgan_trainer_encode(clgan_trainer *t, void **bytes, size_t *size);
/* Writes the trainer's checkpoint to path atomically: a temp file in the
 * same folder, written, flushed and fsync'ed, renamed over path, then the
 * folder fsync'ed; path is either the old file or the new one, never a
 * part. Errors: as clgan_trainer_encode, CLGAN_EIO. */
clgan_status clgan_trainer_save(clgan_trainer *t, const char *path);
/* Saves checkpoint_<step, 8 digits>.safetensors into the run folder and
 * removes the oldest beyond cfg keep_checkpoints. CLGAN_EINVAL without an
 * out dir. */
clgan_status clgan_trainer_checkpoint(clgan_trainer *t);
/* Puts the checkpoint's state into a trainer built from the same model and
 * data (parameters, moments, update counts, weight average, step, data
 * cursor, noise counter, dropout counters, partial loss means), so that the
 * following steps are bit-identical to the run that wrote it. The run files
 * continue: log.csv keeps its rows up to the checkpoint's step.
 * Errors: CLGAN_ESHAPE (other model or data), device errors. */
clgan_status clgan_trainer_restore(clgan_trainer *t, const clgan_checkpoint *ck);
/* The newest checkpoint_*.safetensors of a run folder into path.
 * Errors: CLGAN_ENOENT (none), CLGAN_EIO, CLGAN_ERANGE (path too long). */
clgan_status clgan_checkpoint_latest(const char *dir, char *path, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* CLGAN_CHECKPOINT_H */
