/* --admin: the Socket.IO admin UI's server side (sio/admin.h) and, with --admin-ui, its
 * files at /admin/. */
#ifndef NOOM_ADMIN_H
#define NOOM_ADMIN_H

#include "options.h"
#include "sio.h"

/* Checks the --admin-* flags and attaches; prints what is wrong and returns non-zero
 * when the server must not start. Nothing happens without --admin. */
int noom_admin_init(sio_http_t *http, sio_server_t *io, const noom_options_t *o);

#endif
