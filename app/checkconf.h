/* noom --check-config: validate a configuration without serving (for deploy scripts). */
#ifndef NOOM_CHECKCONF_H
#define NOOM_CHECKCONF_H

#include "options.h"

/* Checks flags, files (TLS, --web-root), that the ports can be bound, Redis and the
 * history store; prints one "ok" or "FAIL" line each on stdout. 0 when all is well,
 * -1 otherwise. */
int noom_check_config(const noom_options_t *o);

#endif
