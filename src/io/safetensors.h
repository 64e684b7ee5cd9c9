/* safetensors.h: the safetensors file layout (8-byte little-endian header
 * length, a JSON header naming each tensor's dtype, shape and byte range,
 * then raw little-endian float32 data), written and read with every field
 * checked. Knows nothing about GANs: src/train/checkpoint.c says what the
 * tensors and metadata mean. Internal header. */
#ifndef CLGAN_IO_SAFETENSORS_H
#define CLGAN_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "clgan.h"

/* Largest JSON header accepted (safetensors' own limit is 100 MB; ours are
 * a few KiB). */
#define ST_MAX_HEADER ((size_t)16 << 20)
#define ST_MAX_DIMS 4

/* One tensor to write: data borrowed, count = product of dims. */
struct st_tensor {
    const char *name;
    size_t ndim;
    size_t dims[ST_MAX_DIMS];
    const float *data;
};

/* Encodes tensors (in this order in the data section) and metadata (an
 * object of string values, borrowed) into one malloc'ed image *out of
 * *size bytes (caller frees). Adds "crc32" (zlib CRC-32 of the data
 * section) and "header_crc32" (of the canonical header without that field)
 * to the metadata. The output is canonical (sorted keys, compact), so equal
 * input gives equal bytes. Errors: CLGAN_EINVAL (bad names or shapes),
 * CLGAN_ENONFINITE (a NaN or Inf: such a file is never written), CLGAN_ENOMEM. */
clgan_status st_encode(const struct st_tensor *t, size_t n, const json_t *metadata, uint8_t **out,
                       size_t *size);

/* A decoded file: entries point into the caller's bytes (kept alive by the
 * caller); meta is the __metadata__ object (owned by header). */
struct st_entry {
    const char *name;          /* owned by header */
    size_t ndim, dims[ST_MAX_DIMS], count;
    const uint8_t *data;       /* count little-endian float32 values (unaligned) */
};
struct st_file {
    json_t *header;
    json_t *meta;
    size_t n;
    struct st_entry *entries;  /* sorted by offset */
};

/* Validates and decodes bytes: length cap, JSON well-formed with no
 * duplicate keys, only F32 tensors of 0..4 dims, shape products equal to
 * the byte ranges, ranges contiguous from 0 in order with no overlap and no
 * hole, data ending exactly at the end, metadata all strings, both CRCs.
 * `what` names the file in messages. Errors: CLGAN_EFORMAT, CLGAN_ECRC,
 * CLGAN_ENOMEM. On failure *f is empty. */
clgan_status st_decode(const uint8_t *bytes, size_t size, const char *what, struct st_file *f);
void st_file_release(struct st_file *f);
/* The entry named name, or NULL. */
const struct st_entry *st_find(const struct st_file *f, const char *name);
/* Copies an entry's values into dst (count floats). */
void st_read_floats(const struct st_entry *e, float *dst);

#endif
