/*
 * SIO__COUNT(expr): a metrics counter bump (sio/metrics.h). Compiled out with
 * -DSIO_METRICS=OFF (SIO_NO_METRICS), which exists to measure what the counters cost
 * (bench/run.sh metrics); the metrics then read zero.
 */
#ifndef SIO_COMMON_COUNT_H
#define SIO_COMMON_COUNT_H

#ifdef SIO_NO_METRICS
#define SIO__COUNT(...) ((void)0)
#else
#define SIO__COUNT(...) ((void)(__VA_ARGS__))
#endif

#endif
