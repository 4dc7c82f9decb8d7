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
 * Layout: block 0 is the metapage; every other block holds items of
 * (heap TID, padding, the matcher's flat template).  All changes are logged
 * with generic WAL; the build writes pages directly and logs them at the
 * end.  Inserts append to the last page under the metapage lock.  VACUUM
 * removes the items of dead heap tuples.
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
#include "refuge.h"

PG_FUNCTION_INFO_V1(refuge_iris_index_handler);
PG_FUNCTION_INFO_V1(refuge_iris_index_items);

#define IRIS_INDEX_MAGIC	0x49524953	/* "IRIS" */
#define IRIS_INDEX_VERSION	1
#define IRIS_METAPAGE		0

/* operator class strategies */
#define IRIS_ORDER_STRATEGY		1	/* <-> for ORDER BY */
#define IRIS_MATCH_STRATEGY		2	/* % : distance within refuge.iris_threshold */

typedef struct IrisIndexMeta
{
	uint32		magic;
	uint32		version;
	BlockNumber last_block;		/* where inserts go */
} IrisIndexMeta;

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

static IrisIndexMeta *
meta_of(Page page)
{
	return (IrisIndexMeta *) PageGetContents(page);
}

static void
init_meta(Page page, BlockNumber last)
{
	IrisIndexMeta *m;

	PageInit(page, BLCKSZ, 0);
	m = meta_of(page);
	m->magic = IRIS_INDEX_MAGIC;
	m->version = IRIS_INDEX_VERSION;
	m->last_block = last;
	((PageHeader) page)->pd_lower = ((char *) m + sizeof(IrisIndexMeta)) - (char *) page;
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

/* ---- build ---- */

typedef struct BuildState
{
	Relation	index;
	Buffer		buf;			/* the page being filled */
	double		tuples;
} BuildState;

static void
build_add(BuildState *bs, IrisIndexItem *item, Size size)
{
	Page		page = BufferGetPage(bs->buf);

	if (PageGetFreeSpace(page) < MAXALIGN(size))
	{
		MarkBufferDirty(bs->buf);
		UnlockReleaseBuffer(bs->buf);
		bs->buf = ReadBuffer(bs->index, P_NEW);
		LockBuffer(bs->buf, BUFFER_LOCK_EXCLUSIVE);
		PageInit(BufferGetPage(bs->buf), BLCKSZ, 0);
		page = BufferGetPage(bs->buf);
	}
	if (PageAddItem(page, (Item) item, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
		elog(ERROR, "refuge_iris: could not add an item of %zu bytes to a page", size);
}

static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool alive, void *state)
{
	BuildState *bs = (BuildState *) state;
	Size		size;
	IrisIndexItem *item;

	item = make_item(values[0], isnull[0], tid, &size);
	build_add(bs, item, size);
	pfree(item);
	bs->tuples++;
}

static IndexBuildResult *
iris_build(Relation heap, Relation index, IndexInfo *indexInfo)
{
	BuildState	bs;
	Buffer		meta;
	IndexBuildResult *result;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "refuge_iris: index \"%s\" already contains data", RelationGetRelationName(index));
	meta = ReadBuffer(index, P_NEW);
	LockBuffer(meta, BUFFER_LOCK_EXCLUSIVE);
	bs.index = index;
	bs.tuples = 0;
	bs.buf = ReadBuffer(index, P_NEW);
	LockBuffer(bs.buf, BUFFER_LOCK_EXCLUSIVE);
	PageInit(BufferGetPage(bs.buf), BLCKSZ, 0);

	table_index_build_scan(heap, index, indexInfo, true, true, build_callback, &bs, NULL);

	init_meta(BufferGetPage(meta), BufferGetBlockNumber(bs.buf));
	MarkBufferDirty(bs.buf);
	UnlockReleaseBuffer(bs.buf);
	MarkBufferDirty(meta);
	UnlockReleaseBuffer(meta);
	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = bs.tuples;
	result->index_tuples = bs.tuples;
	return result;
}

static void
iris_buildempty(Relation index)
{
	Buffer		meta = ReadBufferExtended(index, INIT_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	Buffer		data;
	GenericXLogState *state;

	LockBuffer(meta, BUFFER_LOCK_EXCLUSIVE);
	data = ReadBufferExtended(index, INIT_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(data, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	init_meta(GenericXLogRegisterBuffer(state, meta, GENERIC_XLOG_FULL_IMAGE), BufferGetBlockNumber(data));
	PageInit(GenericXLogRegisterBuffer(state, data, GENERIC_XLOG_FULL_IMAGE), BLCKSZ, 0);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(data);
	UnlockReleaseBuffer(meta);
}

/* ---- insert ---- */

static bool
iris_insert(Relation index, Datum *values, bool *isnull, ItemPointer tid, Relation heap,
			IndexUniqueCheck checkUnique, bool indexUnchanged, IndexInfo *indexInfo)
{
	Size		size;
	IrisIndexItem *item;
	Buffer		meta;
	Buffer		buf;
	GenericXLogState *state;
	Page		page;
	BlockNumber last;

	item = make_item(values[0], isnull[0], tid, &size);

	/* the metapage lock serialises inserts: they all go to the last page */
	meta = ReadBuffer(index, IRIS_METAPAGE);
	LockBuffer(meta, BUFFER_LOCK_EXCLUSIVE);
	last = meta_of(BufferGetPage(meta))->last_block;
	buf = ReadBuffer(index, last);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	if (PageGetFreeSpace(page) >= MAXALIGN(size))
	{
		if (PageAddItem(page, (Item) item, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			elog(ERROR, "refuge_iris: could not add an item");
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
	}
	else
	{
		Buffer		nbuf;
		Page		npage;
		Page		mpage;

		GenericXLogAbort(state);
		UnlockReleaseBuffer(buf);
		LockRelationForExtension(index, ExclusiveLock);
		nbuf = ReadBuffer(index, P_NEW);
		LockBuffer(nbuf, BUFFER_LOCK_EXCLUSIVE);
		UnlockRelationForExtension(index, ExclusiveLock);
		state = GenericXLogStart(index);
		npage = GenericXLogRegisterBuffer(state, nbuf, GENERIC_XLOG_FULL_IMAGE);
		mpage = GenericXLogRegisterBuffer(state, meta, 0);
		PageInit(npage, BLCKSZ, 0);
		if (PageAddItem(npage, (Item) item, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			elog(ERROR, "refuge_iris: could not add an item");
		meta_of(mpage)->last_block = BufferGetBlockNumber(nbuf);
		GenericXLogFinish(state);
		UnlockReleaseBuffer(nbuf);
	}
	UnlockReleaseBuffer(meta);
	pfree(item);
	return false;
}

/* ---- vacuum ---- */

static IndexBulkDeleteResult *
iris_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
				void *callback_state)
{
	Relation	index = info->index;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	for (BlockNumber blk = 1; blk < nblocks; blk++)
	{
		Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, info->strategy);
		GenericXLogState *state;
		Page		page;
		OffsetNumber dead[MaxOffsetNumber];
		int			ndead = 0;

		vacuum_delay_point();
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
		{
			IrisIndexItem *item = (IrisIndexItem *) PageGetItem(page, PageGetItemId(page, off));

			if (callback(&item->tid, callback_state))
				dead[ndead++] = off;
			else
				stats->num_index_tuples++;
		}
		if (ndead > 0)
		{
			PageIndexMultiDelete(page, dead, ndead);
			stats->tuples_removed += ndead;
			GenericXLogFinish(state);
		}
		else
			GenericXLogAbort(state);
		UnlockReleaseBuffer(buf);
	}
	stats->num_pages = nblocks;
	return stats;
}

static IndexBulkDeleteResult *
iris_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		/* no deletions: count what is there */
		stats = palloc0(sizeof(IndexBulkDeleteResult));
		stats->num_pages = RelationGetNumberOfBlocks(info->index);
		stats->num_index_tuples = info->num_heap_tuples;
		stats->estimated_count = true;
	}
	return stats;
}

/* ---- scan ---- */

typedef struct Hit
{
	float		distance;		/* +inf for a NULL code */
	ItemPointerData tid;
} Hit;

typedef struct IrisScan
{
	bool		done_scan;
	bool		empty;			/* a % key with a NULL probe: nothing matches */
	bool		recheck;		/* % keys the index could not decide (another probe) */
	Hit		   *hits;
	int64		nhits;
	MemoryContext cxt;
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
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	IrisScan   *so = palloc0(sizeof(IrisScan));

	so->cxt = AllocSetContextCreate(CurrentMemoryContext, "refuge_iris scan", ALLOCSET_DEFAULT_SIZES);
	/* the executor reads the distances we hand back; the AM owns these arrays */
	scan->xs_orderbyvals = palloc0(sizeof(Datum) * Max(norderbys, 1));
	scan->xs_orderbynulls = palloc(sizeof(bool) * Max(norderbys, 1));
	memset(scan->xs_orderbynulls, true, sizeof(bool) * Max(norderbys, 1));
	scan->opaque = so;
	return scan;
}

static void
iris_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	IrisScan   *so = (IrisScan *) scan->opaque;

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
	MemoryContextReset(so->cxt);
	so->done_scan = false;
	so->recheck = false;
	so->empty = false;
	for (int i = 0; i < scan->numberOfKeys; i++)
		if (scan->keyData[i].sk_flags & SK_ISNULL)
			so->empty = true;
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
	MemoryContext old = MemoryContextSwitchTo(so->cxt);
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
			so->recheck = true;
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
	if (scan->numberOfKeys > 0 && !so->recheck)
	{
		int64		kept = 0;

		for (int64 i = 0; i < so->nhits; i++)
			if (so->hits[i].distance <= limit)
				so->hits[kept++] = so->hits[i];
		so->nhits = kept;
	}
	for (int64 i = so->nhits / 2 - 1; i >= 0; i--)
		hit_sift_down(so->hits, so->nhits, i);
	so->done_scan = true;
	MemoryContextSwitchTo(old);
}

static bool
iris_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	IrisScan   *so = (IrisScan *) scan->opaque;
	Hit			top;

	if (scan->numberOfOrderBys == 0 && scan->numberOfKeys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a refuge_iris index answers ORDER BY code <-> probe and WHERE code %% probe only")));
	if (!IsMVCCSnapshot(scan->xs_snapshot))
		elog(ERROR, "refuge_iris: non-MVCC snapshots are not supported");
	if (so->empty)
		return false;
	if (!so->done_scan)
		run_scan(scan);
	if (so->nhits == 0)
		return false;
	/* pop the nearest: move the last hit to the root and sift it down */
	top = so->hits[0];
	so->hits[0] = so->hits[--so->nhits];
	hit_sift_down(so->hits, so->nhits, 0);
	scan->xs_heaptid = top.tid;
	scan->xs_recheck = so->recheck;
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

static void
iris_endscan(IndexScanDesc scan)
{
	IrisScan   *so = (IrisScan *) scan->opaque;

	MemoryContextDelete(so->cxt);
	pfree(so);
	scan->opaque = NULL;
}

/* ---- planning ---- */

static void
iris_costestimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *startup, Cost *total,
				  Selectivity *selectivity, double *correlation, double *pages)
{
	GenericCosts costs;

	/* only for ORDER BY <-> or WHERE % (a scan with neither has no use) */
	if (path->indexorderbys == NIL && path->indexclauses == NIL)
	{
		*startup = *total = get_float8_infinity();
		*selectivity = 0;
		*correlation = 0;
		*pages = 0;
		return;
	}
	MemSet(&costs, 0, sizeof(costs));
	genericcostestimate(root, path, loop_count, &costs);

	/*
	 * Whatever the clauses, every page is read and every entry compared
	 * before the first row comes out, at kernel speed (a quarter of an
	 * operator call), so it is all start-up cost.
	 */
	*startup = path->indexinfo->pages * seq_page_cost +
		path->indexinfo->tuples * cpu_operator_cost * 0.25;
	*total = *startup + costs.numIndexTuples * cpu_index_tuple_cost;
	*selectivity = path->indexorderbys != NIL && path->indexclauses == NIL ? 1 : costs.indexSelectivity;
	*correlation = 0;
	*pages = path->indexinfo->pages;
}

static bytea *
iris_options(Datum reloptions, bool validate)
{
	return NULL;
}

static bool
iris_validate_opclass(Oid opclassoid)
{
	return true;
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
	BlockNumber last;
	Buffer		buf;

	InitMaterializedSRF(fcinfo, 0);
	index = relation_open(relid, AccessShareLock);
	if (index->rd_rel->relkind != RELKIND_INDEX || index->rd_indam == NULL ||
		index->rd_indam->amgettuple != iris_gettuple)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("index: \"%s\" is not a refuge_iris index", RelationGetRelationName(index))));
	/* the entries are the table's codes: the caller must be able to read all of them */
	{
		Oid			heapid = IndexGetRelation(relid, false);

		if (pg_class_aclcheck(heapid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(heapid));
		if (check_enable_rls(heapid, InvalidOid, true) == RLS_ENABLED)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("index: reading \"%s\" directly would bypass the row-level security of \"%s\"",
							RelationGetRelationName(index), get_rel_name(heapid))));
	}
	nblocks = RelationGetNumberOfBlocks(index);
	if (nblocks < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("refuge_iris index \"%s\" has %u blocks; a metapage and a data page are the least",
						RelationGetRelationName(index), nblocks)));
	buf = ReadBuffer(index, IRIS_METAPAGE);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	{
		IrisIndexMeta *m = meta_of(BufferGetPage(buf));

		if (m->magic != IRIS_INDEX_MAGIC || m->version != IRIS_INDEX_VERSION)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("refuge_iris index \"%s\": bad metapage (magic %08x, version %u)",
							RelationGetRelationName(index), m->magic, m->version)));
		last = m->last_block;
	}
	UnlockReleaseBuffer(buf);
	if (last < 1 || last >= nblocks)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("refuge_iris index \"%s\": insertion block %u is outside blocks 1-%u",
						RelationGetRelationName(index), last, nblocks - 1)));

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
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 2;
	am->amsupport = 1;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true;
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = false;
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;
	am->ambuild = iris_build;
	am->ambuildempty = iris_buildempty;
	am->aminsert = iris_insert;
	am->ambulkdelete = iris_bulkdelete;
	am->amvacuumcleanup = iris_vacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = iris_costestimate;
	am->amoptions = iris_options;
	am->amproperty = NULL;
	am->ambuildphasename = NULL;
	am->amvalidate = iris_validate_opclass;
	am->amadjustmembers = NULL;
	am->ambeginscan = iris_beginscan;
	am->amrescan = iris_rescan;
	am->amgettuple = iris_gettuple;
	am->amgetbitmap = NULL;
	am->amendscan = iris_endscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;
	PG_RETURN_POINTER(am);
}
