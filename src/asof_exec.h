/*
 * asof_exec.h
 *		Declarations shared by the files of the AsofJoin executor node.  The
 *		interface to the rest of the extension is asof.h.
 *
 * The executor, file by file:
 *	 asof_exec.c	the node's callbacks: set-up from the plan, the row loop,
 *					end, rescan, parallel set-up, EXPLAIN
 *	 asof_merge.c	the merge strategies: advancing the feature input along
 *					the spine; the node's own sorts and key-range chunks
 *	 asof_index.c	the feature index read by the node itself: index probes,
 *					and the index scan of the merge over index
 */
#ifndef ASOF_EXEC_H
#define ASOF_EXEC_H

#include "asof.h"

#include "access/genam.h"
#include "access/visibilitymap.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "port/atomics.h"
#include "utils/sortsupport.h"
#include "utils/tuplesort.h"
#include "utils/tuplestore.h"

/* How the node sorts one of its inputs itself. */
typedef struct AsofSort
{
	int			nkeys;
	AttrNumber *att;
	Oid		   *ops;
	Oid		   *colls;
	bool	   *nullsfirst;
} AsofSort;

/* Execution state of an AsofJoin. */
typedef struct AsofState
{
	CustomScanState css;
	AsofStrategy strategy;
	JoinType	jointype;
	bool		strict;
	int			nkeys;
	int			outer_natts;
	int			inner_natts;
	AttrNumber *outer_key_att;
	AttrNumber *inner_key_att;	/* probe: index column of the key */
	SortSupportData *key_ssup;	/* compares outer key with inner key */
	AttrNumber	outer_ts_att;
	AttrNumber	inner_ts_att;
	SortSupportData ts_ssup;
	Oid			ts_coll;
	ExprState  *cand_qual;		/* other ON conditions, per candidate */
	ExprState  *base_qual;		/* the feature table's own filters, when
								 * the node reads its index itself */
	ExprState  *mono_qual;		/* TTL-like conditions: hold for a time
								 * suffix of the candidates */
	int64		walked;			/* candidates read back (EXPLAIN ANALYZE) */
	int64		heap_fetches;	/* feature rows read from the heap (EXPLAIN
								 * ANALYZE; index-only reads are not) */
	TupleTableSlot *scanslot;
	PlanState  *outer_ps;
	PlanState  *inner_ps;		/* merge, merge over ranges: the features */

	/* merges (asof_merge.c) */
	TupleTableSlot *inner_cur;	/* current feature row, not yet consumed */
	bool		inner_done;
	TupleTableSlot *match_slot; /* latest qualifying row (no other quals) */
	bool		match_valid;
	Tuplestorestate *group;		/* rows of the key group (other quals) */
	int64		group_n;
	TupleTableSlot *group_first;	/* first row of that group */
	TupleTableSlot *cand_slot;

	/* merges over index or ranges: own sorts, key-range chunks */
	Tuplesortstate *sort;		/* the spine rows of the current chunk */
	TupleTableSlot *sorted_slot;
	AsofSort	spine_sort;
	Tuplesortstate *isort;		/* over ranges: the chunk's feature rows */
	TupleTableSlot *inner_sorted_slot;
	AsofSort	feature_sort;
	SortSupportData bound_ssup;	/* feature key vs chunk bound */
	List	   *bounds;			/* Const per chunk boundary */
	int			nchunks;
	int			local_next;
	int			chunks_started;
	struct AsofShared *shared;

	/* probe, merge over index: the feature index read here (asof_index.c) */
	Oid			heap_oid;
	Oid			index_oid;
	Relation	heap;
	Relation	index;
	IndexScanDesc scan;
	ScanKeyData *scankeys;		/* probe: keys, time, time lower bounds */
	int			nlower;			/* probe: time lower bounds (TTL windows) */
	List	   *lower_exprs;	/* ExprState * per lower bound */
	Oid		   *lower_procs;
	int		   *lower_strats;
	bool		mono_in_index;	/* every TTL-like condition is one of them */
	MemoryContext probe_cxt;	/* the bounds of the current probe */
	Oid		   *eqprocs;		/* probe: per key */
	Oid			ts_leproc;		/* probe: time scan key */
	AttrNumber *probe_cols;		/* heap column per feature column */
	int			probe_maxatt;
	TupleTableSlot *heapslot;
	TupleDesc	inner_desc;		/* the feature columns of the scan tuple */
	TupleTableSlot *idx_slot;
	IndexScanDesc walk_scan;	/* backward walks: the probe's scan, or the
								 * merge over index's second scan */
	TupleTableSlot *walk_slot;
	TupleTableSlot *walk_heapslot;
	bool		index_only;		/* every feature column is in the index */
	bool		lazy;			/* merge over index: the walk reads the index
								 * only (all-visible pages), the heap only for
								 * the rows a spine row matches */
	ItemPointerData cur_tid;	/* lazy: inner_cur's heap row, when only its
								 * index columns were read (cur_lazy) */
	bool		cur_lazy;
	ItemPointerData match_tid;	/* lazy: match_slot's heap row, when only its
								 * index columns were read (match_lazy) */
	bool		match_lazy;
	TupleTableSlot *lazy_heapslot;	/* lazy: the heap row of the match */
	int		   *idx_map;		/* feature column -> index column (0-based) */
	Datum	   *ivalues;
	bool	   *inulls;
	Buffer	   *vmbufs;			/* merge: every visibility map page, pinned */
	int			nvmbufs;
	Buffer		vmspare;
	ScanKeyData rangekeys[2];	/* merge: the chunk's first-key range */
	Oid			range_ge;
	Oid			range_lt;
	Oid			range_coll;
} AsofState;

/* Shared state of a parallel AsofJoin: the next key-range chunk to take. */
typedef struct AsofShared
{
	pg_atomic_uint32 next_chunk;
} AsofShared;

/* Heap blocks covered by one visibility map page (as visibilitymap.c). */
#define ASOF_HEAPBLOCKS_PER_VMPAGE \
	((BLCKSZ - MAXALIGN(SizeOfPageHeaderData)) * (BITS_PER_BYTE / BITS_PER_HEAPBLOCK))

/* Compares the keys of a spine row with those of a feature-layout row. */
static inline int
AsofCompareKeys(AsofState *st, TupleTableSlot *outer, TupleTableSlot *inner)
{
	int			i;

	for (i = 0; i < st->nkeys; i++)
	{
		bool		n1,
					n2;
		Datum		d1 = slot_getattr(outer, st->outer_key_att[i], &n1);
		Datum		d2 = slot_getattr(inner, st->inner_key_att[i], &n2);
		int			c = ApplySortComparator(d1, n1, d2, n2, &st->key_ssup[i]);

		if (c != 0)
			return c;
	}
	return 0;
}

/* Tells whether a spine row has a NULL key or time (it never matches). */
static inline bool
AsofOuterHasNull(AsofState *st, TupleTableSlot *outer, Datum *ts)
{
	bool		isnull;
	int			i;

	for (i = 0; i < st->nkeys; i++)
	{
		(void) slot_getattr(outer, st->outer_key_att[i], &isnull);
		if (isnull)
			return true;
	}
	*ts = slot_getattr(outer, st->outer_ts_att, &isnull);
	return isnull;
}

/* Tells whether a feature time qualifies for a spine time. */
static inline bool
AsofTimeQualifies(AsofState *st, Datum spine_ts, Datum feat_ts)
{
	int			c = ApplySortComparator(spine_ts, false, feat_ts, false, &st->ts_ssup);

	return st->strict ? c > 0 : c >= 0;
}

/* Builds the scan tuple from a spine row and a feature row (or NULLs). */
static inline void
AsofFillScanSlot(AsofState *st, TupleTableSlot *outer, TupleTableSlot *inner)
{
	TupleTableSlot *ss = st->scanslot;

	ExecClearTuple(ss);
	slot_getsomeattrs(outer, st->outer_natts);
	memcpy(ss->tts_values, outer->tts_values, sizeof(Datum) * st->outer_natts);
	memcpy(ss->tts_isnull, outer->tts_isnull, sizeof(bool) * st->outer_natts);
	if (inner == NULL)
		memset(ss->tts_isnull + st->outer_natts, true, sizeof(bool) * st->inner_natts);
	else
	{
		slot_getsomeattrs(inner, st->inner_natts);
		memcpy(ss->tts_values + st->outer_natts, inner->tts_values,
			   sizeof(Datum) * st->inner_natts);
		memcpy(ss->tts_isnull + st->outer_natts, inner->tts_isnull,
			   sizeof(bool) * st->inner_natts);
	}
	ExecStoreVirtualTuple(ss);
}

/* What the backward walk over a spine row's candidates learns from one of them. */
typedef enum AsofCandidate
{
	ASOF_CAND_MATCH,			/* passes every condition: the match */
	ASOF_CAND_SKIP,				/* fails another condition: read on */
	ASOF_CAND_STOP				/* fails a TTL-like condition: so does every
								 * older candidate, there is no match */
} AsofCandidate;

/* asof_exec.c */
extern AsofCandidate AsofCheckCandidate(AsofState *st, TupleTableSlot *outer,
										TupleTableSlot *cand);
extern void AsofPrepareComparator(SortSupport ssup, Oid cmpproc, Oid collation,
								  bool nulls_first, bool reverse);
extern void AsofBeginGroup(AsofState *st, EState *estate, TupleDesc desc, bool grouped);

/* asof_merge.c */
extern void AsofInitSorts(AsofState *st, EState *estate, List *priv);
extern void AsofResetMerge(AsofState *st);
extern void AsofClearGroup(AsofState *st);
extern TupleTableSlot *AsofNextOuter(AsofState *st);
extern TupleTableSlot *AsofMergeMatch(AsofState *st, TupleTableSlot *outer);

/* asof_index.c */
extern void AsofBeginIndex(AsofState *st, EState *estate, List *priv);
extern void AsofIndexStartChunk(AsofState *st, int chunk);
extern TupleTableSlot *AsofIndexNext(AsofState *st, ScanDirection dir);
extern void AsofFillLazyMatch(AsofState *st);
extern TupleTableSlot *AsofProbeMatch(AsofState *st, TupleTableSlot *outer);
extern void AsofEndIndex(AsofState *st);

#endif							/* ASOF_EXEC_H */
