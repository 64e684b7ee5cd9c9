/* safetensors.c: writes and strictly reads the safetensors layout (see
 * safetensors.h). The JSON header is built and parsed with jansson; the
 * data section and the header each carry a zlib CRC-32 in __metadata__, so
 * any change to a byte of the file is caught. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "backend/backend_impl.h"
#include "io/safetensors.h"

static int host_is_le(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static uint32_t crc_of(const uint8_t *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

/* The CRC of the header as it would be without __metadata__.header_crc32,
 * serialised canonically (sorted keys, compact). */
static clgan_status header_crc(const json_t *header, uint32_t *out)
{
    json_t *copy = json_deep_copy(header);
    if (!copy)
        return clgan_set_error(CLGAN_ENOMEM, "checkpoint: out of memory");
    json_t *meta = json_object_get(copy, "__metadata__");
    if (meta)
        json_object_del(meta, "header_crc32");
    char *text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(copy);
    if (!text)
        return clgan_set_error(CLGAN_ENOMEM, "checkpoint: out of memory");
    *out = crc_of((const uint8_t *)text, strlen(text));
    free(text);
    return CLGAN_OK;
}

static void put_f32_le(uint8_t *dst, const float *src, size_t count)
{
    if (host_is_le()) {
        memcpy(dst, src, count * sizeof(float));
        return;
    }
    for (size_t i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, &src[i], 4);
        for (int k = 0; k < 4; k++)
            dst[4 * i + k] = (uint8_t)(u >> (8 * k));
    }
}

void st_read_floats(const struct st_entry *e, float *dst)
{
    if (host_is_le()) {
        memcpy(dst, e->data, e->count * sizeof(float));
        return;
    }
    for (size_t i = 0; i < e->count; i++) {
        const uint8_t *b = e->data + 4 * i;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        memcpy(&dst[i], &u, 4);
    }
}

static size_t numel(const struct st_tensor *t)
{
    size_t n = 1;
    for (size_t d = 0; d < t->ndim; d++)
        n *= t->dims[d];
    return n;
}

clgan_status st_encode(const struct st_tensor *t, size_t n, const json_t *metadata, uint8_t **out,
                       size_t *size)
{
    if (!t || !metadata || !out || !size)
        return clgan_set_error(CLGAN_ENULL, "st_encode: NULL argument");
    *out = NULL;
    *size = 0;
    clgan_status s = CLGAN_OK;
    json_t *header = json_object(), *meta = json_deep_copy(metadata);
    uint8_t *data = NULL, *img = NULL;
    char *text = NULL;
    if (!header || !meta || !json_is_object(meta)) {
        s = clgan_set_error(CLGAN_ENOMEM, "checkpoint: out of memory");
        goto done;
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!t[i].name || !t[i].name[0] || !strcmp(t[i].name, "__metadata__") || t[i].ndim > ST_MAX_DIMS ||
            json_object_get(header, t[i].name)) {
            s = clgan_set_error(CLGAN_EINVAL, "checkpoint: bad or repeated tensor name or shape (%s)",
                                t[i].name ? t[i].name : "NULL");
            goto done;
        }
        json_t *shape = json_array(), *offs = json_array(), *e = json_object();
        for (size_t d = 0; d < t[i].ndim; d++)
            json_array_append_new(shape, json_integer((json_int_t)t[i].dims[d]));
        const size_t bytes = numel(&t[i]) * sizeof(float);
        json_array_append_new(offs, json_integer((json_int_t)total));
        json_array_append_new(offs, json_integer((json_int_t)(total + bytes)));
        json_object_set_new(e, "dtype", json_string("F32"));
        json_object_set_new(e, "shape", shape);
        json_object_set_new(e, "data_offsets", offs);
        if (json_object_set_new(header, t[i].name, e) != 0) {
            s = clgan_set_error(CLGAN_ENOMEM, "checkpoint: out of memory");
            goto done;
        }
        total += bytes;
    }
    data = malloc(total ? total : 1);
    if (!data) {
        s = clgan_set_error(CLGAN_ENOMEM, "checkpoint: no memory for %zu bytes of tensors", total);
        goto done;
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const size_t c = numel(&t[i]);
        /* A checkpoint with non-finite values is never written: it could
         * only resume a run that has already failed. */
        for (size_t k = 0; k < c; k++)
            if (!isfinite(t[i].data[k])) {
                s = clgan_set_error(CLGAN_ENONFINITE, "checkpoint: tensor %s element %zu is not finite (%g)",
                                    t[i].name, k, (double)t[i].data[k]);
                goto done;
            }
        put_f32_le(data + at, t[i].data, c);
        at += c * sizeof(float);
    }
    char hex[16];
    snprintf(hex, sizeof hex, "%08x", (unsigned)crc_of(data, total));
    json_object_set_new(meta, "crc32", json_string(hex));
    json_object_set(header, "__metadata__", meta);
    uint32_t hc;
    if ((s = header_crc(header, &hc)) != CLGAN_OK)
        goto done;
    snprintf(hex, sizeof hex, "%08x", (unsigned)hc);
    json_object_set_new(meta, "header_crc32", json_string(hex));
    text = json_dumps(header, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) {
        s = clgan_set_error(CLGAN_ENOMEM, "checkpoint: out of memory");
        goto done;
    }
    /* Padded with spaces so the data starts 8-byte aligned (as
     * safetensors writers do). */
    const size_t len = strlen(text), hlen = (len + 7) & ~(size_t)7;
    img = malloc(8 + hlen + total);
    if (!img) {
        s = clgan_set_error(CLGAN_ENOMEM, "checkpoint: out of memory");
        goto done;
    }
    for (int k = 0; k < 8; k++)
        img[k] = (uint8_t)((uint64_t)hlen >> (8 * k));
    memcpy(img + 8, text, len);
    memset(img + 8 + len, ' ', hlen - len);
    memcpy(img + 8 + hlen, data, total);
    *out = img;
    *size = 8 + hlen + total;
    img = NULL;
done:
    free(text);
    free(data);
    free(img);
    json_decref(meta);
    json_decref(header);
    return s;
}

void st_file_release(struct st_file *f)
{
    if (!f)
        return;
    free(f->entries);
    json_decref(f->header);
    memset(f, 0, sizeof *f);
}

const struct st_entry *st_find(const struct st_file *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->entries[i].name, name))
            return &f->entries[i];
    return NULL;
}

/* An integer of the header within [0, max]. */
static int get_size(const json_t *v, size_t max, size_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
        return 0;
    *out = (size_t)json_integer_value(v);
    return 1;
}

static int by_offset(const void *a, const void *b)
{
    const struct st_entry *x = a, *y = b;
    if (x->data != y->data)
        return x->data < y->data ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int hex8(const char *s, uint32_t *out)
{
    if (!s || strlen(s) != 8)
        return 0;
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return 0;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 1;
}

clgan_status st_decode(const uint8_t *bytes, size_t size, const char *what, struct st_file *f)
{
    if (!bytes || !f)
        return clgan_set_error(CLGAN_ENULL, "st_decode: NULL argument");
    memset(f, 0, sizeof *f);
    if (size < 8)
        return clgan_set_error(CLGAN_EFORMAT, "%s: %zu bytes, too short for a safetensors file", what, size);
    uint64_t hlen = 0;
    for (int k = 0; k < 8; k++)
        hlen |= (uint64_t)bytes[k] << (8 * k);
    if (hlen < 2 || hlen > ST_MAX_HEADER || hlen > size - 8)
        return clgan_set_error(CLGAN_EFORMAT, "%s: header length %llu out of range (2..%zu, file %zu bytes)",
                               what, (unsigned long long)hlen, ST_MAX_HEADER, size);
    const char *h = (const char *)bytes + 8;
    if (memchr(h, '\0', (size_t)hlen))
        return clgan_set_error(CLGAN_EFORMAT, "%s: NUL byte in the JSON header", what);
    json_error_t err;
    f->header = json_loadb(h, (size_t)hlen, JSON_REJECT_DUPLICATES, &err);
    if (!f->header)
        return clgan_set_error(CLGAN_EFORMAT, "%s: JSON header, byte %d: %s", what, err.position + 8,
                               err.text);
    clgan_status s = CLGAN_OK;
    const uint8_t *data = bytes + 8 + hlen;
    const size_t data_size = size - 8 - (size_t)hlen;
    if (!json_is_object(f->header)) {
        s = clgan_set_error(CLGAN_EFORMAT, "%s: the header is not a JSON object", what);
        goto fail;
    }
    f->meta = json_object_get(f->header, "__metadata__");
    if (!json_is_object(f->meta)) {
        s = clgan_set_error(CLGAN_EFORMAT, "%s: no __metadata__ object", what);
        goto fail;
    }
    const char *key;
    json_t *val;
    json_object_foreach(f->meta, key, val) {
        if (!json_is_string(val)) {
            s = clgan_set_error(CLGAN_EFORMAT, "%s: metadata %s is not a string", what, key);
            goto fail;
        }
    }
    const size_t n = json_object_size(f->header) - 1;
    f->entries = calloc(n ? n : 1, sizeof *f->entries);
    if (!f->entries) {
        s = clgan_set_error(CLGAN_ENOMEM, "%s: out of memory", what);
        goto fail;
    }
    json_object_foreach(f->header, key, val) {
        if (!strcmp(key, "__metadata__"))
            continue;
        struct st_entry *e = &f->entries[f->n++];
        e->name = key;
        const json_t *dt = json_object_get(val, "dtype"), *sh = json_object_get(val, "shape"),
                     *of = json_object_get(val, "data_offsets");
        if (!json_is_object(val) || json_object_size(val) != 3 || !json_is_string(dt) || !json_is_array(sh) ||
            !json_is_array(of) || json_array_size(of) != 2) {
            s = clgan_set_error(CLGAN_EFORMAT, "%s: tensor %s: want exactly dtype, shape, data_offsets",
                                what, key);
            goto fail;
        }
        if (strcmp(json_string_value(dt), "F32")) {
            s = clgan_set_error(CLGAN_EFORMAT, "%s: tensor %s: dtype %s (only F32 is read)", what, key,
                                json_string_value(dt));
            goto fail;
        }
        e->ndim = json_array_size(sh);
        if (e->ndim > ST_MAX_DIMS) {
            s = clgan_set_error(CLGAN_EFORMAT, "%s: tensor %s: %zu dimensions (at most %d)", what, key,
                                e->ndim, ST_MAX_DIMS);
            goto fail;
        }
        size_t count = 1, b, end;
        for (size_t d = 0; d < e->ndim; d++) {
            if (!get_size(json_array_get(sh, d), data_size, &e->dims[d]) ||
                (e->dims[d] && count > data_size / e->dims[d])) {
                s = clgan_set_error(CLGAN_EFORMAT, "%s: tensor %s: dimension %zu bad or too large", what,
                                    key, d);
                goto fail;
            }
            count *= e->dims[d];
        }
        e->count = count;
        if (!get_size(json_array_get(of, 0), data_size, &b) || !get_size(json_array_get(of, 1), data_size, &end) ||
            end < b || end - b != count * sizeof(float)) {
            s = clgan_set_error(CLGAN_EFORMAT,
                                "%s: tensor %s: data_offsets do not match its shape (%zu floats) within %zu data bytes",
                                what, key, count, data_size);
            goto fail;
        }
        e->data = data + b;
    }
    qsort(f->entries, f->n, sizeof *f->entries, by_offset);
    size_t expect = 0;
    for (size_t i = 0; i < f->n; i++) {
        const size_t b = (size_t)(f->entries[i].data - data);
        if (b != expect) {
            s = clgan_set_error(CLGAN_EFORMAT, "%s: tensor %s starts at data byte %zu, want %zu (%s)", what,
                                f->entries[i].name, b, expect, b < expect ? "overlap" : "hole");
            goto fail;
        }
        expect = b + f->entries[i].count * sizeof(float);
    }
    if (expect != data_size) {
        s = clgan_set_error(CLGAN_EFORMAT, "%s: tensors end at data byte %zu but the file has %zu data bytes",
                            what, expect, data_size);
        goto fail;
    }
    uint32_t want, got;
    if (!hex8(json_string_value(json_object_get(f->meta, "header_crc32")), &want)) {
        s = clgan_set_error(CLGAN_EFORMAT, "%s: metadata header_crc32 missing or not 8 hex digits", what);
        goto fail;
    }
    if ((s = header_crc(f->header, &got)) != CLGAN_OK)
        goto fail;
    if (got != want) {
        s = clgan_set_error(CLGAN_ECRC, "%s: header CRC-32 %08x, recorded %08x", what, (unsigned)got,
                            (unsigned)want);
        goto fail;
    }
    if (!hex8(json_string_value(json_object_get(f->meta, "crc32")), &want)) {
        s = clgan_set_error(CLGAN_EFORMAT, "%s: metadata crc32 missing or not 8 hex digits", what);
        goto fail;
    }
    got = crc_of(data, data_size);
    if (got != want) {
        s = clgan_set_error(CLGAN_ECRC, "%s: data CRC-32 %08x, recorded %08x", what, (unsigned)got,
                            (unsigned)want);
        goto fail;
    }
    return CLGAN_OK;
fail:
    st_file_release(f);
    return s;
}
