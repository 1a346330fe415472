/*
 * The standard process_* metrics (the names every Prometheus client library uses), read
 * from /proc/self at scrape time. Where /proc is absent nothing is written.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sio/metrics.h"

int sio__metrics_err(const sio_metrics_out_t *o); /* metrics.c */

/* Fields 14 (utime), 15 (stime), 22 (starttime, ticks after boot), 23 (vsize), 24 (rss
 * pages) of /proc/self/stat; the command name (field 2) may hold spaces, so parsing
 * starts after its closing parenthesis. */
static int read_stat(double *cpu, double *start_ticks, double *vsize, double *rss_pages) {
  char buf[1024];
  FILE *f = fopen("/proc/self/stat", "r");
  if (f == NULL) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  if (p == NULL) return -1;
  unsigned long long v[25] = {0}; /* v[i]: field i */
  char *save = NULL;
  int i = 3;
  for (char *t = strtok_r(p + 1, " ", &save); t && i <= 24; t = strtok_r(NULL, " ", &save), i++) {
    if (i >= 14) v[i] = strtoull(t, NULL, 10);
  }
  if (i <= 24) return -1;
  long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0) hz = 100;
  *cpu = (double)(v[14] + v[15]) / (double)hz;
  *start_ticks = (double)v[22] / (double)hz;
  *vsize = (double)v[23];
  *rss_pages = (double)v[24];
  return 0;
}

/* Seconds since the epoch at boot: /proc/stat's btime. */
static double boot_time(void) {
  char line[256];
  double bt = 0;
  FILE *f = fopen("/proc/stat", "r");
  if (f == NULL) return 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "btime ", 6) == 0) {
      bt = strtod(line + 6, NULL);
      break;
    }
  }
  fclose(f);
  return bt;
}

static double open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return -1;
  double n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
  closedir(d);
  return n - 1; /* the directory's own descriptor */
}

static void one(sio_metrics_out_t *o, const char *name, sio_metric_type_t type, const char *help, double v) {
  sio_metrics_family(o, name, type, help);
  sio_metrics_sample(o, name, v, NULL);
}

int sio_metrics_write_process(sio_metrics_out_t *o) {
  double cpu, start, vsize, rss;
  if (read_stat(&cpu, &start, &vsize, &rss) != 0) return 0;
  long page = sysconf(_SC_PAGESIZE);
  one(o, "process_cpu_seconds_total", SIO_METRIC_COUNTER, "Total user and system CPU time spent in seconds.", cpu);
  one(o, "process_resident_memory_bytes", SIO_METRIC_GAUGE, "Resident memory size in bytes.",
      rss * (double)(page > 0 ? page : 4096));
  one(o, "process_virtual_memory_bytes", SIO_METRIC_GAUGE, "Virtual memory size in bytes.", vsize);
  double fds = open_fds();
  if (fds >= 0) one(o, "process_open_fds", SIO_METRIC_GAUGE, "Number of open file descriptors.", fds);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    one(o, "process_max_fds", SIO_METRIC_GAUGE, "Maximum number of open file descriptors.", (double)rl.rlim_cur);
  }
  double bt = boot_time();
  if (bt > 0) {
    one(o, "process_start_time_seconds", SIO_METRIC_GAUGE, "Start time of the process since unix epoch in seconds.",
        bt + start);
  }
  return sio__metrics_err(o);
}
