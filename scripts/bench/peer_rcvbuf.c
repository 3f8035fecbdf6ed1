// LD_PRELOAD shim for the TURN benchmark's echo peer (coturn's turnutils_peer): its UDP sockets get
// a 4 MiB receive buffer instead of the default 208 KiB. One peer process receives from all 200
// relays at once, and with the default buffer the kernel dropped some of their datagrams at the
// peer's socket, with either server under test, which the benchmark then reported as loss.
// turnutils_peer has no option for its buffer size. The kernel caps the request at
// net.core.rmem_max (a request above it silently gets that maximum).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/socket.h>

int socket(int domain, int type, int protocol) {
    static int (*real_socket)(int, int, int);
    if (!real_socket) real_socket = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
    int fd = real_socket(domain, type, protocol);
    if (fd >= 0 && (type & 0xff) == SOCK_DGRAM) {
        int size = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    return fd;
}
