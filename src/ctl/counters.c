// SPDX-License-Identifier: MIT
/*
 * counters.c - the statistics block as JSON and Prometheus text
 * (counters.h).
 */
#include "ctl/counters.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"

#define CTL_PORT_NAME_MAX	16u	/* "inside", "outside", "guestNN" */

/**
 * struct ctl_stat - one `stat` line, split.
 * @port:  its port ("inside", "outside", "guestN"), or "" for the gateway's
 * @name:  the NAME, the port and its dot removed
 * @value: the value
 */
struct ctl_stat {
	char port[CTL_PORT_NAME_MAX];
	char name[CTL_COUNTER_NAME_MAX + 1];
	uint64_t value;
};

static const char *const ctl_gauge_names[] = {
	"flows", "mappings", "guests", "isolate", "entries",
};
static const char *const ctl_gauge_suffixes[] = {
	"_open", "_active", "_entries", "_guests",
};

bool ctl_counters_is_gauge(const char *name)
{
	const char *last = strrchr(name, '.');
	size_t n;

	last = last ? last + 1 : name;
	n = strlen(last);
	if (!strncmp(last, "max_", 4))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(ctl_gauge_names); i++)
		if (!strcmp(last, ctl_gauge_names[i]))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(ctl_gauge_suffixes); i++) {
		size_t k = strlen(ctl_gauge_suffixes[i]);

		if (n >= k && !strcmp(last + n - k, ctl_gauge_suffixes[i]))
			return true;
	}
	return false;
}

/* Whether @s[0, @n) names a port: inside, outside, guest<digits>. */
static bool ctl_is_port(const char *s, size_t n)
{
	if ((n == 6 && !memcmp(s, "inside", 6)) ||
	    (n == 7 && !memcmp(s, "outside", 7)))
		return true;
	if (n < 6 || n >= CTL_PORT_NAME_MAX || memcmp(s, "guest", 5) != 0)
		return false;
	for (size_t i = 5; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * The next line of @text[*@pos, @len) (without its newline) in @line,
 * @n; false at the end.
 */
static bool ctl_next_line(const char *text, size_t len, size_t *pos,
			  const char **line, size_t *n)
{
	const char *nl;

	if (*pos >= len)
		return false;
	*line = text + *pos;
	nl = memchr(*line, '\n', len - *pos);
	*n = nl ? (size_t)(nl - *line) : len - *pos;
	*pos += *n + (nl ? 1 : 0);
	return true;
}

/* A `stat NAME VALUE` line into @st. Return: true when it is one. */
static bool ctl_parse_stat(const char *l, size_t n, struct ctl_stat *st)
{
	const char *name, *sp, *dot;
	size_t nlen, plen;
	uint64_t v = 0;

	if (n < 8 || memcmp(l, "stat ", 5) != 0)
		return false;
	name = l + 5;
	sp = memchr(name, ' ', n - 5);
	if (!sp || sp == name || sp + 1 >= l + n)
		return false;
	for (const char *d = sp + 1; d < l + n; d++) {
		uint64_t digit = (uint64_t)(*d - '0');

		if (*d < '0' || *d > '9' || v > UINT64_MAX / 10 ||
		    (v == UINT64_MAX / 10 && digit > UINT64_MAX % 10))
			return false;
		v = v * 10 + digit;
	}
	nlen = (size_t)(sp - name);
	dot = memchr(name, '.', nlen);
	plen = dot ? (size_t)(dot - name) : 0;
	st->port[0] = 0;
	if (dot && ctl_is_port(name, plen)) {
		memcpy(st->port, name, plen);
		st->port[plen] = 0;
		name += plen + 1;
		nlen -= plen + 1;
	}
	if (nlen == 0 || nlen > CTL_COUNTER_NAME_MAX)
		return false;
	memcpy(st->name, name, nlen);
	st->name[nlen] = 0;
	st->value = v;
	return true;
}

/* The object @key of @parent, made when missing; NULL out of memory. */
static struct json_object *ctl_child(struct json_object *parent,
				     const char *key)
{
	struct json_object *o;

	if (json_object_object_get_ex(parent, key, &o))
		return o;
	o = json_object_new_object();
	if (o && json_object_object_add(parent, key, o)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* "arcnat: port guestN is NAME[ (a listener: no frames)]" */
static void ctl_port_name(struct json_object *ports, const char *l, size_t n)
{
	static const char pre[] = "arcnat: port ";
	static const char lis[] = " (a listener: no frames)";
	char buf[512];
	char *is, *nm;
	bool listener = false;
	struct json_object *p;

	if (n >= sizeof(buf) || n < sizeof(pre) || memcmp(l, pre, sizeof(pre) - 1) != 0)
		return;
	memcpy(buf, l, n);
	buf[n] = 0;
	is = strstr(buf, " is ");
	if (!is)
		return;
	*is = 0;
	nm = is + 4;
	if (strlen(nm) >= sizeof(lis) - 1 &&
	    !strcmp(nm + strlen(nm) - (sizeof(lis) - 1), lis)) {
		nm[strlen(nm) - (sizeof(lis) - 1)] = 0;
		listener = true;
	}
	if (!ctl_is_port(buf + sizeof(pre) - 1, strlen(buf + sizeof(pre) - 1)))
		return;
	p = ctl_child(ports, buf + sizeof(pre) - 1);
	if (!p)
		return;
	json_object_object_add(p, "name", json_object_new_string(nm));
	json_object_object_add(p, "listener", json_object_new_boolean(listener));
}

struct json_object *ctl_counters_json(const char *text, size_t len)
{
	struct json_object *o = json_object_new_object();
	struct json_object *counters = o ? ctl_child(o, "counters") : NULL;
	struct json_object *ports = o ? ctl_child(o, "ports") : NULL;
	size_t pos = 0, n, k = 0;
	const char *l;
	struct ctl_stat st;

	if (!counters || !ports) {
		json_object_put(o);
		return NULL;
	}
	while (ctl_next_line(text, len, &pos, &l, &n) && k < CTL_COUNTERS_MAX) {
		struct json_object *where = counters;

		if (!ctl_parse_stat(l, n, &st)) {
			ctl_port_name(ports, l, n);
			continue;
		}
		k++;
		if (st.port[0])
			where = ctl_child(ports, st.port);
		if (!where)
			continue;
		json_object_object_add(where, st.name,
				       json_object_new_uint64(st.value));
	}
	return o;
}

static bool ctl_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/*
 * A family's name: arcnat_[port_]NAME with [^a-zA-Z0-9_] made '_', and a
 * counter's ending in _total (the format's convention; Prometheus' parser
 * takes a counter's samples by that name).
 */
static void ctl_family(char *out, size_t cap, const struct ctl_stat *st)
{
	size_t n = (size_t)snprintf(out, cap, "arcnat_%s%s",
				    st->port[0] ? "port_" : "", st->name);

	for (size_t i = 0; i < n && i < cap; i++) {
		char c = out[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			out[i] = '_';
	}
	if (!ctl_counters_is_gauge(st->name) && !ctl_ends_with(out, "_total") &&
	    n + 6 < cap)
		memcpy(out + n, "_total", 7);
}

struct ctl_prom {
	char fam[CTL_COUNTER_NAME_MAX + 16];
	struct ctl_stat st;
	unsigned int seq;
};

static int ctl_prom_cmp(const void *a, const void *b)
{
	const struct ctl_prom *x = a, *y = b;
	int c = strcmp(x->fam, y->fam);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void ctl_prom_swap(struct ctl_prom *a, struct ctl_prom *b)
{
	struct ctl_prom t = *a;

	*a = *b;
	*b = t;
}

/* Sift @e[@i] down the max-heap @e[0, @n). */
static void ctl_prom_sift(struct ctl_prom *e, size_t i, size_t n)
{
	for (;;) {
		size_t m = i, l = 2 * i + 1, r = l + 1;

		if (l < n && ctl_prom_cmp(&e[l], &e[m]) > 0)
			m = l;
		if (r < n && ctl_prom_cmp(&e[r], &e[m]) > 0)
			m = r;
		if (m == i)
			return;
		ctl_prom_swap(&e[i], &e[m]);
		i = m;
	}
}

/*
 * Heapsort, not qsort(3): glibc's qsort asks sysinfo(2) how much memory
 * there is before it sorts a large array, a call the sandbox forbids. The
 * order is total (ties broken by @seq), so stability does not matter.
 */
static void ctl_prom_sort(struct ctl_prom *e, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		ctl_prom_sift(e, i, n);
	for (size_t k = n; k-- > 1;) {
		ctl_prom_swap(&e[0], &e[k]);
		ctl_prom_sift(e, 0, k);
	}
}

ssize_t ctl_counters_prom(const char *text, size_t len, char *out, size_t cap)
{
	size_t pos = 0, n, k = 0, w = 0, lines = 0;
	struct ctl_prom *e;
	const char *l;

	/* As many entries as the block has lines, at most CTL_COUNTERS_MAX. */
	while (lines < CTL_COUNTERS_MAX && ctl_next_line(text, len, &pos, &l, &n))
		lines++;
	e = calloc(lines ? lines : 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	pos = 0;
	while (k < lines && ctl_next_line(text, len, &pos, &l, &n)) {
		if (!ctl_parse_stat(l, n, &e[k].st))
			continue;
		ctl_family(e[k].fam, sizeof(e[k].fam), &e[k].st);
		e[k].seq = (unsigned int)k;
		k++;
	}
	/* Each family's samples together, as the format wants; a port's in
	 * the order the block has them. */
	ctl_prom_sort(e, k);
	for (size_t i = 0; i < k; i++) {
		bool gauge = ctl_counters_is_gauge(e[i].st.name);
		bool first = i == 0 || strcmp(e[i].fam, e[i - 1].fam) != 0;
		int m = 0;

		if (first)
			m = snprintf(out + w, cap - w,
				     "# HELP %s arcnat's `stat %s%s%s`%s\n"
				     "# TYPE %s %s\n",
				     e[i].fam, e[i].st.port[0] ? "PORT" : "",
				     e[i].st.port[0] ? "." : "", e[i].st.name,
				     e[i].st.port[0] ? " per port" : "",
				     e[i].fam, gauge ? "gauge" : "counter");
		if (m < 0 || (size_t)m >= cap - w)
			goto too_big;
		w += (size_t)m;
		m = snprintf(out + w, cap - w, "%s", e[i].fam);
		if (m >= 0 && (size_t)m < cap - w && e[i].st.port[0]) {
			w += (size_t)m;
			m = snprintf(out + w, cap - w, "{port=\"%s\"}",
				     e[i].st.port);
		}
		if (m >= 0 && (size_t)m < cap - w) {
			w += (size_t)m;
			m = snprintf(out + w, cap - w, " %" PRIu64 "\n",
				     e[i].st.value);
		}
		if (m < 0 || (size_t)m >= cap - w)
			goto too_big;
		w += (size_t)m;
	}
	free(e);
	if (cap)
		out[w] = 0;
	return (ssize_t)w;
too_big:
	free(e);
	return -EMSGSIZE;
}
