# refuge: PGXS build.  `make && make install` builds refuge.so from
# extension/*.c and matcher/*.c and the install script from the numbered
# fragments of sql/, functions/ and reports/ (concatenated in name order).

EXTENSION   = refuge
EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)
# The first released version; later versions are reached through deltas in
# sql/upgrade/, so the fragments always describe BASE_VERSION plus nothing.
BASE_VERSION = 0.1.0

MODULE_big  = $(EXTENSION)
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard extension/*.c matcher/*.c)))
PG_CPPFLAGS = -I$(srcdir)/extension -I$(srcdir)/matcher -DREFUGE_VERSION='"$(EXTVERSION)"'
SHLIB_LINK += -lcrypto -lhpdf -lpng16 -ljpeg -licui18n -licuuc

DATA        = $(wildcard sql/upgrade/$(EXTENSION)--*--*.sql)
DATA_built  = sql/$(EXTENSION)--$(BASE_VERSION).sql sql/$(EXTENSION)--0.3.0--0.4.0.sql \
              sql/$(EXTENSION)--0.4.0--0.5.0.sql sql/$(EXTENSION)--0.5.0--0.6.0.sql \
              sql/$(EXTENSION)--0.6.0--0.7.0.sql

FRAGMENTS   = $(sort $(wildcard sql/[0-9]*.sql)) \
              $(sort $(wildcard functions/[0-9]*.sql)) \
              $(sort $(wildcard reports/[0-9]*.sql))

# pg_regress suites (test/sql, test/expected); pg_regress does not CASCADE
REGRESS      = $(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql)))
REGRESS_OPTS = --inputdir=test --load-extension=pgcrypto \
               --load-extension=postgis --load-extension=$(EXTENSION)

# isolation suites (test/specs, expected output in test/expected)
ISOLATION      = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --load-extension=pgcrypto \
                 --load-extension=postgis --load-extension=$(EXTENSION)

EXTRA_CLEAN = results regression.diffs regression.out output_iso

all: sql/$(EXTENSION)--$(BASE_VERSION).sql sql/$(EXTENSION)--0.3.0--0.4.0.sql sql/$(EXTENSION)--0.4.0--0.5.0.sql \
     sql/$(EXTENSION)--0.5.0--0.6.0.sql sql/$(EXTENSION)--0.6.0--0.7.0.sql

# PGXS tracks no header dependencies: every object depends on every header
# (a changed struct or constant must never leave a stale object behind)
$(OBJS): $(wildcard extension/*.h matcher/*.h)

# the library's version is compiled in from the control file
extension/refuge.o: $(EXTENSION).control

sql/$(EXTENSION)--$(BASE_VERSION).sql: $(FRAGMENTS)
	cat $^ > $@

# Deltas too large for one file are built from their own fragments.
sql/$(EXTENSION)--0.3.0--0.4.0.sql: $(sort $(wildcard sql/delta-0.4.0/[0-9]*.sql))
	cat $^ > $@

sql/$(EXTENSION)--0.4.0--0.5.0.sql: $(sort $(wildcard sql/delta-0.5.0/[0-9]*.sql))
	cat $^ > $@

sql/$(EXTENSION)--0.5.0--0.6.0.sql: $(sort $(wildcard sql/delta-0.6.0/[0-9]*.sql))
	cat $^ > $@

sql/$(EXTENSION)--0.6.0--0.7.0.sql: $(sort $(wildcard sql/delta-0.7.0/[0-9]*.sql))
	cat $^ > $@

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: demo test

# The two README commands.
demo:
	bash test/demo/demo.sh

test:
	bash test/run-all.sh
