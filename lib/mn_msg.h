/* User-facing text: English in the source, Japanese (and others) from the "mynumber" domain. */
#ifndef MN_MSG_H
#define MN_MSG_H

#include <libintl.h>

#define MN_TEXTDOMAIN "mynumber"
#define _(s)          dgettext(MN_TEXTDOMAIN, s)
#define N_(s)         s

#endif
