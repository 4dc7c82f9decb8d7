/*
 * fingerprint_index.c
 *		refuge_fingerprint: an index access method for 1:N fingerprint
 *		search in two stages.
 *
 * Candidate stage: each entry holds its finger's cylinder min-hash keys
 * (matcher/fp_index.h); the probe's keys become a bitmap and every entry is
 * scored by the keys it shares, normalised by the square root of its key
 * count, keeping the refuge.fingerprint_candidates best.  Re-scoring stage:
 * those candidates are compared with the full matcher, from the copy of the
 * fingerprint each entry carries, so the distances handed back are exactly
 * those of fp <-> probe and no heap tuple is read.  ORDER BY fp <-> probe
 * returns the candidates in distance order; WHERE fp % probe those at or
 * above refuge.fingerprint_threshold.
 *
 * Unlike refuge_iris this is not exact: a true mate the candidate stage
 * ranks below the cut is not returned.  How often that happens is measured
 * in test/bench/fp_index.sh.  NULL fingerprints are not indexed.
 *
 * Layout and maintenance: item_pages.c; items are (heap TID, key count,
 * sorted keys, the fingerprint datum at the next 4-byte boundary).
 */
#include "postgres.h"

#include <math.h>

#include "access/amapi.h"
#include "access/relation.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
#include "commands/vacuum.h"
#include "optimizer/optimizer.h"

#include "fp_index.h"
#include "fp_match.h"
#include "item_pages.h"
#include "fingerprint_index.h"
#include "fingerprint_type.h"

PG_FUNCTION_INFO_V1(refuge_fingerprint_index_handler);
PG_FUNCTION_INFO_V1(refuge_fingerprint_index_items);

#define FP_INDEX_MAGIC		0x46504958	/* "FPIX" */
#define FP_INDEX_VERSION	(1000 + FPI_VERSION)	/* layout 1, keys of FPI_VERSION */

/* operator class strategies */
#define FP_ORDER_STRATEGY	1	/* <-> for ORDER BY */
#define FP_MATCH_STRATEGY	2	/* % : score at or above refuge.fingerprint_threshold */

typedef struct FpIndexItem
{
	ItemPointerData tid;
	uint16		nkeys;
	uint16		keys[FLEXIBLE_ARRAY_MEMBER];
} FpIndexItem;

#define ITEM_DATUM_OFFSET(nkeys)	INTALIGN(offsetof(FpIndexItem, keys) + (nkeys) * sizeof(uint16))
#define ITEM_DATUM(item)			((char *) (item) + ITEM_DATUM_OFFSET((item)->nkeys))

static int	refuge_fingerprint_candidates = 100;

void
RefugeFingerprintIndexInit(void)
{
	DefineCustomIntVariable("refuge.fingerprint_candidates",
							"Candidates a refuge_fingerprint index scan re-scores with the full matcher.",
							"More candidates lose fewer true mates and cost about a full comparison each.",
							&refuge_fingerprint_candidates, 100, 1, 100000, PGC_USERSET, 0, NULL, NULL, NULL);
}

/* scratch space for building templates and keys, kept for the backend's life */
static fpm_template *scratch_template;
static uint16 *scratch_keys;

static void
ensure_scratch(void)
{
	if (scratch_template == NULL)
	{
		scratch_template = MemoryContextAlloc(TopMemoryContext, sizeof(fpm_template));
		scratch_keys = MemoryContextAlloc(TopMemoryContext, FPI_MAX_KEYS * sizeof(uint16));
	}
}

static FpIndexItem *
make_item(Datum value, ItemPointer tid, Size *size)
{
	struct varlena *d = PG_DETOAST_DATUM(value);
	int			nkeys;
	FpIndexItem *item;

	ensure_scratch();
	RefugeFingerprintTemplate(d, scratch_template);
	nkeys = fpi_keys(scratch_template, FPI_GALLERY, scratch_keys);
	*size = ITEM_DATUM_OFFSET(nkeys) + VARSIZE(d);
	item = palloc0(*size);
	item->tid = *tid;
	item->nkeys = (uint16) nkeys;
	memcpy(item->keys, scratch_keys, nkeys * sizeof(uint16));
	memcpy(ITEM_DATUM(item), d, VARSIZE(d));
	return item;
}

/* ---- build, insert ---- */

static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool alive, void *state)
{
	Size		size;
	FpIndexItem *item;

	if (isnull[0])
		return;
	item = make_item(values[0], tid, &size);
	item_pages_build_add((ItemPagesBuild *) state, item, size);
	pfree(item);
}

static IndexBuildResult *
fp_build(Relation heap, Relation index, IndexInfo *indexInfo)
{
	ItemPagesBuild bs;

	item_pages_build_begin(&bs, index, "refuge_fingerprint");
	table_index_build_scan(heap, index, indexInfo, true, true, build_callback, &bs, NULL);
	return item_pages_build_end(&bs, FP_INDEX_MAGIC, FP_INDEX_VERSION);
}

static void
fp_buildempty(Relation index)
{
	item_pages_buildempty(index, FP_INDEX_MAGIC, FP_INDEX_VERSION);
}

static bool
fp_insert(Relation index, Datum *values, bool *isnull, ItemPointer tid, Relation heap,
		  IndexUniqueCheck checkUnique, bool indexUnchanged, IndexInfo *indexInfo)
{
	Size		size;
	FpIndexItem *item;

	if (isnull[0])
		return false;
	item = make_item(values[0], tid, &size);
	item_pages_insert(index, item, size, "refuge_fingerprint");
	pfree(item);
	return false;
}

/* ---- scan ---- */

typedef struct Candidate
{
	double		score;			/* candidate stage; then the distance */
	ItemPointerData tid;
	struct varlena *value;		/* copy of the entry's fingerprint */
} Candidate;

typedef struct FpScan
{
	ItemPagesScan base;
	bool		null_probe;		/* ORDER BY fp <-> NULL: distances are all NULL */
	Candidate  *cand;
	int			ncand;
	int			next;			/* next to hand out */
} FpScan;

/* the candidate heap is a min-heap on score: its root is the first to go */
static void
cand_sift_down(Candidate *c, int n, int i)
{
	for (;;)
	{
		int			l = 2 * i + 1;
		int			m = i;
		Candidate	t;

		if (l < n && c[l].score < c[m].score)
			m = l;
		if (l + 1 < n && c[l + 1].score < c[m].score)
			m = l + 1;
		if (m == i)
			return;
		t = c[i];
		c[i] = c[m];
		c[m] = t;
		i = m;
	}
}

static void
cand_sift_up(Candidate *c, int i)
{
	while (i > 0 && c[(i - 1) / 2].score > c[i].score)
	{
		Candidate	t = c[i];

		c[i] = c[(i - 1) / 2];
		c[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static int
distance_cmp(const void *a, const void *b)
{
	const Candidate *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? -1 : 1;
	return ItemPointerCompare((ItemPointer) &x->tid, (ItemPointer) &y->tid);
}

static IndexScanDesc
fp_beginscan(Relation index, int nkeys, int norderbys)
{
	return item_pages_beginscan(index, nkeys, norderbys, sizeof(FpScan));
}

static void
fp_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	FpScan	   *so = (FpScan *) scan->opaque;

	item_pages_rescan(scan, keys, orderbys);
	so->null_probe = scan->numberOfOrderBys > 0 && (scan->orderByData[0].sk_flags & SK_ISNULL);
	so->cand = NULL;
	so->ncand = 0;
	so->next = 0;
}

/*
 * Candidate stage over every entry, then the full matcher on the kept ones;
 * the result is sorted by distance for fp_gettuple to hand out.
 */
static void
run_scan(IndexScanDesc scan)
{
	FpScan	   *so = (FpScan *) scan->opaque;
	Relation	index = scan->indexRelation;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	MemoryContext old = MemoryContextSwitchTo(so->base.cxt);
	ScanKey		pkey = scan->numberOfOrderBys > 0 ? &scan->orderByData[0] : &scan->keyData[0];
	struct varlena *probe_v = so->null_probe ? NULL : PG_DETOAST_DATUM(pkey->sk_argument);
	fpm_template *probe = palloc(sizeof(fpm_template));
	fpm_template *other = palloc(sizeof(fpm_template));
	uint16	   *pkeys = palloc(FPI_MAX_KEYS * sizeof(uint16));
	uint64	   *bitmap = palloc(FPI_BITMAP_WORDS * sizeof(uint64));
	int			cap = refuge_fingerprint_candidates;
	double		threshold = -1;	/* calibrated score a returned row needs */
	int			kept = 0;

	item_pages_check_meta(index, FP_INDEX_MAGIC, FP_INDEX_VERSION, "refuge_fingerprint");

	/* % keys with the probe being searched are decided here, others rechecked */
	for (int i = 0; i < scan->numberOfKeys; i++)
	{
		ScanKey		k = &scan->keyData[i];

		if (probe_v != NULL &&
			datumIsEqual(PointerGetDatum(PG_DETOAST_DATUM(k->sk_argument)), PointerGetDatum(probe_v), false, -1))
			threshold = RefugeFingerprintThreshold();
		else
			so->base.recheck = true;
	}
	/* a NULL probe ranks nothing: the first candidates come back, as a sort of NULLs would */
	if (probe_v == NULL)
		memset(bitmap, 0, FPI_BITMAP_WORDS * sizeof(uint64));
	else
	{
		RefugeFingerprintTemplate(probe_v, probe);
		fpi_bitmap(pkeys, fpi_keys(probe, FPM_MAX, pkeys), bitmap);
	}
	so->cand = palloc(sizeof(Candidate) * cap);

	for (BlockNumber blk = 1; blk < nblocks; blk++)
	{
		Buffer		buf = ReadBuffer(index, blk);
		Page		page;
		OffsetNumber maxoff;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		iid = PageGetItemId(page, off);
			FpIndexItem *item;
			float		score;
			Candidate  *c;

			if (!ItemIdIsUsed(iid) || ItemIdIsDead(iid))
				continue;
			item = (FpIndexItem *) PageGetItem(page, iid);
			if (item->nkeys > FPI_GALLERY_KEYS)
				ereport(ERROR,
						(errcode(ERRCODE_INDEX_CORRUPTED),
						 errmsg("refuge_fingerprint index \"%s\" contains an item with too many keys",
								RelationGetRelationName(index)),
						 errdetail("Item (%u,%u) has %u keys; at most %d.", blk, off, item->nkeys, FPI_GALLERY_KEYS),
						 errhint("REINDEX the index.")));
			score = fpi_score(bitmap, item->keys, item->nkeys);
			if (so->ncand == cap && score <= so->cand[0].score)
				continue;
			if (so->ncand == cap)
			{
				/* replace the weakest kept candidate */
				c = &so->cand[0];
				pfree(c->value);
			}
			else
				c = &so->cand[so->ncand++];
			c->score = score;
			c->tid = item->tid;
			c->value = palloc(VARSIZE(ITEM_DATUM(item)));
			memcpy(c->value, ITEM_DATUM(item), VARSIZE(ITEM_DATUM(item)));
			if (c == &so->cand[0] && so->ncand == cap)
				cand_sift_down(so->cand, so->ncand, 0);
			else
				cand_sift_up(so->cand, so->ncand - 1);
		}
		UnlockReleaseBuffer(buf);
	}

	/* re-score: the same computation as fp <-> probe */
	for (int i = 0; i < so->ncand; i++)
	{
		Candidate  *c = &so->cand[i];
		double		s;

		CHECK_FOR_INTERRUPTS();
		if (probe_v == NULL)
		{
			so->cand[kept++] = *c;
			continue;
		}
		RefugeFingerprintTemplate(c->value, other);
		s = fpm_calibrate(fpm_score(other, probe));
		if (threshold >= 0 && !so->base.recheck && s < threshold)
			continue;
		so->cand[kept] = *c;
		so->cand[kept++].score = pow(10.0, -s / 10.0);
	}
	so->ncand = kept;
	qsort(so->cand, so->ncand, sizeof(Candidate), distance_cmp);
	so->base.done_scan = true;
	MemoryContextSwitchTo(old);
}

static bool
fp_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	FpScan	   *so = (FpScan *) scan->opaque;
	Candidate  *c;

	item_pages_check_scan(scan, "refuge_fingerprint", "fp");
	if (so->base.empty)
		return false;
	if (!so->base.done_scan)
		run_scan(scan);
	if (so->next >= so->ncand)
		return false;
	c = &so->cand[so->next++];
	scan->xs_heaptid = c->tid;
	scan->xs_recheck = so->base.recheck;
	scan->xs_recheckorderby = false;
	if (scan->numberOfOrderBys > 0)
	{
		scan->xs_orderbyvals[0] = Float8GetDatum(c->score);
		scan->xs_orderbynulls[0] = so->null_probe;
	}
	return true;
}

/*
 * Scoring an entry's keys costs about one operator call; re-scoring a
 * candidate is a full comparison, which the operator's function declares as
 * 4,000 (the refuge--0.2.0--0.3.0 script).
 */
static void
fp_costestimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *startup, Cost *total,
				Selectivity *selectivity, double *correlation, double *pages)
{
	item_pages_costestimate(root, path, loop_count, startup, total, selectivity, correlation, pages, 1.0);
	*startup += refuge_fingerprint_candidates * cpu_operator_cost * 4000;
	*total += refuge_fingerprint_candidates * cpu_operator_cost * 4000;
	/* no more rows than candidates come back, so no more heap fetches */
	if (path->indexinfo->tuples > 0)
		*selectivity = Min(*selectivity, refuge_fingerprint_candidates / path->indexinfo->tuples);
}

/* ---- verification ---- */

/*
 * refuge.fingerprint_index_items(index regclass): every entry of a
 * refuge_fingerprint index as (heap_tid, fp), checking its structure on the
 * way: metapage, item sizes, the fingerprint's own validation, and that the
 * stored keys are the ones the fingerprint gives (so an entry whose keys
 * were damaged, or made by another key version, is found).
 * refuge.fingerprint_index_verify joins this to the table.
 */
static Datum
fp_entry(Relation index, BlockNumber blk, OffsetNumber off, const void *p, Size len, bool *isnull)
{
	const FpIndexItem *item = p;
	int			nkeys;

	if (len < offsetof(FpIndexItem, keys) || item->nkeys > FPI_GALLERY_KEYS ||
		len < ITEM_DATUM_OFFSET(item->nkeys) + VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("refuge_fingerprint index \"%s\" contains an item with a bad header",
						RelationGetRelationName(index)),
				 errdetail("Item (%u,%u), %zu bytes.", blk, off, len),
				 errhint("REINDEX the index.")));
	RefugeFingerprintCheck(ITEM_DATUM(item), len - ITEM_DATUM_OFFSET(item->nkeys), ERRCODE_INDEX_CORRUPTED);
	ensure_scratch();
	RefugeFingerprintTemplate(ITEM_DATUM(item), scratch_template);
	nkeys = fpi_keys(scratch_template, FPI_GALLERY, scratch_keys);
	if (nkeys != item->nkeys || memcmp(scratch_keys, item->keys, nkeys * sizeof(uint16)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("refuge_fingerprint index \"%s\" contains an item whose keys its fingerprint does not give",
						RelationGetRelationName(index)),
				 errdetail("Item (%u,%u).", blk, off),
				 errhint("REINDEX the index.")));
	return PointerGetDatum(ITEM_DATUM(item));
}

Datum
refuge_fingerprint_index_items(PG_FUNCTION_ARGS)
{
	return item_pages_list(fcinfo, fp_gettuple, "refuge_fingerprint", FP_INDEX_MAGIC, FP_INDEX_VERSION, fp_entry);
}

Datum
refuge_fingerprint_index_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = item_pages_routine();

	am->ambuild = fp_build;
	am->ambuildempty = fp_buildempty;
	am->aminsert = fp_insert;
	am->amcostestimate = fp_costestimate;
	am->ambeginscan = fp_beginscan;
	am->amrescan = fp_rescan;
	am->amgettuple = fp_gettuple;
	PG_RETURN_POINTER(am);
}
