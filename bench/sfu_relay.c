/*
 * bench/sfu_relay.c: the floor for bench/sfu_load.c (issue 17): a minimal UDP relay that
 * forwards every datagram from a participant to every other participant, recvmmsg in,
 * sendmmsg out, no crypto, no parsing. Participants are the source addresses seen (at
 * most 256), in the order they first send; with an argument G, members 0..G-1 are one
 * call, G..2G-1 the next, and so on. It prints "relay <port>" once bound to 127.0.0.1:0,
 * then runs until killed.
 *
 *   sfu_relay [G]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32
#define MAXM 256

static struct sockaddr_in members[MAXM];
static int nmembers;

static int member(const struct sockaddr_in *a) {
  for (int i = 0; i < nmembers; i++)
    if (members[i].sin_port == a->sin_port && members[i].sin_addr.s_addr == a->sin_addr.s_addr) return i;
  if (nmembers == MAXM) return -1;
  members[nmembers] = *a;
  return nmembers++;
}

int main(int argc, char **argv) {
  int g = argc > 1 ? atoi(argv[1]) : MAXM;
  if (g < 1) return 2;
  int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &al) != 0) return 1;
  printf("relay %d\n", ntohs(a.sin_port));
  fflush(stdout);
  static char buf[BATCH][1600];
  static struct sockaddr_in from[BATCH];
  static struct mmsghdr in[BATCH], out[MAXM];
  static struct iovec iv[BATCH], ov[MAXM];
  for (;;) {
    for (int k = 0; k < BATCH; k++) {
      iv[k].iov_base = buf[k];
      iv[k].iov_len = sizeof buf[k];
      memset(&in[k], 0, sizeof in[k]);
      in[k].msg_hdr.msg_name = &from[k];
      in[k].msg_hdr.msg_namelen = sizeof from[k];
      in[k].msg_hdr.msg_iov = &iv[k];
      in[k].msg_hdr.msg_iovlen = 1;
    }
    int r = recvmmsg(fd, in, BATCH, MSG_WAITFORONE, NULL);
    if (r <= 0) continue;
    for (int k = 0; k < r; k++) {
      int src = member(&from[k]);
      int f = 0;
      for (int i = 0; i < nmembers; i++) {
        if (i == src || i / g != src / g) continue;
        ov[f].iov_base = buf[k];
        ov[f].iov_len = in[k].msg_len;
        memset(&out[f], 0, sizeof out[f]);
        out[f].msg_hdr.msg_name = &members[i];
        out[f].msg_hdr.msg_namelen = sizeof members[i];
        out[f].msg_hdr.msg_iov = &ov[f];
        out[f].msg_hdr.msg_iovlen = 1;
        f++;
      }
      for (int done = 0; done < f;) {
        int s = sendmmsg(fd, out + done, (unsigned)(f - done), 0);
        done += s > 0 ? s : 1;
      }
    }
  }
}
