/* sio/version.h: library version. */
#ifndef SIO_VERSION_H
#define SIO_VERSION_H

#define SIO_VERSION_MAJOR 0
#define SIO_VERSION_MINOR 1
#define SIO_VERSION_PATCH 0

#ifndef SIO_EXTERN
#define SIO_EXTERN __attribute__((visibility("default")))
#endif

/* Returns "MAJOR.MINOR.PATCH"; static storage. */
SIO_EXTERN const char *sio_version_string(void);

#endif
