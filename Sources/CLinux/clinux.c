#define _GNU_SOURCE
#include <stddef.h>
#include <pthread.h>
#include <sys/socket.h>
#include "clinux.h"

_Static_assert(sizeof(struct confab_mmsghdr) == sizeof(struct mmsghdr), "mmsghdr layout");
_Static_assert(offsetof(struct confab_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "mmsghdr layout");

int confab_recvmmsg(int fd, struct confab_mmsghdr *vector, unsigned int count, int flags) {
    return recvmmsg(fd, (struct mmsghdr *)vector, count, flags, NULL);
}

int confab_sendmmsg(int fd, struct confab_mmsghdr *vector, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)vector, count, flags);
}

void confab_set_thread_name(const char *name) {
    pthread_setname_np(pthread_self(), name);
}

int confab_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    return accept4(fd, address, length, flags);
}
