/*
 * Incremental UTF-8 validation (RFC 3629 §3-4), for WebSocket text frames and close
 * reasons (RFC 6455 §5.6, §8.1). Sans-IO and allocation-free.
 *
 * The validator is a small DFA whose whole state is one uint32_t, so a text message
 * split over several frames is checked chunk by chunk, with no copy and no buffering,
 * and a bad byte is caught in the chunk where it arrives. It rejects what RFC 3629
 * forbids: stray continuation bytes, overlong forms (C0, C1, E0 80..9F, F0 80..8F),
 * UTF-16 surrogates (ED A0..BF) and code points above U+10FFFF (F4 90.., F5..FF).
 *
 * Thread-safety: pure functions over caller state; safe from any thread.
 */
#ifndef SIO_WS_UTF8_H
#define SIO_WS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The start state, and the only state in which a complete text is valid. */
#define SIO__UTF8_ACCEPT 0
/* Sticky failure: once reached, every further step stays here. */
#define SIO__UTF8_REJECT 1
/* Any other value means "inside a multi-byte sequence" (more bytes are needed). */

/*
 * Runs the validator over s[0..len) starting from state and returns the new state.
 * Start with SIO__UTF8_ACCEPT; feed chunks in order; the text as a whole is valid iff
 * the state after the last chunk is SIO__UTF8_ACCEPT. Returns SIO__UTF8_REJECT as soon
 * as an invalid byte is seen (the rest of the chunk is not read). s is borrowed and may
 * be NULL when len is 0.
 */
uint32_t sio__utf8_step(uint32_t state, const char *s, size_t len);

/* One-shot check of a complete text. Returns 1 if s[0..len) is valid UTF-8, else 0. */
int sio__utf8_valid(const char *s, size_t len);

#endif /* SIO_WS_UTF8_H */
