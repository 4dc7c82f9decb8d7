/*
 * iris_index.c
 *		refuge_iris: an index access method for exact 1:N iris search.
 *
 * Iris codes do not cluster (every impostor sits near 0.5), so graph and
 * list approximations lose the mate; this index is an exact scan instead,
 * but over packed codes in its own pages, compared by the matcher's 1:N
 * kernel, with no heap access or detoasting per row.  It answers
 * ORDER BY code <-> probe [LIMIT k] with exact distances, in order, and
 * WHERE code % probe.
 *
 * Layout (item_pages.c): block 0 is the metapage; every other block holds
 * items of (heap TID, padding, the matcher's flat template).
 */
#include "postgres.h"

#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "access/reloptions.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/relation.h"
#include "funcapi.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/tuplestore.h"
#include "catalog/index.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "optimizer/optimizer.h"
#include "utils/datum.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/snapmgr.h"

#include "iris.h"
#include "item_pages.h"
#include "refuge.h"

PG_FUNCTION_INFO_V1(refuge_iris_index_handler);
PG_FUNCTION_INFO_V1(refuge_iris_index_items);

#define IRIS_INDEX_MAGIC	0x49524953	/* "IRIS" */
#define IRIS_INDEX_VERSION	1

/* operator class strategies */
#define IRIS_ORDER_STRATEGY		1	/* <-> for ORDER BY */
#define IRIS_MATCH_STRATEGY		2	/* % : distance within refuge.iris_threshold */

/* An index item: the heap tuple's TID, then the flat template (8-aligned). */
typedef struct IrisIndexItem
{
	ItemPointerData tid;
	uint16		pad;
	iris_header h;
} IrisIndexItem;

#define ITEM_SIZE(flat)		(offsetof(IrisIndexItem, h) + (flat))

/* The varlena datum of refuge.iris (iris_type.c): header, padding, flat template. */
typedef struct IrisDatumView
{
	int32		vl_len_;
	int32		pad;
	iris_header h;
} IrisDatumView;

static IrisDatumView *
datum_iris(Datum d)
{
	return (IrisDatumView *) PG_DETOAST_DATUM(d);
}

static Size
flat_size(const IrisDatumView *v)
{
	return VARSIZE(v) - offsetof(IrisDatumView, h);
}

/*
 * A NULL code is stored as a bare TID, so that ORDER BY code <-> probe via the
 * index returns every row, NULLs last, exactly as a sort would.
 */
#define NULL_ITEM_SIZE		offsetof(IrisIndexItem, h)

static IrisIndexItem *
make_item(Datum value, bool isnull, ItemPointer tid, Size *size)
{
	IrisDatumView *v;
	Size		flat;
	IrisIndexItem *item;

	if (isnull)
	{
		item = palloc0(sizeof(IrisIndexItem));
		item->tid = *tid;
		*size = NULL_ITEM_SIZE;
		return item;
	}
	v = datum_iris(value);
	flat = flat_size(v);
	item = palloc0(ITEM_SIZE(flat));
	item->tid = *tid;
	memcpy(&item->h, &v->h, flat);
	*size = ITEM_SIZE(flat);
	return item;
}

/* ---- build, insert ---- */

static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool alive, void *state)
{
	Size		size;
	IrisIndexItem *item = make_item(values[0], isnull[0], tid, &size);

	item_pages_build_add((ItemPagesBuild *) state, item, size);
	pfree(item);
}

static IndexBuildResult *
iris_build(Relation heap, Relation index, IndexInfo *indexInfo)
{
	ItemPagesBuild bs;

	item_pages_build_begin(&bs, index, "refuge_iris");
	table_index_build_scan(heap, index, indexInfo, true, true, build_callback, &bs, NULL);
	return item_pages_build_end(&bs, IRIS_INDEX_MAGIC, IRIS_INDEX_VERSION);
}

static void
iris_buildempty(Relation index)
{
	item_pages_buildempty(index, IRIS_INDEX_MAGIC, IRIS_INDEX_VERSION);
}

static bool
iris_insert(Relation index, Datum *values, bool *isnull, ItemPointer tid, Relation heap,
			IndexUniqueCheck checkUnique, bool indexUnchanged, IndexInfo *indexInfo)
{
	Size		size;
	IrisIndexItem *item = make_item(values[0], isnull[0], tid, &size);

	item_pages_insert(index, item, size, "refuge_iris");
	pfree(item);
	return false;
}

/* ---- scan ---- */

typedef struct Hit
{
	float		distance;		/* +inf for a NULL code */
	ItemPointerData tid;
} Hit;

typedef struct IrisScan
{
	ItemPagesScan base;
	Hit		   *hits;
	int64		nhits;
} IrisScan;

static int
hit_cmp(const void *a, const void *b)
{
	const Hit  *x = a, *y = b;

	if (x->distance != y->distance)
		return x->distance < y->distance ? -1 : 1;
	return ItemPointerCompare((ItemPointer) &x->tid, (ItemPointer) &y->tid);
}

/*
 * The hits form a binary min-heap: building it is linear and each row handed
 * out costs log n, so ORDER BY ... LIMIT k never pays for a full sort.
 */
static void
hit_sift_down(Hit *h, int64 n, int64 i)
{
	for (;;)
	{
		int64		l = 2 * i + 1;
		int64		m = i;
		Hit			t;

		if (l < n && hit_cmp(&h[l], &h[m]) < 0)
			m = l;
		if (l + 1 < n && hit_cmp(&h[l + 1], &h[m]) < 0)
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static IndexScanDesc
iris_beginscan(Relation index, int nkeys, int norderbys)
{
	return item_pages_beginscan(index, nkeys, norderbys, sizeof(IrisScan));
}

static void
iris_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	IrisScan   *so = (IrisScan *) scan->opaque;

	item_pages_rescan(scan, keys, orderbys);
	so->hits = NULL;
	so->nhits = 0;
}

/*
 * Score a page's comparable items (offsets offs[], hit slots slot[]).  Items
 * of one size fill the page's item space back to back, so when every item on
 * the page is one of them the kernel reads the templates in place, with the
 * item size as stride; otherwise (mixed geometries, NULLs) they are copied
 * out to a contiguous batch first.
 */
static void
score_page(const iris_probe *probe, Page page, Size flat, uint8 *batch, const OffsetNumber *offs,
		   const int64 *slot, int n, float *dist, Hit *hits)
{
	PageHeader	ph = (PageHeader) page;
	Size		stride = MAXALIGN(ITEM_SIZE(flat));

	if (n == PageGetMaxOffsetNumber(page) && (Size) (ph->pd_special - ph->pd_upper) == (Size) n * stride)
	{
		const uint8 *base = (const uint8 *) page + ph->pd_upper + offsetof(IrisIndexItem, h);

		iris_scan(probe, base, stride, n, dist);
		for (int i = 0; i < n; i++)
		{
			ItemId		iid = PageGetItemId(page, offs[i]);

			hits[slot[i]].distance = dist[(ItemIdGetOffset(iid) - ph->pd_upper) / stride];
		}
		return;
	}
	for (int i = 0; i < n; i++)
		memcpy(batch + (size_t) i * flat, &((IrisIndexItem *) PageGetItem(page, PageGetItemId(page, offs[i])))->h, flat);
	iris_scan(probe, batch, flat, n, dist);
	for (int i = 0; i < n; i++)
		hits[slot[i]].distance = dist[i];
}

/*
 * Compare the probe with every item; the hits become a heap that
 * iris_gettuple pops: exact distances, in order.
 */
static void
run_scan(IndexScanDesc scan)
{
	IrisScan   *so = (IrisScan *) scan->opaque;
	Relation	index = scan->indexRelation;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	MemoryContext old = MemoryContextSwitchTo(so->base.cxt);
	ScanKey		pkey = scan->numberOfOrderBys > 0 ? &scan->orderByData[0] : &scan->keyData[0];
	bool		null_probe = (pkey->sk_flags & SK_ISNULL) != 0;
	IrisDatumView *probe_v = NULL;
	float		limit = get_float4_infinity();	/* hits beyond it are dropped */
	iris_probe	probe;
	int64		cap = 1024;
	Size		flat = 0;
	uint8	   *batch = NULL;
	int64	   *batch_hit = NULL;
	float	   *dist = NULL;
	OffsetNumber *batch_off = NULL;

	/* a NULL probe makes every distance NULL: all rows come back, unordered */
	if (!null_probe)
	{
		iris_params p;
		size_t		need;

		probe_v = datum_iris(pkey->sk_argument);
		p = iris_default_params(&probe_v->h);
		need = iris_probe_size(&probe_v->h, &p);
		if (iris_probe_init(&probe, &probe_v->h, &p, palloc(need), need, NULL) != RF_OK)
			elog(ERROR, "refuge_iris: could not prepare the probe");
	}
	/*
	 * % keys with the probe being scored are decided here, at the threshold
	 * the operator itself reads; others (another probe) are left to the
	 * executor's recheck.
	 */
	for (int i = 0; i < scan->numberOfKeys; i++)
	{
		ScanKey		k = &scan->keyData[i];

		if (!null_probe && datumIsEqual(PointerGetDatum(datum_iris(k->sk_argument)), PointerGetDatum(probe_v), false, -1))
			limit = (float) RefugeIrisThreshold();
		else
			so->base.recheck = true;
	}
	so->hits = palloc(cap * sizeof(Hit));
	if (!null_probe)
	{
		/* one kernel call per page (score_page) */
		flat = flat_size(probe_v);
		batch = palloc(flat * (BLCKSZ / ITEM_SIZE(flat) + 1));
		batch_hit = palloc(sizeof(int64) * MaxOffsetNumber);
		dist = palloc(sizeof(float) * MaxOffsetNumber);
		batch_off = palloc(sizeof(OffsetNumber) * MaxOffsetNumber);
	}
	for (BlockNumber blk = 1; blk < nblocks; blk++)
	{
		Buffer		buf = ReadBuffer(index, blk);
		Page		page;
		OffsetNumber maxoff;
		int			nbatch = 0;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		if (so->nhits + maxoff > cap)
		{
			cap = Max(cap * 2, so->nhits + maxoff);
			so->hits = repalloc_huge(so->hits, cap * sizeof(Hit));
		}
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		iid = PageGetItemId(page, off);
			IrisIndexItem *item;
			Hit		   *hit;

			if (!ItemIdIsUsed(iid) || ItemIdIsDead(iid))
				continue;
			item = (IrisIndexItem *) PageGetItem(page, iid);
			hit = &so->hits[so->nhits];
			hit->tid = item->tid;
			hit->distance = 1.0f;	/* another geometry: not comparable */
			if (null_probe || ItemIdGetLength(iid) == NULL_ITEM_SIZE)
				hit->distance = get_float4_infinity();
			else if (ItemIdGetLength(iid) == ITEM_SIZE(flat) && iris_same_geometry(&item->h, &probe_v->h))
			{
				batch_off[nbatch] = off;
				batch_hit[nbatch++] = so->nhits;
			}
			so->nhits++;
		}
		if (nbatch > 0)
			score_page(&probe, page, flat, batch, batch_off, batch_hit, nbatch, dist, so->hits);
		UnlockReleaseBuffer(buf);
	}
	if (scan->numberOfKeys > 0 && !so->base.recheck)
	{
		int64		kept = 0;

		for (int64 i = 0; i < so->nhits; i++)
			if (so->hits[i].distance <= limit)
				so->hits[kept++] = so->hits[i];
		so->nhits = kept;
	}
	for (int64 i = so->nhits / 2 - 1; i >= 0; i--)
		hit_sift_down(so->hits, so->nhits, i);
	so->base.done_scan = true;
	MemoryContextSwitchTo(old);
}

static bool
iris_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	IrisScan   *so = (IrisScan *) scan->opaque;
	Hit			top;

	item_pages_check_scan(scan, "refuge_iris", "code");
	if (so->base.empty)
		return false;
	if (!so->base.done_scan)
		run_scan(scan);
	if (so->nhits == 0)
		return false;
	/* pop the nearest: move the last hit to the root and sift it down */
	top = so->hits[0];
	so->hits[0] = so->hits[--so->nhits];
	hit_sift_down(so->hits, so->nhits, 0);
	scan->xs_heaptid = top.tid;
	scan->xs_recheck = so->base.recheck;
	scan->xs_recheckorderby = false;
	if (scan->numberOfOrderBys == 0)
		return true;
	if (isinf(top.distance))
	{
		scan->xs_orderbyvals[0] = (Datum) 0;
		scan->xs_orderbynulls[0] = true;
	}
	else
	{
		scan->xs_orderbyvals[0] = Float8GetDatum((double) top.distance);
		scan->xs_orderbynulls[0] = false;
	}
	return true;
}

/* ---- planning ---- */

/*
 * Scoring an entry at kernel speed costs about a quarter of an operator call.
 */
static void
iris_costestimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *startup, Cost *total,
				  Selectivity *selectivity, double *correlation, double *pages)
{
	item_pages_costestimate(root, path, loop_count, startup, total, selectivity, correlation, pages, 0.25);
}

/* ---- verification ---- */

static bool iris_gettuple(IndexScanDesc scan, ScanDirection dir);

/*
 * refuge.iris_index_items(index regclass): every entry of a refuge_iris index
 * as (heap_tid, code), checking the structure on the way (metapage, item
 * sizes, each template's own validation).  refuge.iris_index_verify joins
 * this to the table.  Any damage is reported as index_corrupted.
 */
Datum
refuge_iris_index_items(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	index;
	BlockNumber nblocks;
	Buffer		buf;

	InitMaterializedSRF(fcinfo, 0);
	index = item_pages_open_checked(relid, iris_gettuple, "refuge_iris", IRIS_INDEX_MAGIC, IRIS_INDEX_VERSION,
									&nblocks);
	for (BlockNumber blk = 1; blk < nblocks; blk++)
	{
		Page		page;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(index, blk);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
		{
			ItemId		iid = PageGetItemId(page, off);
			IrisIndexItem *item;
			Size		len;
			Datum		values[2];
			bool		nulls[2] = {false, false};
			rf_error	err;

			if (!ItemIdIsUsed(iid) || ItemIdIsDead(iid))
				continue;
			item = (IrisIndexItem *) PageGetItem(page, iid);
			len = ItemIdGetLength(iid);
			if (!ItemPointerIsValid(&item->tid))
				ereport(ERROR,
						(errcode(ERRCODE_INDEX_CORRUPTED),
						 errmsg("refuge_iris index \"%s\": item (%u,%u) has an invalid heap TID",
								RelationGetRelationName(index), blk, off)));
			values[0] = PointerGetDatum(&item->tid);
			if (len == NULL_ITEM_SIZE)
				nulls[1] = true;
			else
			{
				Size		flat = len - offsetof(IrisIndexItem, h);
				IrisDatumView *v;

				if (len < ITEM_SIZE(sizeof(iris_header)) ||
					iris_validate(&item->h, flat, &err) != RF_OK)
					ereport(ERROR,
							(errcode(ERRCODE_INDEX_CORRUPTED),
							 errmsg("refuge_iris index \"%s\": item (%u,%u) of %zu bytes is not a valid template%s%s",
									RelationGetRelationName(index), blk, off, len,
									len < ITEM_SIZE(sizeof(iris_header)) ? "" : ": ",
									len < ITEM_SIZE(sizeof(iris_header)) ? "" : err.message)));
				v = palloc(offsetof(IrisDatumView, h) + flat);
				SET_VARSIZE(v, offsetof(IrisDatumView, h) + flat);
				v->pad = 0;
				memcpy(&v->h, &item->h, flat);
				values[1] = PointerGetDatum(v);
			}
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			if (!nulls[1])
				pfree(DatumGetPointer(values[1]));
		}
		UnlockReleaseBuffer(buf);
	}
	relation_close(index, AccessShareLock);
	return (Datum) 0;
}

Datum
refuge_iris_index_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = item_pages_routine();

	am->ambuild = iris_build;
	am->ambuildempty = iris_buildempty;
	am->aminsert = iris_insert;
	am->amcostestimate = iris_costestimate;
	am->ambeginscan = iris_beginscan;
	am->amrescan = iris_rescan;
	am->amgettuple = iris_gettuple;
	PG_RETURN_POINTER(am);
}
