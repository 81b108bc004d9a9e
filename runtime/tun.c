/* TUN creation with errors that tell people what to do. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "offload.h"
#include "tun.h"

static const char fix_perm[] = "run it with sudo, or give the program the capability once: "
                               "sudo setcap cap_net_admin+ep \"$(command -v triglav)\"";

static int open_one(const char *name, bool vnet, char name_out[16], char *err, size_t errcap)
{
    if (strlen(name) >= IFNAMSIZ) {
        snprintf(err, errcap, "TUN name '%s' is too long (at most %d characters)", name,
                 IFNAMSIZ - 1);
        return -EINVAL;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENODEV || e == ENXIO)
            snprintf(err, errcap,
                     "/dev/net/tun does not exist: load the module (sudo modprobe tun); in a "
                     "container, pass the device in (e.g. docker run --device /dev/net/tun "
                     "--cap-add NET_ADMIN)");
        else if (e == EACCES || e == EPERM)
            snprintf(err, errcap, "no permission to open /dev/net/tun: %s", fix_perm);
        else
            snprintf(err, errcap, "cannot open /dev/net/tun: %s", strerror(e));
        return -e;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        int e = errno;
        if (e == EPERM || e == EACCES)
            snprintf(err, errcap, "no permission to create TUN device '%s': %s", name, fix_perm);
        else if (e == EBUSY)
            snprintf(err, errcap,
                     "TUN device '%s' is in use by another program (is triglav already "
                     "running? choose another with --tun-name)",
                     name);
        else
            snprintf(err, errcap, "cannot create TUN device '%s': %s", name, strerror(e));
        close(fd);
        return -e;
    }
    snprintf(name_out, IFNAMSIZ, "%s", ifr.ifr_name);
    return fd;
}

int rt_tun_open(const char *name, bool offload, bool *got_offload, char name_out[16], char *err,
                size_t errcap)
{
    *got_offload = false;
    if (offload) {
        int fd = open_one(name, true, name_out, err, errcap);
        if (fd < 0)
            return fd;
        if (rt_offload_enable(fd) == 0) {
            *got_offload = true;
            return fd;
        }
        close(fd); /* a kernel without TUN offloads: plain packets */
    }
    return open_one(name, false, name_out, err, errcap);
}
