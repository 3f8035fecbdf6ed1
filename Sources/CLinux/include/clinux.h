// Linux calls glibc only declares under _GNU_SOURCE, which Swift's Glibc module is not built
// with: recvmmsg/sendmmsg (with a layout-identical struct mmsghdr), accept4 and thread naming.
#ifndef CLINUX_H
#define CLINUX_H

#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

struct confab_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

int confab_recvmmsg(int fd, struct confab_mmsghdr *vector, unsigned int count, int flags);
int confab_sendmmsg(int fd, struct confab_mmsghdr *vector, unsigned int count, int flags);

/// accept4(2): a connection accepted non-blocking and close-on-exec in one call.
int confab_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

/// Names the calling thread (15 bytes at most), shown by top -H and in crash reports.
void confab_set_thread_name(const char *name);

#endif
