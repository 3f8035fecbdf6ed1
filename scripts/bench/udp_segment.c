// Sender CPU per datagram on loopback: runs of equal datagrams to one destination sent with sendmmsg
// (one message each) or as one UDP_SEGMENT message (what Sources/Net/SegmentedSend.swift does).
// On loopback the receive path runs in the sender's softirq, so the figure includes delivery.
//
//   cc -O2 -o /tmp/udp_segment scripts/bench/udp_segment.c
//   unshare --net -- bash -c 'ip link set lo up; for r in 1 2 3 8; do /tmp/udp_segment $r 0; /tmp/udp_segment $r 1; done'
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

enum { TOTAL = 400000, SIZE = 124, MAX_RUN = 64 };

static double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s RUN_LENGTH SEGMENTED(0|1)\n", argv[0]); return 2; }
    int run = atoi(argv[1]), segmented = atoi(argv[2]);
    if (run < 1 || run > MAX_RUN) { fprintf(stderr, "run length 1-%d\n", MAX_RUN); return 2; }
    struct sockaddr_in receiver = { .sin_family = AF_INET, .sin_port = htons(39999), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in sender = receiver;
    sender.sin_port = htons(39998);
    int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0), big = 64 << 20;
    setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    if (bind(rx, (void *)&receiver, sizeof receiver) || bind(tx, (void *)&sender, sizeof sender)) { perror("bind"); return 1; }
    if (fork() == 0) {  // the receiver: counts datagrams until all arrived
        char buffer[65536];
        for (long received = 0; received < TOTAL;) if (recv(rx, buffer, sizeof buffer, 0) > 0) received++;
        _exit(0);
    }
    static char data[MAX_RUN][SIZE];
    struct iovec iov[MAX_RUN];
    struct mmsghdr messages[MAX_RUN];
    memset(messages, 0, sizeof messages);
    for (int i = 0; i < run; i++) {
        iov[i] = (struct iovec){ .iov_base = data[i], .iov_len = SIZE };
        messages[i].msg_hdr = (struct msghdr){ .msg_name = &receiver, .msg_namelen = sizeof receiver, .msg_iov = &iov[i], .msg_iovlen = 1 };
    }
    char control[CMSG_SPACE(sizeof(unsigned short))];
    struct msghdr one = { .msg_name = &receiver, .msg_namelen = sizeof receiver, .msg_iov = iov, .msg_iovlen = run,
                          .msg_control = control, .msg_controllen = sizeof control };
    struct cmsghdr *header = CMSG_FIRSTHDR(&one);
    header->cmsg_level = SOL_UDP;
    header->cmsg_type = UDP_SEGMENT;
    header->cmsg_len = CMSG_LEN(sizeof(unsigned short));
    *(unsigned short *)CMSG_DATA(header) = SIZE;
    double start = cpu_seconds();
    for (long sent = 0; sent < TOTAL; sent += run) {
        if (segmented ? sendmsg(tx, &one, 0) < 0 : sendmmsg(tx, messages, run, 0) < 0) { perror("send"); return 1; }
        if (sent % 20000 < run) usleep(2000);  // let the receiver keep up (its buffer is 64 MiB anyway)
    }
    double cpu = cpu_seconds() - start;
    wait(NULL);
    printf("runs of %d, %s: %.2f us sender CPU per datagram\n", run, segmented ? "one UDP_SEGMENT message" : "sendmmsg", cpu / TOTAL * 1e6);
    return 0;
}
