/*
 * demographic.c
 *		The demographic search's blocking and first comparison, over
 *		refuge.match_block and refuge.match_profile.
 *
 * A person is looked for under each of their name keys within a window of
 * birth years (and among people of unknown birth year).  A key's block is
 * taken whole or not at all: a block larger than its cap says nothing about
 * who this is (every Mohamed born that year) and is dropped, which is known
 * only after reading cap + 1 of its entries.  The people of the kept blocks
 * are ranked by how many keys they share with the probe, then by how near
 * their birth year is, with the size of the smallest name block they share
 * (how common the name they agree on is): refuge.demographic_block_scan.
 * A household's keys (refuge.household_keys_of) are blocks like the others
 * but never count as namesakes.
 *
 * refuge.demographic_compare_blocked then reads the first 80 by primary key
 * and compares them on the features every candidate is compared on
 * (refuge.early_levels, the same C code).  In SQL this cost most of a
 * registration's duplicate check; here it is one index scan per key, an
 * aggregation of the entries read, and one lookup per candidate (its
 * profile holds a copy of the facts of its individual row).  Pairs already decided to be different people are dropped by the
 * SQL callers (refuge.demographic_blocked, refuge.demographic_compared).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include "names.h"
#include "refuge.h"

PG_FUNCTION_INFO_V1(refuge_demographic_block_scan);
PG_FUNCTION_INFO_V1(refuge_demographic_compare_blocked);
PG_FUNCTION_INFO_V1(refuge_early_levels);

/*
 * More keys than any profile holds (name_block_keys: 8 forms of 78 keys at
 * most); a longer array is refused, never cut.
 */
#define MAX_BLOCK_KEYS 1024

/* one entry of a kept block */
typedef struct BlockEntry
{
	pg_uuid_t	id;
	int32		gap;			/* |birth year - probe's| */
	int32		n;				/* size of the block it came from */
} BlockEntry;

/* a person of the kept blocks, aggregated */
typedef struct BlockCandidate
{
	pg_uuid_t	id;
	int32		shared;			/* keys shared with the probe */
	int32		gap;			/* nearest birth year */
	int32		namesakes;		/* smallest block shared */
} BlockCandidate;

/* most keys shared, then born nearest, then by id (the SQL order) */
static int
candidate_cmp(const void *a, const void *b)
{
	const BlockCandidate *x = a;
	const BlockCandidate *y = b;

	if (x->shared != y->shared)
		return x->shared > y->shared ? -1 : 1;
	if (x->gap != y->gap)
		return x->gap < y->gap ? -1 : 1;
	return memcmp(&x->id, &y->id, UUID_LEN);
}

/*
 * The scans of the blocking index one search makes: one for the window of
 * years (or every year), one for the people of unknown year; each key
 * rescans them (no scan set up per key).
 */
typedef struct BlockScans
{
	IndexScanDesc window;
	IndexScanDesc unknown;		/* NULL: the window takes year 0 already */
	Relation	heap;
	Relation	index;
	TupleTableSlot *slot;
	bool		serializable;
	bool		all_years;
	int16		lo;
	int16		hi;
	int16		probe_year;
} BlockScans;

/* entries of one pass over a key, up to cap + 1 in all */
static int
read_pass(BlockScans *bs, IndexScanDesc scan, ScanKey sk, int nkeys, int cap, BlockEntry *entries, int n)
{
	ItemPointer tid;

	index_rescan(scan, sk, nkeys, NULL, 0);
	while (n <= cap && (tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		Datum		values[3];
		bool		isnull[3];

		CHECK_FOR_INTERRUPTS();

		/*
		 * The entry's values are in the index tuple, so the heap is read only
		 * under serializable isolation (for its predicate locks).  An entry
		 * of a version we cannot see (dead, or not yet committed) is a hint
		 * at most: it may add a vote or a namesake until VACUUM removes it,
		 * while the candidate's row, fetched under our snapshot, decides
		 * whether and how it is compared.  Checking visibility here cost a
		 * fifth of the search on tables that registrations keep changing.
		 */
		if (bs->serializable)
		{
			if (!index_fetch_heap(scan, bs->slot))
				continue;		/* no version visible to us */
		}
		/* (one pass over the tuple: the key before them has no fixed length) */
		index_deform_tuple(scan->xs_itup, scan->xs_itupdesc, values, isnull);
		memcpy(&entries[n].id, DatumGetUUIDP(values[2]), UUID_LEN);
		entries[n].gap = abs((int) DatumGetInt16(values[1]) - (int) bs->probe_year);
		n++;
	}
	return n;
}

/*
 * Read one key's block into entries: the people under key with a birth
 * year in the window (every year for a probe of unknown year), then those
 * of unknown year (0).  Returns the number read, cap + 1 at most (the block
 * is then over its cap and not kept).
 */
static int
scan_block(BlockScans *bs, text *key, int cap, BlockEntry *entries)
{
	ScanKeyData sk[3];
	int			n;

	ScanKeyEntryInitialize(&sk[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
						   bs->index->rd_indcollation[0], F_TEXTEQ, PointerGetDatum(key));
	if (bs->all_years)
		return read_pass(bs, bs->window, sk, 1, cap, entries, 0);
	ScanKeyEntryInitialize(&sk[1], 0, 2, BTGreaterEqualStrategyNumber, InvalidOid,
						   InvalidOid, F_INT2GE, Int16GetDatum(bs->lo));
	ScanKeyEntryInitialize(&sk[2], 0, 2, BTLessEqualStrategyNumber, InvalidOid,
						   InvalidOid, F_INT2LE, Int16GetDatum(bs->hi));
	n = read_pass(bs, bs->window, sk, 3, cap, entries, 0);
	if (bs->unknown && n <= cap)
	{
		ScanKeyEntryInitialize(&sk[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
							   InvalidOid, F_INT2EQ, Int16GetDatum(0));
		n = read_pass(bs, bs->unknown, sk, 2, cap, entries, n);
	}
	return n;
}

/* The tables the search reads, opened for one call. */
typedef struct SearchRels
{
	Relation	block;
	Relation	block_pkey;
	Relation	profile;
	Relation	profile_pkey;
	/* before ALTER EXTENSION UPDATE to 0.15.0 the profile has no facts */
	bool		folded;
	Relation	individual;
	Relation	individual_pkey;
} SearchRels;

static Oid
refuge_relid(const char *name)
{
	Oid			relid = RefugeRelid(name);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("relation refuge.%s is missing", name)));
	return relid;
}

/* an index of the table on the columns the search expects */
static Relation
open_index_of(const char *name, Relation heap, int natts)
{
	Relation	index = index_open(refuge_relid(name), AccessShareLock);

	if (index->rd_index->indrelid != RelationGetRelid(heap)
		|| IndexRelationGetNumberOfAttributes(index) != natts)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index refuge.%s is not the one the demographic search reads", name)));
	return index;
}


/*
 * Open what the search reads.  The tables' only policies for the rows read
 * here are their owner's: the caller must be the owner (the functions are
 * internal, executed by the extension's SECURITY DEFINER functions).
 */
static void
open_search_rels(SearchRels *r, bool compare)
{
	Oid			block = refuge_relid("match_block");

	if (!pg_class_ownercheck(block, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table match_block"),
				 errdetail("The demographic search runs as the extension's owner.")));
	r->block = table_open(block, AccessShareLock);
	r->block_pkey = open_index_of("match_block_pkey", r->block, 3);
	r->profile = r->profile_pkey = r->individual = r->individual_pkey = NULL;
	r->folded = true;
	if (compare)
	{
		r->profile = table_open(refuge_relid("match_profile"), AccessShareLock);
		r->profile_pkey = open_index_of("match_profile_pkey", r->profile, 1);
		r->folded = get_attnum(RelationGetRelid(r->profile), "record_status") != InvalidAttrNumber;
		if (!r->folded)
		{
			r->individual = table_open(refuge_relid("individual"), AccessShareLock);
			r->individual_pkey = open_index_of("individual_pkey", r->individual, 1);
		}
	}
}

static void
close_search_rels(SearchRels *r)
{
	if (r->individual)
	{
		index_close(r->individual_pkey, AccessShareLock);
		table_close(r->individual, AccessShareLock);
	}
	if (r->profile)
	{
		index_close(r->profile_pkey, AccessShareLock);
		table_close(r->profile, AccessShareLock);
	}
	index_close(r->block_pkey, AccessShareLock);
	table_close(r->block, AccessShareLock);
}

/*
 * The blocked candidates of a probe, ranked: *ncands of them (all the
 * people of the kept blocks but the probe).
 */
static BlockCandidate *
blocked_candidates(SearchRels *r, ArrayType *keys, int32 birth_year, int32 year_window, int32 cap,
				   const pg_uuid_t *self, int *ncands_out)
{
	Datum	   *key_datums;
	bool	   *key_nulls;
	int			nkeys;
	BlockScans	bs;
	Snapshot	snapshot = GetActiveSnapshot();
	BlockEntry *all = NULL;
	int			nall = 0;
	int			allcap = 0;
	BlockEntry *buf;
	BlockCandidate *cands;
	BlockCandidate *table;
	int			tabsize;
	int			ncands = 0;

	if (cap < 1 || cap > 100000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cap: %d is not between 1 and 100000", cap)));
	if (year_window < 0 || year_window > 200)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("year_window: %d is not between 0 and 200", year_window)));
	if (ARR_NDIM(keys) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("keys: expected a one-dimensional array")));
	if (birth_year < 0 || birth_year > PG_INT16_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("birth_year: %d is not between 0 and %d", birth_year, PG_INT16_MAX)));
	deconstruct_array(keys, TEXTOID, -1, false, TYPALIGN_INT, &key_datums, &key_nulls, &nkeys);
	if (nkeys > MAX_BLOCK_KEYS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("keys: %d keys, more than %d", nkeys, MAX_BLOCK_KEYS)));

	bs.heap = r->block;
	bs.index = r->block_pkey;
	bs.slot = table_slot_create(r->block, NULL);
	bs.serializable = IsolationIsSerializable();
	bs.all_years = (birth_year == 0);
	bs.lo = (int16) Max(birth_year - year_window, PG_INT16_MIN);
	bs.hi = (int16) Min(birth_year + year_window, PG_INT16_MAX);
	bs.probe_year = (int16) birth_year;
	bs.window = index_beginscan(r->block, r->block_pkey, snapshot, bs.all_years ? 1 : 3, 0);
	bs.window->xs_want_itup = true;
	bs.unknown = NULL;
	if (!bs.all_years && bs.lo > 0)
	{
		bs.unknown = index_beginscan(r->block, r->block_pkey, snapshot, 2, 0);
		bs.unknown->xs_want_itup = true;
	}
	buf = palloc(sizeof(BlockEntry) * (4 * cap + 1));

	for (int i = 0; i < nkeys; i++)
	{
		text	   *key;
		int			kcap;
		int			n;
		int			n_namesakes;

		if (key_nulls[i])
			continue;
		key = DatumGetTextPP(key_datums[i]);
		/* a pair of parts is rarer than a part: four times the room */
		kcap = memchr(VARDATA_ANY(key), '+', VARSIZE_ANY_EXHDR(key)) ? 4 * cap : cap;
		n = scan_block(&bs, key, kcap, buf);
		if (n > kcap || n == 0)
			continue;
		/* a household's key ("hMHMD|FTMA") finds people; it says nothing of how common a name is */
		if (VARSIZE_ANY_EXHDR(key) > 0 && *VARDATA_ANY(key) == 'h')
			n_namesakes = PG_INT32_MAX;
		else
			n_namesakes = n;
		if (nall + n > allcap)
		{
			allcap = Max(allcap * 2, nall + n + 256);
			all = all ? repalloc(all, sizeof(BlockEntry) * allcap) : palloc(sizeof(BlockEntry) * allcap);
		}
		for (int j = 0; j < n; j++)
		{
			buf[j].n = n_namesakes;
			all[nall++] = buf[j];
		}
	}
	index_endscan(bs.window);
	if (bs.unknown)
		index_endscan(bs.unknown);
	ExecDropSingleTupleTableSlot(bs.slot);
	pfree(buf);

	*ncands_out = 0;
	if (nall == 0)
		return NULL;

	/*
	 * One candidate per person: keys shared, nearest year, smallest block.
	 * Aggregated in an open-addressing table (a sort of every entry cost a
	 * third of the blocking).
	 */
	tabsize = 64;
	while (tabsize < 2 * nall)
		tabsize <<= 1;
	table = palloc0(sizeof(BlockCandidate) * tabsize);
	for (int i = 0; i < nall; i++)
	{
		uint32		h = hash_bytes((const unsigned char *) &all[i].id, UUID_LEN) & (tabsize - 1);
		BlockCandidate *c;

		while (table[h].shared > 0 && memcmp(&table[h].id, &all[i].id, UUID_LEN) != 0)
			h = (h + 1) & (tabsize - 1);
		c = &table[h];
		if (c->shared > 0)
		{
			c->shared++;
			c->gap = Min(c->gap, all[i].gap);
			c->namesakes = Min(c->namesakes, all[i].n);
			continue;
		}
		c->id = all[i].id;
		c->shared = 1;
		c->gap = all[i].gap;
		c->namesakes = all[i].n;
	}
	cands = palloc(sizeof(BlockCandidate) * nall);
	for (int i = 0; i < tabsize; i++)
		if (table[i].shared > 0 && !(self && memcmp(&table[i].id, self, UUID_LEN) == 0))
			cands[ncands++] = table[i];
	pfree(table);
	pfree(all);
	qsort(cands, ncands, sizeof(BlockCandidate), candidate_cmp);
	*ncands_out = ncands;
	return cands;
}

/*
 * refuge.demographic_block_scan(keys text[], birth_year integer, year_window
 * integer, cap integer, self uuid, max_candidates integer)
 *   returns table (candidate_id uuid, shared integer, gap integer, namesakes integer)
 */
Datum
refuge_demographic_block_scan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SearchRels	r;
	BlockCandidate *cands;
	int			ncands;
	int32		max_candidates;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(5))
		return (Datum) 0;
	max_candidates = PG_GETARG_INT32(5);
	open_search_rels(&r, false);
	cands = blocked_candidates(&r, PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_INT32(1), PG_GETARG_INT32(2),
							   PG_GETARG_INT32(3), PG_ARGISNULL(4) ? NULL : PG_GETARG_UUID_P(4), &ncands);
	close_search_rels(&r);

	for (int i = 0; i < ncands && i < max_candidates; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = UUIDPGetDatum(&cands[i].id);
		values[1] = Int32GetDatum(cands[i].shared);
		values[2] = Int32GetDatum(cands[i].gap);
		values[3] = Int32GetDatum(cands[i].namesakes);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * The comparison (refuge.early_levels): what it reads of a person, from
 * their individual row and match profile.
 */
typedef enum
{
	PREC_EXACT,
	PREC_MONTH,
	PREC_OTHER
} DobPrecision;

typedef struct PersonFacts
{
	char	   *names[REFUGE_NAME_MAX_FORMS];	/* canonical forms, as registered first */
	int			name_lens[REFUGE_NAME_MAX_FORMS];
	int			nnames;
	char	   *parents[REFUGE_NAME_MAX_FORMS];
	int			parent_lens[REFUGE_NAME_MAX_FORMS];
	int			nparents;
	char	   *place;			/* canonical place of birth, or NULL */
	int			place_len;
	bool		has_dob;
	DateADT		dob;
	DobPrecision precision;
	text	   *sex;
	text	   *birth_country;	/* or NULL */
	pg_uuid_t	site;
	pg_uuid_t	operation;
	DateADT		registered;
	bool		registered_known;
	bool		duplicate;		/* status DUPLICATE: never a candidate */
} PersonFacts;

/*
 * The facts the comparison reads, in the order facts_of takes them: the
 * profile's own, then those it copies from individual.
 */
typedef enum
{
	FACT_NAMES,
	FACT_PARENTS,
	FACT_PLACE,
	FACT_DOB,
	FACT_PRECISION,
	FACT_SEX,
	FACT_BIRTH_COUNTRY,
	FACT_SITE,
	FACT_OPERATION,
	FACT_REGISTERED,
	FACT_STATUS,
	NFACTS
} FactColumn;

/*
 * Where each fact is read: name, in the records refuge.early_levels is given
 * (the profile's or the individual's); profile_name, in match_profile, which
 * holds a copy of the individual's facts so that a candidate is one lookup
 * (refuge.demographic_compare_blocked).
 */
static const struct
{
	const char *name;
	const char *profile_name;
	Oid			type;
	bool		of_profile;
}			fact_columns[NFACTS] = {
	{"names", "names", TEXTARRAYOID, true},
	{"parents", "parents", TEXTARRAYOID, true},
	{"place", "place", TEXTOID, true},
	{"date_of_birth", "dob", DATEOID, false},
	{"dob_precision", "dob_precision", TEXTOID, false},
	{"sex", "sex", TEXTOID, false},
	{"birth_country", "birth_country", TEXTOID, false},
	{"site_id", "site", UUIDOID, false},
	{"operation_id", "operation", UUIDOID, false},
	{"registration_date", "registered_on", DATEOID, false},
	{"status", "record_status", TEXTOID, false},
};

/* the relation a fact is read from in a candidate lookup */
static Relation
fact_rel(SearchRels *r, int i)
{
	return (r->folded || fact_columns[i].of_profile) ? r->profile : r->individual;
}

/* attribute numbers of fact_columns in the tables read, their types checked */
static void
fact_attnums(SearchRels *r, AttrNumber *attnums)
{
	for (int i = 0; i < NFACTS; i++)
	{
		Relation	rel = fact_rel(r, i);
		const char *name = r->folded ? fact_columns[i].profile_name : fact_columns[i].name;
		AttrNumber	a = get_attnum(RelationGetRelid(rel), name);

		if (a == InvalidAttrNumber || TupleDescAttr(RelationGetDescr(rel), a - 1)->atttypid != fact_columns[i].type)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column %s of %s is missing or not of the type the demographic search reads",
							name, RelationGetRelationName(rel))));
		attnums[i] = a;
	}
}

static bool
text_is(text *t, const char *s)
{
	size_t		n = strlen(s);

	return t && VARSIZE_ANY_EXHDR(t) == n && memcmp(VARDATA_ANY(t), s, n) == 0;
}

static bool
text_eq(text *a, text *b)
{
	return a && b && VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b)
		&& memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* a person's facts from the values of fact_columns (v, null) */
static void
facts_of(PersonFacts *f, const Datum *v, const bool *null)
{
	text	   *prec = null[FACT_PRECISION] ? NULL : DatumGetTextPP(v[FACT_PRECISION]);

	f->nnames = null[FACT_NAMES] ? 0 :
		RefugeNameForms(DatumGetArrayTypeP(v[FACT_NAMES]), f->names, f->name_lens, "names");
	f->nparents = null[FACT_PARENTS] ? 0 :
		RefugeNameForms(DatumGetArrayTypeP(v[FACT_PARENTS]), f->parents, f->parent_lens, "parents");
	f->place = NULL;
	if (!null[FACT_PLACE])
	{
		text	   *t = DatumGetTextPP(v[FACT_PLACE]);

		f->place = VARDATA_ANY(t);
		f->place_len = Min(VARSIZE_ANY_EXHDR(t), RF_NAME_MAX_LEN);
	}
	f->has_dob = !null[FACT_DOB] && !DATE_NOT_FINITE(DatumGetDateADT(v[FACT_DOB]));
	f->dob = null[FACT_DOB] ? 0 : DatumGetDateADT(v[FACT_DOB]);
	f->precision = text_is(prec, "EXACT") ? PREC_EXACT : text_is(prec, "MONTH") ? PREC_MONTH : PREC_OTHER;
	f->sex = null[FACT_SEX] ? NULL : DatumGetTextPP(v[FACT_SEX]);
	f->birth_country = null[FACT_BIRTH_COUNTRY] ? NULL : DatumGetTextPP(v[FACT_BIRTH_COUNTRY]);
	memset(&f->site, 0, sizeof(pg_uuid_t));
	memset(&f->operation, 0, sizeof(pg_uuid_t));
	if (!null[FACT_SITE])
		memcpy(&f->site, DatumGetUUIDP(v[FACT_SITE]), UUID_LEN);
	if (!null[FACT_OPERATION])
		memcpy(&f->operation, DatumGetUUIDP(v[FACT_OPERATION]), UUID_LEN);
	f->registered_known = !null[FACT_REGISTERED] && !DATE_NOT_FINITE(DatumGetDateADT(v[FACT_REGISTERED]));
	f->registered = null[FACT_REGISTERED] ? 0 : DatumGetDateADT(v[FACT_REGISTERED]);
	f->duplicate = !null[FACT_STATUS] && text_is(DatumGetTextPP(v[FACT_STATUS]), "DUPLICATE");
}

/* refuge.birth_date_level */
static int
birth_date_level(const PersonFacts *a, const PersonFacts *b)
{
	int			ya,
				ma,
				da,
				yb,
				mb,
				db;
	bool		both_exact;
	int			diff;
	bool		swapped;

	if (!a->has_dob || !b->has_dob)
		return 0;
	j2date(a->dob + POSTGRES_EPOCH_JDATE, &ya, &ma, &da);
	j2date(b->dob + POSTGRES_EPOCH_JDATE, &yb, &mb, &db);
	both_exact = a->precision == PREC_EXACT && b->precision == PREC_EXACT;
	diff = abs(a->dob - b->dob);
	swapped = (da == mb && ma == db);
	if (a->dob == b->dob && both_exact)
		return 1;
	/* both exact and nearly the same: a day typed wrong, day and month swapped */
	if (both_exact && ya == yb && (diff <= 31 || swapped))
		return 7;
	if (ya == yb && (a->precision == PREC_OTHER || b->precision == PREC_OTHER || diff <= 31 || swapped))
		return 2;
	/* a year typed wrong: the same day and month */
	if (both_exact && ma == mb && da == db && abs(ya - yb) <= 2)
		return 6;
	if (abs(ya - yb) <= 1)
		return 3;
	if (abs(ya - yb) <= 3)
		return 4;
	return 5;
}

/* refuge.name_level_by_frequency */
static int
name_level_by_frequency(int level, int namesakes)
{
	if ((level == 4 || level == 5) && namesakes <= 3)
		return level + 4;
	if ((level == 4 || level == 5) && namesakes <= 15)
		return level + 2;
	return level;
}

static bool
parents_overlap(const PersonFacts *a, const PersonFacts *b)
{
	for (int i = 0; i < a->nparents; i++)
		for (int j = 0; j < b->nparents; j++)
			if (a->parent_lens[i] == b->parent_lens[j]
				&& memcmp(a->parents[i], b->parents[j], a->parent_lens[i]) == 0)
				return true;
	return false;
}

/*
 * The levels of a pair on the features compared for every candidate (name,
 * birth date, sex, place of birth, parents, registration; family, document
 * and phone are 0 here): refuge.early_levels, its one definition.
 */
static void
early_levels(const PersonFacts *p, const PersonFacts *c, int namesakes, int32 *lv)
{
	int			name;

	/* the same name as registered, of two or more parts, is level 5 */
	if (p->nnames > 0 && c->nnames > 0 && p->name_lens[0] == c->name_lens[0]
		&& memcmp(p->names[0], c->names[0], p->name_lens[0]) == 0
		&& memchr(c->names[0], ' ', c->name_lens[0]) != NULL)
		name = 5;
	else
		name = RefugeFormsLevel((char **) p->names, p->name_lens, p->nnames,
								(char **) c->names, c->name_lens, c->nnames);
	lv[0] = name_level_by_frequency(name, namesakes);
	lv[1] = birth_date_level(p, c);
	if (p->sex == NULL || c->sex == NULL || text_is(p->sex, "U") || text_is(c->sex, "U"))
		lv[2] = 0;
	else
		lv[2] = text_eq(p->sex, c->sex) ? 1 : 2;
	if (p->place && c->place
		&& ((p->place_len == c->place_len && memcmp(p->place, c->place, p->place_len) == 0)
			|| RefugeFormsLevel((char **) &p->place, &p->place_len, 1,
								(char **) &c->place, &c->place_len, 1) >= 3))
		lv[3] = 1;
	else if (text_eq(p->birth_country, c->birth_country))
		lv[3] = 2;
	else if ((p->birth_country && c->birth_country) || (p->place && c->place))
		lv[3] = 3;
	else
		lv[3] = 0;
	if (p->nparents == 0 || c->nparents == 0)
		lv[4] = 0;
	else if (parents_overlap(p, c)
			 || RefugeFormsLevel((char **) p->parents, p->parent_lens, p->nparents,
								 (char **) c->parents, c->parent_lens, c->nparents) >= 3)
		lv[4] = 1;
	else
		lv[4] = 2;
	lv[5] = lv[6] = lv[7] = 0;
	if (memcmp(&c->site, &p->site, UUID_LEN) == 0 && p->registered_known && c->registered_known
		&& Abs((int64) c->registered - (int64) p->registered) <= 90)
		lv[8] = 1;
	else if (memcmp(&c->site, &p->site, UUID_LEN) == 0)
		lv[8] = 2;
	else if (memcmp(&c->operation, &p->operation, UUID_LEN) == 0)
		lv[8] = 3;
	else
		lv[8] = 4;
}

static ArrayType *
levels_array(const int32 *lv)
{
	Datum		d[9];

	for (int i = 0; i < 9; i++)
		d[i] = Int32GetDatum(lv[i]);
	return construct_array(d, 9, INT4OID, sizeof(int32), true, TYPALIGN_INT);
}

/* facts from the composite values of refuge.early_levels' arguments */
static void
facts_of_records(PersonFacts *f, HeapTupleHeader profile, HeapTupleHeader ind)
{
	Datum		v[NFACTS];
	bool		null[NFACTS];

	for (int i = 0; i < NFACTS; i++)
		v[i] = GetAttributeByName(fact_columns[i].of_profile ? profile : ind, fact_columns[i].name, &null[i]);
	facts_of(f, v, null);
}

/*
 * refuge.early_levels(p match_profile, pi individual, cp match_profile,
 * c individual, namesakes integer) returns integer[]
 */
Datum
refuge_early_levels(PG_FUNCTION_ARGS)
{
	PersonFacts p;
	PersonFacts c;
	int32		lv[9];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	facts_of_records(&p, PG_GETARG_HEAPTUPLEHEADER(0), PG_GETARG_HEAPTUPLEHEADER(1));
	facts_of_records(&c, PG_GETARG_HEAPTUPLEHEADER(2), PG_GETARG_HEAPTUPLEHEADER(3));
	/* (a pair with no shared block: its namesakes are unknown, as in SQL) */
	early_levels(&p, &c, PG_ARGISNULL(4) ? PG_INT32_MAX : PG_GETARG_INT32(4), lv);
	PG_RETURN_ARRAYTYPE_P(levels_array(lv));
}

/*
 * The row of a relation with this uuid primary key, into slot.  One scan
 * per relation serves every candidate (rescanned with the next key).
 */
static bool
fetch_by_id(IndexScanDesc scan, TupleTableSlot *slot, const pg_uuid_t *id)
{
	ScanKeyData sk;

	ScanKeyEntryInitialize(&sk, 0, 1, BTEqualStrategyNumber, InvalidOid, InvalidOid, F_UUID_EQ,
						   UUIDPGetDatum(id));
	index_rescan(scan, &sk, 1, NULL, 0);
	return index_getnext_slot(scan, ForwardScanDirection, slot);
}

/*
 * refuge.demographic_compare_blocked(p match_profile, pi individual,
 * year_window integer, cap integer, max_candidates integer)
 *   returns table (candidate_id uuid, namesakes integer, levels integer[])
 *
 * The blocked candidates of a person (as demographic_block_scan, the first
 * max_candidates), those whose status is not DUPLICATE, each with the
 * levels of refuge.early_levels.  Pairs decided to be different people are
 * left to the caller (refuge.demographic_compared).
 */
Datum
refuge_demographic_compare_blocked(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HeapTupleHeader profile;
	HeapTupleHeader ind;
	PersonFacts p;
	SearchRels	r;
	AttrNumber	attnums[NFACTS];
	BlockCandidate *cands;
	int			ncands;
	int32		max_candidates;
	bool		isnull;
	Datum		keys;
	Datum		birth_year;
	Datum		self;
	TupleTableSlot *pslot;
	TupleTableSlot *islot;
	Snapshot	snapshot;
	IndexScanDesc pscan;
	IndexScanDesc iscan;
	MemoryContext work;
	MemoryContext old;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		return (Datum) 0;
	profile = PG_GETARG_HEAPTUPLEHEADER(0);
	ind = PG_GETARG_HEAPTUPLEHEADER(1);
	max_candidates = PG_GETARG_INT32(4);
	if (max_candidates < 1 || max_candidates > 10000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_candidates: %d is not between 1 and 10000", max_candidates)));
	keys = GetAttributeByName(profile, "keys", &isnull);
	if (isnull)
		return (Datum) 0;
	birth_year = GetAttributeByName(profile, "birth_year", &isnull);
	if (isnull)
		return (Datum) 0;
	self = GetAttributeByName(profile, "individual_id", &isnull);
	facts_of_records(&p, profile, ind);

	open_search_rels(&r, true);
	fact_attnums(&r, attnums);
	cands = blocked_candidates(&r, DatumGetArrayTypeP(keys), DatumGetInt16(birth_year), PG_GETARG_INT32(2),
							   PG_GETARG_INT32(3), isnull ? NULL : DatumGetUUIDP(self), &ncands);
	pslot = table_slot_create(r.profile, NULL);
	snapshot = GetActiveSnapshot();
	pscan = index_beginscan(r.profile, r.profile_pkey, snapshot, 1, 0);
	islot = r.folded ? NULL : table_slot_create(r.individual, NULL);
	iscan = r.folded ? NULL : index_beginscan(r.individual, r.individual_pkey, snapshot, 1, 0);
	work = AllocSetContextCreate(CurrentMemoryContext, "demographic comparison", ALLOCSET_DEFAULT_SIZES);

	for (int i = 0; i < ncands && i < max_candidates; i++)
	{
		PersonFacts c;
		int32		lv[9];
		bool		found;
		bool		null[NFACTS];
		Datum		v[NFACTS];

		CHECK_FOR_INTERRUPTS();
		/*
		 * The index scans run in the call's context: they keep state across
		 * rescans (btree's list of dead items among it) that the per
		 * candidate context, reset below, must not hold.
		 */
		found = fetch_by_id(pscan, pslot, &cands[i].id) && (r.folded || fetch_by_id(iscan, islot, &cands[i].id));
		old = MemoryContextSwitchTo(work);
		if (found)
		{
			for (int k = 0; k < NFACTS; k++)
				v[k] = slot_getattr(fact_rel(&r, k) == r.profile ? pslot : islot, attnums[k], &null[k]);
			facts_of(&c, v, null);
			if (!c.duplicate)
			{
				Datum		values[3];
				bool		nulls[3] = {false, false, false};

				early_levels(&p, &c, cands[i].namesakes, lv);
				values[0] = UUIDPGetDatum(&cands[i].id);
				values[1] = Int32GetDatum(cands[i].namesakes);
				values[2] = PointerGetDatum(levels_array(lv));
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			}
		}
		MemoryContextSwitchTo(old);
		ExecClearTuple(pslot);
		if (islot)
			ExecClearTuple(islot);
		MemoryContextReset(work);
	}
	index_endscan(pscan);
	ExecDropSingleTupleTableSlot(pslot);
	if (iscan)
	{
		index_endscan(iscan);
		ExecDropSingleTupleTableSlot(islot);
	}
	close_search_rels(&r);
	MemoryContextDelete(work);
	return (Datum) 0;
}
