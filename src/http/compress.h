/*
 * http/compress.h: Content-Encoding for responses, sans-IO. Picks the encoding a request
 * accepts (Accept-Encoding read the way npm negotiator / accepts do, which engine.io and
 * socket.io use) and compresses a body with zlib: gzip (RFC 1952) or deflate (the zlib
 * format of RFC 1950, what Node's zlib.createDeflate sends as "deflate").
 * Pure functions, no loop; the buffers are the caller's.
 */
#ifndef SIO_HTTP_COMPRESS_H
#define SIO_HTTP_COMPRESS_H

#include <stddef.h>

#include "common/buf.h"
#include "sio/common.h"

enum { SIO__ENC_IDENTITY = 0, SIO__ENC_GZIP = 1, SIO__ENC_DEFLATE = 2 };

/* engine.io's httpCompression threshold: smaller bodies go out as they are. */
#define SIO__COMPRESS_THRESHOLD 1024

/*
 * The encoding to answer with, among gzip and (if offer_deflate) deflate, for an
 * Accept-Encoding value ae (ptr NULL: no header): what accepts(req).encodings(["gzip",
 * "deflate"]) returns: the highest q (an exact name beats "*"; equal q: the one listed
 * first in ae, then gzip), none with q=0. SIO__ENC_IDENTITY when neither is acceptable.
 */
int sio__http_pick_encoding(sio_str_t ae, int offer_deflate);

/* The Content-Encoding token of enc ("gzip", "deflate"), NULL for identity. */
const char *sio__http_encoding_name(int enc);

/*
 * Appends in[0..len) compressed with enc (SIO__ENC_GZIP or SIO__ENC_DEFLATE) at zlib
 * level (1..9, or -1 for zlib's default 6, Node's too) to out. Returns 0, SIO_ENOMEM, or
 * SIO_EINVAL (enc is identity). On error out keeps its earlier bytes only.
 */
int sio__http_compress(int enc, const void *in, size_t len, int level, sio__buf_t *out);

/* 1 if a Content-Type is worth compressing: text, JavaScript, JSON, SVG, XML. */
int sio__http_compressible(const char *mime);

#endif
