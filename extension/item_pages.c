/*
 * item_pages.c
 *		Metapage, append, build, VACUUM and planning shared by refuge's
 *		scan-everything index methods (see item_pages.h).
 */
#include "postgres.h"

#include "access/amvalidate.h"
#include "access/generic_xlog.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/relscan.h"
#include "catalog/index.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "nodes/makefuncs.h"
#include "catalog/pg_am.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "funcapi.h"
#include "utils/tuplestore.h"
#include "utils/selfuncs.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "item_pages.h"

static ItemPagesMeta *
meta_of(Page page)
{
	return (ItemPagesMeta *) PageGetContents(page);
}

static void
init_meta(Page page, uint32 magic, uint32 version, BlockNumber last)
{
	ItemPagesMeta *m;

	PageInit(page, BLCKSZ, 0);
	m = meta_of(page);
	m->magic = magic;
	m->version = version;
	m->last_block = last;
	((PageHeader) page)->pd_lower = ((char *) m + sizeof(ItemPagesMeta)) - (char *) page;
}

/* ---- build ---- */

void
item_pages_build_begin(ItemPagesBuild *b, Relation index, const char *am)
{
	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "%s: index \"%s\" already contains data", am, RelationGetRelationName(index));
	b->index = index;
	b->am = am;
	b->tuples = 0;
	b->meta = ReadBuffer(index, P_NEW);
	LockBuffer(b->meta, BUFFER_LOCK_EXCLUSIVE);
	b->buf = ReadBuffer(index, P_NEW);
	LockBuffer(b->buf, BUFFER_LOCK_EXCLUSIVE);
	PageInit(BufferGetPage(b->buf), BLCKSZ, 0);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, ITEM_PAGES_PHASE_LOAD);
}

void
item_pages_build_add(ItemPagesBuild *b, const void *item, Size size)
{
	Page		page = BufferGetPage(b->buf);

	if (PageGetFreeSpace(page) < MAXALIGN(size))
	{
		MarkBufferDirty(b->buf);
		UnlockReleaseBuffer(b->buf);
		b->buf = ReadBuffer(b->index, P_NEW);
		LockBuffer(b->buf, BUFFER_LOCK_EXCLUSIVE);
		PageInit(BufferGetPage(b->buf), BLCKSZ, 0);
		page = BufferGetPage(b->buf);
	}
	if (PageAddItem(page, (Item) item, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
		elog(ERROR, "%s: could not add an item of %zu bytes to a page", b->am, size);
	b->tuples++;
	/* the counter pg_stat_progress_create_index shows as tuples_done */
	if ((int64) b->tuples % 1024 == 0)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) b->tuples);
}

IndexBuildResult *
item_pages_build_end(ItemPagesBuild *b, uint32 magic, uint32 version)
{
	IndexBuildResult *result;

	init_meta(BufferGetPage(b->meta), magic, version, BufferGetBlockNumber(b->buf));
	MarkBufferDirty(b->buf);
	UnlockReleaseBuffer(b->buf);
	MarkBufferDirty(b->meta);
	UnlockReleaseBuffer(b->meta);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) b->tuples);
	if (RelationNeedsWAL(b->index))
	{
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, ITEM_PAGES_PHASE_LOG);
		log_newpage_range(b->index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(b->index), true);
	}
	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = b->tuples;
	result->index_tuples = b->tuples;
	return result;
}

char *
item_pages_phasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case ITEM_PAGES_PHASE_LOAD:
			return "scanning table and writing items";
		case ITEM_PAGES_PHASE_LOG:
			return "WAL-logging index pages";
		default:
			return NULL;
	}
}

void
item_pages_buildempty(Relation index, uint32 magic, uint32 version)
{
	Buffer		meta = ReadBufferExtended(index, INIT_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	Buffer		data;
	GenericXLogState *state;

	LockBuffer(meta, BUFFER_LOCK_EXCLUSIVE);
	data = ReadBufferExtended(index, INIT_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(data, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	init_meta(GenericXLogRegisterBuffer(state, meta, GENERIC_XLOG_FULL_IMAGE), magic, version,
			  BufferGetBlockNumber(data));
	PageInit(GenericXLogRegisterBuffer(state, data, GENERIC_XLOG_FULL_IMAGE), BLCKSZ, 0);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(data);
	UnlockReleaseBuffer(meta);
}

/* ---- insert ---- */

void
item_pages_insert(Relation index, const void *item, Size size, const char *am)
{
	Buffer		meta;
	Buffer		buf;
	GenericXLogState *state;
	Page		page;
	BlockNumber last;

	/* the metapage lock serialises inserts: they all go to the last page */
	meta = ReadBuffer(index, ITEM_PAGES_METAPAGE);
	LockBuffer(meta, BUFFER_LOCK_EXCLUSIVE);
	last = meta_of(BufferGetPage(meta))->last_block;
	buf = ReadBuffer(index, last);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	if (PageGetFreeSpace(page) >= MAXALIGN(size))
	{
		if (PageAddItem(page, (Item) item, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			elog(ERROR, "%s: could not add an item", am);
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
			elog(ERROR, "%s: could not add an item", am);
		meta_of(mpage)->last_block = BufferGetBlockNumber(nbuf);
		GenericXLogFinish(state);
		UnlockReleaseBuffer(nbuf);
	}
	UnlockReleaseBuffer(meta);
}

/* ---- vacuum ---- */

IndexBulkDeleteResult *
item_pages_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
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
			ItemPointer tid = (ItemPointer) PageGetItem(page, PageGetItemId(page, off));

			if (callback(tid, callback_state))
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

IndexBulkDeleteResult *
item_pages_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
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

/* ---- planning ---- */

/*
 * Whatever the clauses, every page is read and every entry scored before the
 * first row comes out, so it is all start-up cost; per_item_ops is the cost
 * of scoring one entry in operator calls.
 */
void
item_pages_costestimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *startup, Cost *total,
						Selectivity *selectivity, double *correlation, double *pages, double per_item_ops)
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
	*startup = path->indexinfo->pages * seq_page_cost +
		path->indexinfo->tuples * cpu_operator_cost * per_item_ops;
	*total = *startup + costs.numIndexTuples * cpu_index_tuple_cost;
	*selectivity = path->indexorderbys != NIL && path->indexclauses == NIL ? 1 : costs.indexSelectivity;
	*correlation = 0;
	*pages = path->indexinfo->pages;
}

/* ---- scans ---- */

IndexScanDesc
item_pages_beginscan(Relation index, int nkeys, int norderbys, Size state_size)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	ItemPagesScan *so = palloc0(state_size);

	so->cxt = AllocSetContextCreate(CurrentMemoryContext, "refuge index scan", ALLOCSET_DEFAULT_SIZES);
	/* the executor reads the distances we hand back; the AM owns these arrays */
	scan->xs_orderbyvals = palloc0(sizeof(Datum) * Max(norderbys, 1));
	scan->xs_orderbynulls = palloc(sizeof(bool) * Max(norderbys, 1));
	memset(scan->xs_orderbynulls, true, sizeof(bool) * Max(norderbys, 1));
	scan->opaque = so;
	return scan;
}

void
item_pages_rescan(IndexScanDesc scan, ScanKey keys, ScanKey orderbys)
{
	ItemPagesScan *so = (ItemPagesScan *) scan->opaque;

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
}

void
item_pages_endscan(IndexScanDesc scan)
{
	ItemPagesScan *so = (ItemPagesScan *) scan->opaque;

	MemoryContextDelete(so->cxt);
	pfree(so);
	scan->opaque = NULL;
}

/* What amgettuple checks before its first row. */
void
item_pages_check_scan(IndexScanDesc scan, const char *am, const char *col)
{
	if (scan->numberOfOrderBys == 0 && scan->numberOfKeys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a %s index answers ORDER BY %s <-> probe and WHERE %s %% probe only", am, col, col)));
	if (!IsMVCCSnapshot(scan->xs_snapshot))
		elog(ERROR, "%s: non-MVCC snapshots are not supported", am);
}

static bytea *
no_options(Datum reloptions, bool validate)
{
	return NULL;
}

/*
 * amvalidate, in the manner of contrib/bloom's blvalidate: an operator
 * class of these methods has operator 1, the distance <-> (an ordering
 * operator returning float8, sorted by float_ops), operator 2, the match %
 * (a search operator returning boolean), and support function 1, the
 * distance as a function of two values of the indexed type, which is the
 * method's own (the pages hold that type's bytes).  Problems are reported as
 * INFO and amvalidate() returns false: CREATE OPERATOR CLASS itself checks
 * nothing (superuser only), the SQL function amvalidate() does.
 */
static bool
item_pages_validate(Oid opclassoid)
{
	bool		result = true;
	HeapTuple	classtup;
	Form_pg_opclass classform;
	Oid			opfamilyoid;
	Oid			opcintype;
	char	   *opclassname;
	HeapTuple	familytup;
	char	   *opfamilyname;
	CatCList   *proclist;
	CatCList   *oprlist;
	bool		have_distance = false;
	bool		have_match = false;
	bool		have_support = false;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	opfamilyoid = classform->opcfamily;
	opcintype = classform->opcintype;
	opclassname = NameStr(classform->opcname);

	familytup = SearchSysCache1(OPFAMILYOID, ObjectIdGetDatum(opfamilyoid));
	if (!HeapTupleIsValid(familytup))
		elog(ERROR, "cache lookup failed for operator family %u", opfamilyoid);
	opfamilyname = NameStr(((Form_pg_opfamily) GETSTRUCT(familytup))->opfname);

	{
		const char *amname = get_am_name(classform->opcmethod);
		const char *want = strcmp(amname, "refuge_iris") == 0 ? "iris" :
			strcmp(amname, "refuge_fingerprint") == 0 ? "fingerprint" : NULL;
		HeapTuple	typtup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(opcintype));
		bool		same = false;

		if (HeapTupleIsValid(typtup))
		{
			Form_pg_type typform = (Form_pg_type) GETSTRUCT(typtup);
			char	   *nspname = get_namespace_name(typform->typnamespace);

			same = want != NULL && nspname != NULL && strcmp(nspname, "refuge") == 0 &&
				strcmp(NameStr(typform->typname), want) == 0;
			ReleaseSysCache(typtup);
		}
		if (!same)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("operator class \"%s\" of access method %s indexes type %s",
							opclassname, amname, format_type_be(opcintype)),
					 errdetail("Access method %s indexes refuge.%s only.", amname, want ? want : "?")));
			result = false;
		}
	}

	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opfamilyoid));
	for (int i = 0; i < proclist->n_members; i++)
	{
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple);

		if (procform->amprocnum != 1 || procform->amproclefttype != opcintype ||
			procform->amprocrighttype != opcintype ||
			!check_amproc_signature(procform->amproc, FLOAT8OID, true, 2, 2, opcintype, opcintype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("operator family \"%s\" of access method %s contains function %s with invalid support number %d or signature",
							opfamilyname, get_am_name(classform->opcmethod),
							format_procedure(procform->amproc), procform->amprocnum),
					 errdetail("Support function 1 is the distance: float8 f(%s, %s).",
							   format_type_be(opcintype), format_type_be(opcintype))));
			result = false;
			continue;
		}
		have_support = true;
	}

	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamilyoid));
	for (int i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);
		bool		ok;

		if (oprform->amoplefttype != opcintype || oprform->amoprighttype != opcintype)
			ok = false;
		else if (oprform->amopstrategy == 1)
			ok = oprform->amoppurpose == AMOP_ORDER &&
				oprform->amopsortfamily == get_opfamily_oid(BTREE_AM_OID, list_make1(makeString("float_ops")), true) &&
				check_amop_signature(oprform->amopopr, FLOAT8OID, opcintype, opcintype);
		else if (oprform->amopstrategy == 2)
			ok = oprform->amoppurpose == AMOP_SEARCH &&
				check_amop_signature(oprform->amopopr, BOOLOID, opcintype, opcintype);
		else
			ok = false;
		if (!ok)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("operator family \"%s\" of access method %s contains operator %s with invalid strategy number %d, purpose or signature",
							opfamilyname, get_am_name(classform->opcmethod),
							format_operator(oprform->amopopr), oprform->amopstrategy),
					 errdetail("Strategy 1 is the distance <-> for ORDER BY (float8, sorted by float_ops); strategy 2 is the match %% (boolean).")));
			result = false;
			continue;
		}
		have_distance |= oprform->amopstrategy == 1;
		have_match |= oprform->amopstrategy == 2;
	}

	if (!have_distance || !have_match || !have_support)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("operator class \"%s\" of access method %s is missing %s",
						opclassname, get_am_name(classform->opcmethod),
						!have_distance ? "operator 1 (<->)" : !have_match ? "operator 2 (%)" : "support function 1")));
		result = false;
	}

	ReleaseCatCacheList(proclist);
	ReleaseCatCacheList(oprlist);
	ReleaseSysCache(familytup);
	ReleaseSysCache(classtup);
	return result;
}

IndexAmRoutine *
item_pages_routine(void)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 2;		/* 1: <-> for ORDER BY, 2: % */
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
	am->ambulkdelete = item_pages_bulkdelete;
	am->amvacuumcleanup = item_pages_vacuumcleanup;
	am->amcanreturn = NULL;
	am->amoptions = no_options;
	am->amproperty = NULL;
	am->ambuildphasename = item_pages_phasename;
	am->amvalidate = item_pages_validate;
	am->amadjustmembers = NULL;
	am->amgetbitmap = NULL;
	am->amendscan = item_pages_endscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;
	return am;
}

/* ---- verification ---- */

/*
 * The metapage must be this method's and of the layout this library
 * writes; scans call this too, so an index from another key or layout
 * version is refused (REINDEX it) rather than searched wrongly.  Returns the
 * insertion block.
 */
BlockNumber
item_pages_check_meta(Relation index, uint32 magic, uint32 version, const char *am)
{
	Buffer		buf = ReadBuffer(index, ITEM_PAGES_METAPAGE);
	ItemPagesMeta *m;
	BlockNumber last;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	m = meta_of(BufferGetPage(buf));
	if (m->magic != magic || m->version != version)
	{
		uint32		got_magic = m->magic, got_version = m->version;

		UnlockReleaseBuffer(buf);
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("%s index \"%s\" has a metapage this library does not read", am, RelationGetRelationName(index)),
				 errdetail("Block 0 has magic %08x version %u; this library writes %08x version %u.",
						   got_magic, got_version, magic, version),
				 errhint("REINDEX the index.")));
	}
	last = m->last_block;
	UnlockReleaseBuffer(buf);
	return last;
}

Relation
item_pages_open_checked(Oid relid, amgettuple_function gettuple, const char *am, uint32 magic, uint32 version,
						BlockNumber *nblocks)
{
	Relation	index = relation_open(relid, AccessShareLock);
	Oid			heapid;
	BlockNumber last;

	if (index->rd_rel->relkind != RELKIND_INDEX || index->rd_indam == NULL ||
		index->rd_indam->amgettuple != gettuple)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("index: \"%s\" is not a %s index", RelationGetRelationName(index), am)));
	/* the entries are the table's values: the caller must be able to read all of them */
	heapid = IndexGetRelation(relid, false);
	if (pg_class_aclcheck(heapid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(heapid));
	if (check_enable_rls(heapid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("index: reading \"%s\" directly would bypass the row-level security of \"%s\"",
						RelationGetRelationName(index), get_rel_name(heapid))));
	*nblocks = RelationGetNumberOfBlocks(index);
	if (*nblocks < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("%s index \"%s\" is too short", am, RelationGetRelationName(index)),
				 errdetail("It has %u blocks; a metapage and a data page are the least.", *nblocks),
				 errhint("REINDEX the index.")));
	last = item_pages_check_meta(index, magic, version, am);
	if (last < 1 || last >= *nblocks)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("%s index \"%s\" has a metapage pointing outside the index", am, RelationGetRelationName(index)),
				 errdetail("The insertion block is %u; the data blocks are 1-%u.", last, *nblocks - 1),
				 errhint("REINDEX the index.")));
	return index;
}

Datum
item_pages_list(FunctionCallInfo fcinfo, amgettuple_function gettuple, const char *am, uint32 magic,
				uint32 version, ItemPagesEntryFn entry)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	index;
	BlockNumber nblocks;
	MemoryContext per_entry;
	MemoryContext old;

	InitMaterializedSRF(fcinfo, 0);
	index = item_pages_open_checked(PG_GETARG_OID(0), gettuple, am, magic, version, &nblocks);
	per_entry = AllocSetContextCreate(CurrentMemoryContext, "refuge index entry", ALLOCSET_SMALL_SIZES);
	for (BlockNumber blk = 1; blk < nblocks; blk++)
	{
		Buffer		buf;
		Page		page;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(index, blk);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
		{
			ItemId		iid = PageGetItemId(page, off);
			ItemPointer tid;
			Size		len;
			Datum		values[2];
			bool		nulls[2] = {false, false};

			if (!ItemIdIsUsed(iid) || ItemIdIsDead(iid))
				continue;
			tid = (ItemPointer) PageGetItem(page, iid);
			len = ItemIdGetLength(iid);
			if (len < sizeof(ItemPointerData) || !ItemPointerIsValid(tid))
				ereport(ERROR,
						(errcode(ERRCODE_INDEX_CORRUPTED),
						 errmsg("%s index \"%s\" contains an item with an invalid heap TID",
								am, RelationGetRelationName(index)),
						 errdetail("Item (%u,%u).", blk, off),
						 errhint("REINDEX the index.")));
			old = MemoryContextSwitchTo(per_entry);
			values[0] = PointerGetDatum(tid);
			values[1] = entry(index, blk, off, tid, len, &nulls[1]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			MemoryContextSwitchTo(old);
			MemoryContextReset(per_entry);
		}
		UnlockReleaseBuffer(buf);
	}
	MemoryContextDelete(per_entry);
	relation_close(index, AccessShareLock);
	return (Datum) 0;
}
