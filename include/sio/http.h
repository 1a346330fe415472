/* placeholder, replaced below */
#ifndef SIO_HTTP_H
#define SIO_HTTP_H
#include <stddef.h>
typedef struct { const char *path; const char *mime; const unsigned char *data; size_t len; const char *etag; } sio_asset_t;
#endif
