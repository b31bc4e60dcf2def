/*
 * tcpinfo.c: how far a TCP peer has acknowledged what we sent, for the primary to see a replica
 * stall while a diskless snapshot child (not the primary) writes its socket. In a file of its
 * own because <linux/tcp.h>, which has tcpi_bytes_acked, cannot share a unit with
 * <netinet/tcp.h>.
 */
#include <stdint.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>

int tandem_tcp_progress(int fd, int64_t *acked, int64_t *queued) {
    struct tcp_info info;
    socklen_t len = sizeof(info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 || len < sizeof(info)) return -1;
    int outq = 0;
    if (ioctl(fd, SIOCOUTQ, &outq) != 0) return -1;
    *acked = (int64_t)info.tcpi_bytes_acked;
    *queued = outq;
    return 0;
}
