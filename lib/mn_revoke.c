/* Names of revocation statuses and CRL reasons (the check itself is mn_revoker.c). */
#include "mn_revoke.h"

const char *mn_rev_reason_name(int reason)
{
	static const char *const names[] = {
	    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
	    "superseded",    "cessationOfOperation", "certificateHold", "reason 7",
	    "removeFromCRL", "privilegeWithdrawn",   "aACompromise",
	};

	if (reason < 0 || reason >= (int)(sizeof(names) / sizeof(names[0])))
		return "unspecified";
	return names[reason];
}

const char *mn_rev_status_name(enum mn_rev_status s)
{
	switch (s) {
	case MN_REV_GOOD:
		return "good";
	case MN_REV_REVOKED:
		return "revoked";
	case MN_REV_UNKNOWN:
		return "unknown";
	case MN_REV_UNAVAILABLE:
		return "unavailable";
	}
	return "?";
}
