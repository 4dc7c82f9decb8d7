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
#include "iris_type.h"

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

/* passes keep the best FIRST_PASS_HITS hits, then GROWTH times more each */
#define FIRST_PASS_HITS		1024
#define GROWTH				64

typedef struct IrisScan
{
	ItemPagesScan base;
	Hit		   *hits;			/* during a pass a max-heap, then sorted */
	int64		nhits;
	int64		next;			/* next sorted hit to hand out */
	int64		cap;			/* hits the current pass keeps */
	bool		dropped;		/* the pass had more hits than it kept */
	int64		offered;		/* hits the pass saw */
	bool		have_last;		/* a later pass resumes after the last one handed out */
	Hit			last;
} IrisScan;

/* the order rows come out in: distance, then heap TID */
static int
hit_cmp(const void *a, const void *b)
{
	const Hit  *x = a, *y = b;

	if (x->distance != y->distance)
		return x->distance < y->distance ? -1 : 1;
	return ItemPointerCompare((ItemPointer) &x->tid, (ItemPointer) &y->tid);
}

/*
 * A pass keeps the best `cap` hits in a max-heap (its root is the worst kept),
 * so most items cost one comparison, and nothing is stored per item: ORDER BY
 * ... LIMIT k over a million codes never holds more than the first pass's
 * hits.  A consumer that reads past them gets another, larger pass.
 */
static void
offer(IrisScan *so, float distance, ItemPointer tid)
{
	Hit			h;
	Hit		   *heap = so->hits;
	int64		i;

	h.distance = distance;
	h.tid = *tid;
	so->offered++;
	if (so->have_last && hit_cmp(&h, &so->last) <= 0)
		return;					/* handed out by an earlier pass */
	if (so->nhits == so->cap)
	{
		so->dropped = true;
		if (hit_cmp(&h, &heap[0]) >= 0)
			return;
		/* replace the worst kept and sift it down */
		i = 0;
		for (;;)
		{
			int64		l = 2 * i + 1;
			int64		m = l;

			if (l >= so->nhits)
				break;
			if (l + 1 < so->nhits && hit_cmp(&heap[l + 1], &heap[l]) > 0)
				m = l + 1;
			if (hit_cmp(&heap[m], &h) <= 0)
				break;
			heap[i] = heap[m];
			i = m;
		}
		heap[i] = h;
		return;
	}
	/* sift up */
	i = so->nhits++;
	while (i > 0 && hit_cmp(&heap[(i - 1) / 2], &h) < 0)
	{
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = h;
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
	so->next = 0;
	so->cap = FIRST_PASS_HITS;
	so->dropped = false;
	so->have_last = false;
}

/*
 * Score a page's comparable items (offsets offs[]) into out[].  Items of one
 * size fill the page's item space back to back, so when every item on the
 * page is one of them the kernel reads the templates in place, with the item
 * size as stride; otherwise (mixed geometries, NULLs) they are copied out to
 * a contiguous batch first.
 */
static void
score_page(const iris_probe *probe, Page page, Size flat, uint8 *batch, const OffsetNumber *offs, int n,
		   float *dist, float *out)
{
	PageHeader	ph = (PageHeader) page;
	Size		stride = MAXALIGN(ITEM_SIZE(flat));

	if (n == PageGetMaxOffsetNumber(page) && (Size) (ph->pd_special - ph->pd_upper) == (Size) n * stride)
	{
		const uint8 *base = (const uint8 *) page + ph->pd_upper + offsetof(IrisIndexItem, h);

		iris_scan(probe, base, stride, n, dist);
		for (int i = 0; i < n; i++)
			out[i] = dist[(ItemIdGetOffset(PageGetItemId(page, offs[i])) - ph->pd_upper) / stride];
		return;
	}
	for (int i = 0; i < n; i++)
		memcpy(batch + (size_t) i * flat, &((IrisIndexItem *) PageGetItem(page, PageGetItemId(page, offs[i])))->h, flat);
	iris_scan(probe, batch, flat, n, out);
}

/*
 * One pass: compare the probe with every item, keep the best so->cap hits
 * after the last one handed out, and sort them for iris_gettuple.
 */
static void
run_pass(IndexScanDesc scan)
{
	IrisScan   *so = (IrisScan *) scan->opaque;
	Relation	index = scan->indexRelation;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	MemoryContext old;
	ScanKey		pkey = scan->numberOfOrderBys > 0 ? &scan->orderByData[0] : &scan->keyData[0];
	bool		null_probe = (pkey->sk_flags & SK_ISNULL) != 0;
	IrisDatumView *probe_v = NULL;
	float		limit = get_float4_infinity();	/* hits beyond it are dropped */
	iris_probe	probe;
	Size		flat = 0;
	uint8	   *batch = NULL;
	float	   *dist = NULL;
	float	   *out = NULL;
	OffsetNumber *batch_off = NULL;

	item_pages_check_meta(index, IRIS_INDEX_MAGIC, IRIS_INDEX_VERSION, "refuge_iris");
	old = MemoryContextSwitchTo(so->base.cxt);

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
	so->base.recheck = false;
	for (int i = 0; i < scan->numberOfKeys; i++)
	{
		ScanKey		k = &scan->keyData[i];

		if (!null_probe && datumIsEqual(PointerGetDatum(datum_iris(k->sk_argument)), PointerGetDatum(probe_v), false, -1))
			limit = (float) RefugeIrisThreshold();
		else
			so->base.recheck = true;
	}
	if (so->base.recheck)
		limit = get_float4_infinity();
	if (so->hits == NULL || so->cap > FIRST_PASS_HITS)
	{
		if (so->hits != NULL)
			pfree(so->hits);
		so->hits = palloc_extended(so->cap * sizeof(Hit), MCXT_ALLOC_HUGE);
	}
	so->nhits = 0;
	so->next = 0;
	so->dropped = false;
	so->offered = 0;
	if (!null_probe)
	{
		/* one kernel call per page (score_page) */
		flat = flat_size(probe_v);
		batch = palloc(flat * (BLCKSZ / ITEM_SIZE(flat) + 1));
		dist = palloc(sizeof(float) * MaxOffsetNumber);
		out = palloc(sizeof(float) * MaxOffsetNumber);
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
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		iid = PageGetItemId(page, off);
			IrisIndexItem *item;

			if (!ItemIdIsUsed(iid) || ItemIdIsDead(iid))
				continue;
			item = (IrisIndexItem *) PageGetItem(page, iid);
			if (null_probe || ItemIdGetLength(iid) == NULL_ITEM_SIZE)
			{
				if (isinf(limit))
					offer(so, get_float4_infinity(), &item->tid);
			}
			else if (ItemIdGetLength(iid) == ITEM_SIZE(flat) && iris_same_geometry(&item->h, &probe_v->h))
				batch_off[nbatch++] = off;
			else if (1.0f <= limit)
				offer(so, 1.0f, &item->tid);	/* another geometry: not comparable */
		}
		if (nbatch > 0)
		{
			score_page(&probe, page, flat, batch, batch_off, nbatch, dist, out);
			for (int i = 0; i < nbatch; i++)
				if (out[i] <= limit)
					offer(so, out[i], &((IrisIndexItem *) PageGetItem(page, PageGetItemId(page, batch_off[i])))->tid);
		}
		UnlockReleaseBuffer(buf);
	}
	qsort(so->hits, so->nhits, sizeof(Hit), hit_cmp);
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
		run_pass(scan);
	if (so->next == so->nhits && so->dropped)
	{
		/* the consumer wants more than this pass kept: a larger one, after the last */
		so->cap = Min(so->cap * GROWTH, so->offered);
		run_pass(scan);
	}
	if (so->next == so->nhits)
		return false;
	top = so->hits[so->next++];
	so->last = top;
	so->have_last = true;
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
static Datum
iris_entry(Relation index, BlockNumber blk, OffsetNumber off, const void *p, Size len, bool *isnull)
{
	const IrisIndexItem *item = p;
	Size		flat = len - offsetof(IrisIndexItem, h);
	IrisDatumView *v;
	rf_error	err;

	if (len == NULL_ITEM_SIZE)
	{
		*isnull = true;
		return (Datum) 0;
	}
	if (len < ITEM_SIZE(sizeof(iris_header)) ||
		iris_validate(&item->h, flat, &err) != RF_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("refuge_iris index \"%s\" contains an item that is not a valid template",
						RelationGetRelationName(index)),
				 errdetail("Item (%u,%u), %zu bytes%s%s.", blk, off, len,
						   len < ITEM_SIZE(sizeof(iris_header)) ? "" : ": ",
						   len < ITEM_SIZE(sizeof(iris_header)) ? "" : err.message),
				 errhint("REINDEX the index.")));
	v = palloc(offsetof(IrisDatumView, h) + flat);
	SET_VARSIZE(v, offsetof(IrisDatumView, h) + flat);
	v->pad = 0;
	memcpy(&v->h, &item->h, flat);
	return PointerGetDatum(v);
}

Datum
refuge_iris_index_items(PG_FUNCTION_ARGS)
{
	return item_pages_list(fcinfo, iris_gettuple, "refuge_iris", IRIS_INDEX_MAGIC, IRIS_INDEX_VERSION, iris_entry);
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
