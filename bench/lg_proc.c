/*
 * bench/lg_proc.c: what the generator reads about the server and itself.
 *
 * Server CPU is utime + stime from /proc/<pid>/stat (fields 14 and 15, proc(5)): it
 * counts every thread (Node's GC and libuv pool included), in clock ticks (usually
 * 10 ms), so runs last seconds to keep the per-operation figure exact to a few percent.
 * RSS is the second field of /proc/<pid>/statm times the page size.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lg.h"

int64_t lg_proc_cpu_us(int pid) {
  char path[64], buf[1024];
  if (pid <= 0) return -1;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* comm (field 2) may hold spaces and parentheses: fields restart after the last ')'. */
  char *p = strrchr(buf, ')');
  if (!p) return -1;
  unsigned long long ut, st;
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return -1;
  long hz = sysconf(_SC_CLK_TCK);
  return (int64_t)((ut + st) * 1000000ull / (unsigned long long)hz);
}

int64_t lg_proc_rss(int pid) {
  char path[64];
  if (pid <= 0) return -1;
  snprintf(path, sizeof path, "/proc/%d/statm", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  unsigned long long size, rss;
  int ok = fscanf(f, "%llu %llu", &size, &rss) == 2;
  fclose(f);
  return ok ? (int64_t)(rss * (unsigned long long)sysconf(_SC_PAGESIZE)) : -1;
}

int64_t lg_self_cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
         (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}
