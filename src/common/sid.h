/* Session and socket ids: 20 characters of base64url from 15 random bytes (like base64id). */
#ifndef SIO_COMMON_SID_H
#define SIO_COMMON_SID_H

#define SIO__SID_LEN 20

/* Writes SIO__SID_LEN chars and a NUL into out (at least 21 bytes). Returns 0 or SIO_EPROTO
 * when the random generator fails. */
int sio__sid_generate(char out[SIO__SID_LEN + 1]);

#endif
