// SPDX-License-Identifier: MIT
/*
 * call.c - what the modules of methods share (call.h).
 */
#include "ctl/call.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

#include "ctl/proto.h"

int ctl_params_only(struct ctl_call *c, const char *const *keys)
{
	if (!c->params)
		return 0;
	json_object_object_foreach(c->params, k, v) {
		bool known = false;

		(void)v;
		for (const char *const *p = keys; *p; p++)
			known |= !strcmp(k, *p);
		if (!known) {
			c->why = "unknown parameter";
			return CTL_E_PARAMS;
		}
	}
	return 0;
}
