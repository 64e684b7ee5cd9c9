/* status.c: status names and messages generated from CLGAN_STATUS_MAP, and
 * the thread-local last-error detail that explains the latest failure. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "backend/backend_impl.h"

static _Thread_local char last_error[4096];

const char *clgan_status_name(clgan_status s)
{
    switch (s) {
#define XX(name, value, msg) \
    case CLGAN_##name:       \
        return "CLGAN_" #name;
        CLGAN_STATUS_MAP(XX)
#undef XX
    }
    return "CLGAN_UNKNOWN";
}

const char *clgan_status_str(clgan_status s)
{
    switch (s) {
#define XX(name, value, msg) \
    case CLGAN_##name:       \
        return msg;
        CLGAN_STATUS_MAP(XX)
#undef XX
    }
    return "unknown status";
}

const char *clgan_last_error(void)
{
    return last_error;
}

clgan_status clgan_set_error(clgan_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

void clgan_clear_error(void)
{
    last_error[0] = '\0';
}
