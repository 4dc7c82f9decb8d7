/*
 * item_pages.h
 *		The storage shared by refuge's scan-everything index methods
 *		(refuge_iris, refuge_fingerprint): block 0 is a metapage, every other
 *		block holds items that start with the heap TID.  Items are appended
 *		(inserts go to the last page under the metapage lock), removed by
 *		VACUUM, and logged with generic WAL; a build writes pages directly
 *		and logs them at the end.
 */
#ifndef REFUGE_ITEM_PAGES_H
#define REFUGE_ITEM_PAGES_H

#include "access/amapi.h"
#include "access/genam.h"
#include "nodes/pathnodes.h"
#include "storage/bufpage.h"
#include "utils/relcache.h"

#define ITEM_PAGES_METAPAGE 0

/* build phases shown in pg_stat_progress_create_index */
#define ITEM_PAGES_PHASE_LOAD	2
#define ITEM_PAGES_PHASE_LOG	3

typedef struct ItemPagesMeta
{
	uint32		magic;
	uint32		version;
	BlockNumber last_block;		/* where inserts go */
} ItemPagesMeta;

typedef struct ItemPagesBuild
{
	Relation	index;
	const char *am;				/* for messages */
	Buffer		meta;
	Buffer		buf;			/* the page being filled */
	double		tuples;
} ItemPagesBuild;

extern void item_pages_build_begin(ItemPagesBuild *b, Relation index, const char *am);
extern void item_pages_build_add(ItemPagesBuild *b, const void *item, Size size);
extern IndexBuildResult *item_pages_build_end(ItemPagesBuild *b, uint32 magic, uint32 version);
extern void item_pages_buildempty(Relation index, uint32 magic, uint32 version);
extern void item_pages_insert(Relation index, const void *item, Size size, const char *am);
extern IndexBulkDeleteResult *item_pages_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
													IndexBulkDeleteCallback callback, void *callback_state);
extern IndexBulkDeleteResult *item_pages_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);
extern char *item_pages_phasename(int64 phasenum);
extern void item_pages_costestimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *startup,
									Cost *total, Selectivity *selectivity, double *correlation, double *pages,
									double per_item_ops);

/*
 * Scans: each method's scan state begins with ItemPagesScan.  Both methods
 * score every entry on the first amgettuple call, then hand rows out.
 */
typedef struct ItemPagesScan
{
	bool		done_scan;
	bool		empty;			/* a % key with a NULL probe: nothing matches */
	bool		recheck;		/* % keys the index could not decide (another probe) */
	MemoryContext cxt;			/* reset on rescan */
} ItemPagesScan;

extern IndexScanDesc item_pages_beginscan(Relation index, int nkeys, int norderbys, Size state_size);
extern void item_pages_rescan(IndexScanDesc scan, ScanKey keys, ScanKey orderbys);
extern void item_pages_endscan(IndexScanDesc scan);
extern void item_pages_check_scan(IndexScanDesc scan, const char *am, const char *col);

/* An index method routine with what both methods share filled in. */
extern IndexAmRoutine *item_pages_routine(void);

extern BlockNumber item_pages_check_meta(Relation index, uint32 magic, uint32 version, const char *am);

/*
 * For the entry-listing (verify) functions: open the index, check that it
 * belongs to this method and that the caller may read every row of its
 * table, check the metapage; returns the number of blocks.
 */
extern Relation item_pages_open_checked(Oid relid, amgettuple_function gettuple, const char *am,
										uint32 magic, uint32 version, BlockNumber *nblocks);

/*
 * The entry-listing (verify) functions' body: every live entry as (heap_tid,
 * value), with the TID checked here and the rest of the entry by `entry`,
 * which reports damage as index_corrupted and returns the value (or sets
 * *isnull).  Values may be palloc'd: they are freed after each row.
 */
typedef Datum (*ItemPagesEntryFn) (Relation index, BlockNumber blk, OffsetNumber off, const void *item, Size len,
								   bool *isnull);

extern Datum item_pages_list(FunctionCallInfo fcinfo, amgettuple_function gettuple, const char *am,
							 uint32 magic, uint32 version, ItemPagesEntryFn entry);

#endif							/* REFUGE_ITEM_PAGES_H */
