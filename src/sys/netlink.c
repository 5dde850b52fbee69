// SPDX-License-Identifier: MIT
/*
 * netlink.c - rtnetlink requests through libmnl (see netlink.h).
 *
 * Theory of operation: a request is built in nl->buf and sent, then nl->buf
 * receives the answer (nl_talk()). Each message with the request's sequence
 * number goes through mnl_cb_run2() with our control callbacks, which turn
 * an error ack (NLMSG_ERROR, code != 0) or a failed dump (NLMSG_DONE, code
 * < 0) into -errno and log the extended ack. A success ack or NLMSG_DONE
 * ends the exchange; the kernel sends no ack for a dump, even with NLM_F_ACK.
 * A dump is read to its end even after an error: the kernel runs one dump
 * per socket at a time, and a dump left half read makes the next -EBUSY.
 *
 * The buffer is 32 KiB because the kernel sizes dump datagrams after the
 * largest receive buffer it has seen, up to 32 KiB; a longer datagram would
 * be cut (MSG_TRUNC, -ENOSPC).
 */
#include "sys/netlink.h"

#include <errno.h>
#include <limits.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <libmnl/libmnl.h>

#include "core/compiler.h"
#include "core/log.h"

#define NL_BUF_SIZE (32u * 1024)

/* One rtnetlink socket (private). */
struct nl {
	struct mnl_socket *sock;
	unsigned int portid; /* ours, carried by the kernel's answers */
	unsigned int seq;    /* last request's; never 0 (libmnl: any) */
	_Alignas(8) char buf[NL_BUF_SIZE]; /* request, then answer */
};

/* An attribute table for mnl_attr_parse(): tb[type] for each type <= max
 * (later kernels send types we do not know; they are left out). */
struct nl_tb {
	const struct nlattr **tb;
	unsigned int max;
};

static int nl_tb_cb(const struct nlattr *attr, void *data)
{
	const struct nl_tb *t = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= t->max)
		t->tb[type] = attr;
	return MNL_CB_OK;
}

/* Log the kernel's extended ack message, which starts @off payload bytes
 * into @nlh, if it sent one. */
static void nl_log_extack(const struct nlmsghdr *nlh, size_t off, int err)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { NULL };
	struct nl_tb t = { tb, NLMSGERR_ATTR_MAX };
	const struct nlattr *msg;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    !log_enabled(LOG_LEVEL_DEBUG) ||
	    off >= mnl_nlmsg_get_payload_len(nlh))
		return;
	(void)mnl_attr_parse(nlh, (unsigned int)off, nl_tb_cb, &t);
	msg = tb[NLMSGERR_ATTR_MSG];
	if (msg && mnl_attr_validate(msg, MNL_TYPE_NUL_STRING) >= 0)
		log_debug("netlink: %s: %s", strerror(err),
			  mnl_attr_get_str(msg));
}

/*
 * NLMSG_ERROR and NLMSG_DONE both start with an int code (struct nlmsgerr's
 * first member): 0 is the ack or the end of a dump, < 0 an error, followed
 * by the extended ack attributes (for NLMSG_ERROR after the capped header,
 * NETLINK_CAP_ACK; uncapped, the request would come first). A positive code
 * is an error too (some families' sign), nonsense is EPROTO.
 */
static int nl_cb_ctl(const struct nlmsghdr *nlh, void *data)
{
	const bool is_err = nlh->nlmsg_type == NLMSG_ERROR;
	const size_t hlen = is_err ? sizeof(struct nlmsgerr) : sizeof(int);
	long e;
	int code;

	(void)data;
	if (mnl_nlmsg_get_payload_len(nlh) < hlen) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	memcpy(&code, mnl_nlmsg_get_payload(nlh), sizeof(code));
	if (code == 0)
		return MNL_CB_STOP;
	e = code < 0 ? -(long)code : code;
	code = e < 4096 ? (int)e : EPROTO;
	if (!is_err || (nlh->nlmsg_flags & NLM_F_CAPPED))
		nl_log_extack(nlh, hlen, code);
	errno = code;
	return MNL_CB_ERROR;
}

/* mnl_cb_run2() skips control messages whose slot is NULL (NOOP, OVERRUN),
 * as libmnl's defaults do. Not const only because libmnl's prototype is not. */
static mnl_cb_t nl_ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = nl_cb_ctl,
	[NLMSG_DONE] = nl_cb_ctl,
};

/* Start a request in nl->buf with a fresh sequence number and NLM_F_ACK. */
static struct nlmsghdr *nl_req(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	if (++nl->seq == 0)
		nl->seq = 1;
	nlh->nlmsg_seq = nl->seq;
	return nlh;
}

/*
 * Send @req (built by nl_req() in nl->buf) and read until its ack or the end
 * of its dump, passing each data message to @cb. Return 0 or -errno.
 */
static int nl_talk(struct nl *nl, const struct nlmsghdr *req, mnl_cb_t cb,
		   void *data)
{
	const unsigned int seq = req->nlmsg_seq;
	const bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	int err = 0;
	unsigned int i;

	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;

	for (i = 0; i < NL_MAX_RECV; i++) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf,
						sizeof(nl->buf));
		const struct nlmsghdr *nlh;
		int len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) /* EAGAIN: SO_RCVTIMEO expired */
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)(void *)nl->buf;
		     mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			bool last = nlh->nlmsg_type == NLMSG_DONE ||
				    nlh->nlmsg_type == NLMSG_ERROR;
			int ret;

			/* Late answers to an earlier request; then the rest
			 * of a failed dump. */
			if (nlh->nlmsg_seq != seq)
				continue;
			if (err) {
				if (last)
					return err;
				continue;
			}
			ret = mnl_cb_run2(nlh, nlh->nlmsg_len, seq, nl->portid,
					  cb, data, nl_ctl_cbs,
					  ARRAY_SIZE(nl_ctl_cbs));
			if (ret == MNL_CB_STOP)
				return 0;
			if (ret == MNL_CB_ERROR) {
				err = errno > 0 ? -errno : -EPROTO;
				if (!dump || last)
					return err;
			}
		}
	}
	/* More datagrams than any sane answer has. */
	return err ? err : -EOVERFLOW;
}

int nl_open(struct nl **out)
{
	const struct timeval tv = {
		.tv_sec = NL_TIMEOUT_MS / 1000,
		.tv_usec = (suseconds_t)(NL_TIMEOUT_MS % 1000) * 1000,
	};
	int one = 1;
	struct nl *nl;
	int ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock) {
		ret = -errno;
		goto err_free;
	}
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO,
		       &tv, sizeof(tv))) {
		ret = -errno;
		goto err_sock;
	}
	/* Short acks and error messages; both are optional (Linux 4.3 and
	 * 4.12), so failing to get them is not an error. */
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one,
				    sizeof(one));
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one,
				    sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto err_sock;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	*out = nl;
	return 0;

err_sock:
	(void)mnl_socket_close(nl->sock);
err_free:
	free(nl);
	return ret;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		(void)mnl_socket_close(nl->sock);
	free(nl);
}

/* ---- links ---- */

/* What an RTM_NEWLINK answer says about a link; ifindex 0: no answer. */
struct nl_link {
	unsigned int ifindex;
	unsigned int mtu;
	uint8_t mac[6];
	bool up;
};

static int nl_link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = { NULL };
	struct nl_tb t = { tb, IFLA_MAX };
	struct nl_link *l = data;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi) ||
	    ifi->ifi_index <= 0 ||
	    mnl_attr_parse(nlh, sizeof(*ifi), nl_tb_cb, &t) < 0 ||
	    (tb[IFLA_MTU] && mnl_attr_validate(tb[IFLA_MTU], MNL_TYPE_U32))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	l->ifindex = (unsigned int)ifi->ifi_index;
	l->up = ifi->ifi_flags & IFF_UP;
	if (tb[IFLA_MTU])
		l->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	/* Absent, or not Ethernet-sized (TUN has none): zeros. */
	if (tb[IFLA_ADDRESS] &&
	    mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == sizeof(l->mac))
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]),
		       sizeof(l->mac));
	return MNL_CB_OK;
}

/* The kernel takes an index as int; 0 is "none". */
static bool nl_ifindex_ok(unsigned int ifindex)
{
	return ifindex != 0 && ifindex <= INT_MAX;
}

/* Start an RTM_GETLINK or RTM_NEWLINK request for link @ifindex (0: by
 * name, which the caller adds). */
static struct nlmsghdr *nl_link_req(struct nl *nl, uint16_t type,
				    unsigned int ifindex)
{
	struct nlmsghdr *nlh = nl_req(nl, type, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	if (type == RTM_GETLINK)
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nlh;
}

static int nl_link_get(struct nl *nl, struct nlmsghdr *nlh, struct nl_link *l)
{
	int ret = nl_talk(nl, nlh, nl_link_cb, l);

	if (!ret && !l->ifindex)
		ret = -EPROTO; /* acked without an answer */
	return ret;
}

int nl_link_index(struct nl *nl, const char *name, unsigned int *ifindex)
{
	struct nl_link l = { 0 };
	struct nlmsghdr *nlh;
	size_t len = name ? strnlen(name, IFNAMSIZ) : 0;
	int ret;

	if (len == 0 || len >= IFNAMSIZ)
		return -EINVAL;
	nlh = nl_link_req(nl, RTM_GETLINK, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	ret = nl_link_get(nl, nlh, &l);
	if (!ret)
		*ifindex = l.ifindex;
	return ret;
}

int nl_link_info(struct nl *nl, unsigned int ifindex, uint8_t mac[6],
		 unsigned int *mtu, bool *up)
{
	struct nl_link l = { 0 };
	int ret;

	if (!nl_ifindex_ok(ifindex))
		return -ENODEV;
	ret = nl_link_get(nl, nl_link_req(nl, RTM_GETLINK, ifindex), &l);
	if (ret)
		return ret;
	if (mac)
		memcpy(mac, l.mac, sizeof(l.mac));
	if (mtu)
		*mtu = l.mtu;
	if (up)
		*up = l.up;
	return 0;
}

int nl_link_set_mtu(struct nl *nl, unsigned int ifindex, unsigned int mtu)
{
	struct nlmsghdr *nlh;

	if (!nl_ifindex_ok(ifindex))
		return -ENODEV;
	nlh = nl_link_req(nl, RTM_NEWLINK, ifindex);
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_link_set_up(struct nl *nl, unsigned int ifindex, bool up)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;

	if (!nl_ifindex_ok(ifindex))
		return -ENODEV;
	nlh = nl_link_req(nl, RTM_NEWLINK, ifindex);
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return nl_talk(nl, nlh, NULL, NULL);
}

/* ---- IPv4 addresses and routes ---- */

int nl_addr4_add(struct nl *nl, unsigned int ifindex, uint32_t addr,
		 unsigned int plen)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int ret;

	if (plen > 32)
		return -EINVAL;
	if (!nl_ifindex_ok(ifindex))
		return -ENODEV;
	nlh = nl_req(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (uint8_t)plen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, addr);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, addr);
	ret = nl_talk(nl, nlh, NULL, NULL);
	return ret == -EEXIST ? 0 : ret;
}

/* The first AF_INET address of link @ifindex in an RTM_GETADDR dump. */
struct nl_addr4 {
	unsigned int ifindex;
	uint32_t addr;
	unsigned int plen;
	bool found;
};

static int nl_addr4_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = { NULL };
	struct nl_tb t = { tb, IFA_MAX };
	struct nl_addr4 *a = data;
	const struct nlattr *at;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (a->found || ifa->ifa_family != AF_INET ||
	    ifa->ifa_index != a->ifindex)
		return MNL_CB_OK;
	(void)mnl_attr_parse(nlh, sizeof(*ifa), nl_tb_cb, &t);
	/* IFA_LOCAL is the address; IFA_ADDRESS is the peer on
	 * point-to-point links and equal to it elsewhere. */
	at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!at || mnl_attr_validate(at, MNL_TYPE_U32))
		return MNL_CB_OK;
	a->addr = mnl_attr_get_u32(at);
	a->plen = ifa->ifa_prefixlen;
	a->found = true;
	return MNL_CB_OK;
}

int nl_addr4_first(struct nl *nl, unsigned int ifindex, uint32_t *addr,
		   unsigned int *plen)
{
	struct nl_addr4 a = { .ifindex = ifindex };
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int ret;

	nlh = nl_req(nl, RTM_GETADDR, NLM_F_DUMP);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ret = nl_talk(nl, nlh, nl_addr4_cb, &a);
	if (ret)
		return ret;
	if (!a.found)
		return -ENOENT;
	*addr = a.addr;
	if (plen)
		*plen = a.plen;
	return 0;
}

int nl_route4_add(struct nl *nl, uint32_t dst, unsigned int plen, uint32_t gw,
		  unsigned int ifindex)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int ret;

	if (plen > 32 || (!gw && !ifindex) || ifindex > INT_MAX)
		return -EINVAL;
	nlh = nl_req(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = (uint8_t)plen;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	/* Always sent, so that the kernel refuses a prefix with host bits
	 * set, also for plen 0. */
	mnl_attr_put_u32(nlh, RTA_DST, dst);
	if (gw)
		mnl_attr_put_u32(nlh, RTA_GATEWAY, gw);
	if (ifindex)
		mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	ret = nl_talk(nl, nlh, NULL, NULL);
	return ret == -EEXIST ? 0 : ret;
}
