// xapian_wrap.cc - placeholder; written by the search-tiers issue.
#include "cwrap/xapian_wrap.h"
