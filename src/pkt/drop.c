// SPDX-License-Identifier: MIT
#include "pkt/drop.h"

#include "core/compiler.h"

static const char *const pkt_drop_names[] = {
#define PKT_DROP_NAME(sym, name, desc) [PKT_DROP_##sym] = (name),
	PKT_DROP_LIST(PKT_DROP_NAME)
#undef PKT_DROP_NAME
};

static const char *const pkt_drop_descs[] = {
#define PKT_DROP_DESC(sym, name, desc) [PKT_DROP_##sym] = (desc),
	PKT_DROP_LIST(PKT_DROP_DESC)
#undef PKT_DROP_DESC
};

static_assert(ARRAY_SIZE(pkt_drop_names) == PKT_DROP__MAX, "a name per reason");

const char *pkt_drop_name(enum pkt_drop reason)
{
	if ((unsigned int)reason >= PKT_DROP__MAX)
		return "invalid";
	return pkt_drop_names[reason];
}

const char *pkt_drop_desc(enum pkt_drop reason)
{
	if ((unsigned int)reason >= PKT_DROP__MAX)
		return "invalid";
	return pkt_drop_descs[reason];
}
