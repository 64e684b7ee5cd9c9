/* config_json.h: the training config as JSON (jansson) for checkpoints.
 * Internal header (brings in jansson.h). */
#ifndef CLGAN_TRAIN_CONFIG_JSON_H
#define CLGAN_TRAIN_CONFIG_JSON_H

#include <jansson.h>

#include "clgan/gan.h"

/* A new JSON object with every field of c (NULL: out of memory). */
json_t *train_config_to_json(const struct clgan_train_config *c);
/* Strict reader: every field present with its type, no unknown ones, then
 * clgan_train_config_check. Errors: CLGAN_EFORMAT naming the field. */
clgan_status train_config_from_json(const json_t *j, struct clgan_train_config *c);

#endif
