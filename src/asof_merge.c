/*
 * asof_merge.c
 *		The merge strategies of the AsofJoin node.
 *
 * Both inputs arrive ordered by (keys, time).  For each spine row the feature
 * input is advanced while its rows belong to the same keys and are not later
 * than the spine time.  Without other join conditions only the last such row
 * is kept (constant memory); TTL-like conditions are then checked on that row
 * alone.  With other conditions, the rows of the current key group up to the
 * spine time are kept in a tuplestore (which spills past work_mem) and read
 * backwards until a row passes them, or one fails a TTL-like condition (then
 * so do all older ones): a walk is bounded by the TTL window.  The merge over
 * index keeps no group: past the latest row it walks back through the index.
 *
 * The plain merge reads both inputs from child plans that deliver that order.
 * The merge over index sorts the spine itself and reads the feature table's
 * (keys, time) btree index (asof_index.c); the merge over ranges sorts both
 * inputs itself.  Those two cut the first key's range into chunks: in
 * parallel, participants take the chunks in turn, each re-reading the spine
 * and keeping the rows of its chunk.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "asof_exec.h"

/* Fills the sort description of one input from its sort operators. */
static void
AsofFillSort(AsofSort *sort, List *ops, AttrNumber *key_att, AttrNumber ts_att,
			 AsofState *st)
{
	int			j;

	sort->nkeys = list_length(ops);
	sort->att = palloc(sizeof(AttrNumber) * sort->nkeys);
	sort->ops = palloc(sizeof(Oid) * sort->nkeys);
	sort->colls = palloc(sizeof(Oid) * sort->nkeys);
	sort->nullsfirst = palloc0(sizeof(bool) * sort->nkeys);
	for (j = 0; j < sort->nkeys; j++)
	{
		sort->ops[j] = list_nth_oid(ops, j);
		if (j < st->nkeys)
		{
			sort->att[j] = key_att[j];
			sort->colls[j] = st->key_ssup[j].ssup_collation;
		}
		else
		{
			sort->att[j] = ts_att;
			sort->colls[j] = st->ts_coll;
		}
	}
}

/* Sets up the node's own sorts and key-range chunks (merge over index or ranges). */
void
AsofInitSorts(AsofState *st, EState *estate, List *priv)
{
	AsofFillSort(&st->spine_sort, list_nth(priv, ASOF_PRIV_SORTOPS),
				 st->outer_key_att, st->outer_ts_att, st);
	st->sorted_slot = ExecAllocTableSlot(&estate->es_tupleTable,
										 ExecGetResultType(st->outer_ps),
										 &TTSOpsMinimalTuple);
	st->bounds = list_nth(priv, ASOF_PRIV_BOUNDS);
	st->nchunks = list_length(st->bounds) + 1;
	if (st->strategy == ASOF_MERGE_RANGES)
	{
		AsofFillSort(&st->feature_sort, list_nth(priv, ASOF_PRIV_INNER_SORTOPS),
					 st->inner_key_att, st->inner_ts_att, st);
		st->inner_sorted_slot = ExecAllocTableSlot(&estate->es_tupleTable,
												   ExecGetResultType(st->inner_ps),
												   &TTSOpsMinimalTuple);
		AsofPrepareComparator(&st->bound_ssup,
							  linitial_oid(list_nth(priv, ASOF_PRIV_BOUND_PROC)),
							  st->key_ssup[0].ssup_collation, false, false);
	}
}

/* Merge over index: the chunk a spine row belongs to (by its first key). */
static int
AsofChunkOf(AsofState *st, TupleTableSlot *outer)
{
	bool		isnull;
	Datum		d;
	ListCell   *lc;

	if (st->nchunks == 1)
		return 0;
	d = slot_getattr(outer, st->outer_key_att[0], &isnull);
	if (isnull)
		return st->nchunks - 1;
	foreach(lc, st->bounds)
	{
		Const	   *b = lfirst(lc);

		if (ApplySortComparator(d, false, b->constvalue, false, &st->key_ssup[0]) < 0)
			return foreach_current_index(lc);
	}
	return st->nchunks - 1;
}

/* Merge over ranges: the chunk of a feature row (-1: NULL key, never matches). */
static int
AsofFeatureChunkOf(AsofState *st, TupleTableSlot *inner)
{
	bool		isnull;
	Datum		d = slot_getattr(inner, st->inner_key_att[0], &isnull);
	ListCell   *lc;

	if (isnull)
		return -1;
	foreach(lc, st->bounds)
	{
		Const	   *b = lfirst(lc);

		if (ApplySortComparator(d, false, b->constvalue, false, &st->bound_ssup) < 0)
			return foreach_current_index(lc);
	}
	return st->nchunks - 1;
}

/* Forgets the merge's position in the feature input and its key group. */
void
AsofResetMerge(AsofState *st)
{
	st->inner_cur = NULL;
	st->inner_done = false;
	st->match_valid = false;
	st->match_lazy = false;
	st->cur_lazy = false;
	if (st->group)
		AsofClearGroup(st);
}

/*
 * Empties the key group's store and leaves its read position at the end,
 * where rows appended later keep it: a spine row's walk reads the group
 * backwards from there and then forwards back to the end, so each walk costs
 * what it reads, also once the store has spilled to a file (where skipping
 * from the start would cost the whole group per spine row).
 */
void
AsofClearGroup(AsofState *st)
{
	tuplestore_clear(st->group);
	(void) tuplestore_skiptuples(st->group, 1, true);
	st->group_n = 0;
}

/*
 * Sorts the rows of one input that fall in a chunk (chunk_of gives a row's
 * chunk), ending any previous sort; returns the sort, ready to read.
 */
static Tuplesortstate *
AsofSortChunk(AsofState *st, PlanState *input, AsofSort *spec, Tuplesortstate *prev,
			  int (*chunk_of) (AsofState *, TupleTableSlot *), int chunk)
{
	Tuplesortstate *sort;
	TupleTableSlot *slot;

	if (prev)
		tuplesort_end(prev);
	sort = tuplesort_begin_heap(ExecGetResultType(input), spec->nkeys, spec->att, spec->ops,
								spec->colls, spec->nullsfirst, work_mem, NULL, TUPLESORT_NONE);
	for (;;)
	{
		slot = ExecProcNode(input);
		if (TupIsNull(slot))
			break;
		if (chunk_of(st, slot) == chunk)
			tuplesort_puttupleslot(sort, slot);
	}
	tuplesort_performsort(sort);
	return sort;
}

/* Starts a chunk: sorts its spine rows and positions the feature input on it. */
static void
AsofStartChunk(AsofState *st, int chunk)
{
	if (st->chunks_started++ > 0)
		ExecReScan(st->outer_ps);
	if (st->chunks_started > 1 && st->inner_ps)
		ExecReScan(st->inner_ps);
	st->sort = AsofSortChunk(st, st->outer_ps, &st->spine_sort, NULL, AsofChunkOf, chunk);

	if (st->strategy == ASOF_MERGE_RANGES)
	{
		/* the feature rows of this key range; NULL keys never match */
		st->isort = AsofSortChunk(st, st->inner_ps, &st->feature_sort, st->isort,
								  AsofFeatureChunkOf, chunk);
	}
	else
		AsofIndexStartChunk(st, chunk);

	AsofResetMerge(st);
}

/* Returns the next spine row, in (keys, time) order for the merges. */
TupleTableSlot *
AsofNextOuter(AsofState *st)
{
	if (st->strategy != ASOF_MERGE_INDEX && st->strategy != ASOF_MERGE_RANGES)
		return ExecProcNode(st->outer_ps);
	for (;;)
	{
		int			chunk;

		if (st->sort)
		{
			if (tuplesort_gettupleslot(st->sort, true, false, st->sorted_slot, NULL))
				return st->sorted_slot;
			tuplesort_end(st->sort);
			st->sort = NULL;
		}
		if (st->shared)
			chunk = (int) pg_atomic_fetch_add_u32(&st->shared->next_chunk, 1);
		else
			chunk = st->local_next++;
		if (chunk >= st->nchunks)
			return NULL;
		AsofStartChunk(st, chunk);
	}
}

/* Returns the current feature row, fetching one if needed (NULL at end). */
static inline TupleTableSlot *
AsofInnerCurrent(AsofState *st)
{
	if (st->inner_cur == NULL && !st->inner_done)
	{
		TupleTableSlot *slot;

		if (st->strategy == ASOF_MERGE_INDEX)
			slot = AsofIndexNext(st, ForwardScanDirection);
		else if (st->strategy == ASOF_MERGE_RANGES)
			slot = tuplesort_gettupleslot(st->isort, true, false, st->inner_sorted_slot, NULL) ?
				st->inner_sorted_slot : NULL;
		else
			slot = ExecProcNode(st->inner_ps);

		if (TupIsNull(slot))
			st->inner_done = true;
		else
			st->inner_cur = slot;
	}
	return st->inner_cur;
}

/*
 * Merge: advances the feature input up to the spine row, calling keep on
 * every feature row of the spine's keys whose time qualifies.
 */
static inline void
AsofAdvance(AsofState *st, TupleTableSlot *outer, Datum spine_ts, bool grouped)
{
	for (;;)
	{
		TupleTableSlot *in = AsofInnerCurrent(st);
		int			c;
		bool		isnull;
		Datum		fts;

		if (in == NULL)
			return;
		c = AsofCompareKeys(st, outer, in);
		if (c > 0)
		{
			/* feature row of an earlier key: never needed again */
			st->inner_cur = NULL;
			continue;
		}
		if (c < 0)
			return;
		fts = slot_getattr(in, st->inner_ts_att, &isnull);
		if (isnull || !AsofTimeQualifies(st, spine_ts, fts))
			return;
		if (grouped)
		{
			if (st->group_n == 0)
				ExecCopySlot(st->group_first, in);
			tuplestore_puttupleslot(st->group, in);
			st->group_n++;
		}
		else
		{
			ExecCopySlot(st->match_slot, in);
			st->match_valid = true;
			st->match_lazy = st->cur_lazy;
			st->match_tid = st->cur_tid;
		}
		st->inner_cur = NULL;
	}
}

/* Merge: finds the match of one spine row, or NULL. */
TupleTableSlot *
AsofMergeMatch(AsofState *st, TupleTableSlot *outer)
{
	Datum		spine_ts;
	TupleTableSlot *match = NULL;
	int64		walked = 0;

	if (AsofOuterHasNull(st, outer, &spine_ts))
		return NULL;

	if (st->cand_qual == NULL || st->strategy == ASOF_MERGE_INDEX)
	{
		if (st->match_valid && AsofCompareKeys(st, outer, st->match_slot) != 0)
			st->match_valid = false;
		AsofAdvance(st, outer, spine_ts, false);
		if (st->match_valid && st->match_lazy)
			AsofFillLazyMatch(st);
		if (!st->match_valid || st->cand_qual == NULL)
			return st->match_valid ? st->match_slot : NULL;

		/*
		 * Merge over index with other conditions: the latest row is the
		 * first candidate; past it, walk back through the index as a probe
		 * does (no group kept, each walk costs what LATERAL's scan would).
		 */
		switch (AsofCheckCandidate(st, outer, st->match_slot))
		{
			case ASOF_CAND_MATCH:
				return st->match_slot;
			case ASOF_CAND_STOP:
				return NULL;
			case ASOF_CAND_SKIP:
				break;
		}
		return AsofProbeMatch(st, outer);
	}

	/* other conditions: search the group's rows backwards from its end */
	if (st->group_n > 0 && AsofCompareKeys(st, outer, st->group_first) != 0)
		AsofClearGroup(st);
	AsofAdvance(st, outer, spine_ts, true);
	if (st->group_n == 0)
		return NULL;
	while (tuplestore_gettupleslot(st->group, false, false, st->cand_slot))
	{
		AsofCandidate c = AsofCheckCandidate(st, outer, st->cand_slot);

		walked++;
		if (c == ASOF_CAND_MATCH)
			match = st->cand_slot;
		if (c != ASOF_CAND_SKIP)
			break;
	}
	/* back to the end: reads as many rows as the walk did (one more at the start) */
	(void) tuplestore_skiptuples(st->group, walked + 1, true);
	return match;
}
