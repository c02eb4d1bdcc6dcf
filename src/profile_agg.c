/*
 * profile_agg.c
 *		The aggregates fs.profile(float8 / numeric / text) and
 *		fs.profile_merge(fs.profile), whose transition state is an fs.profile
 *		held as an expanded object.
 *
 * The state type is the concrete type fs.profile rather than internal, so
 * that any engine can ship a partial state between processes or nodes as an
 * ordinary value: PostgreSQL's parallel aggregation flattens it into the
 * tuples a worker sends, Citus prints it with the type's output function on
 * each worker (worker_partial_agg) and reads it back on the coordinator
 * (coord_combine_agg).  Between rows the state stays expanded: a
 * ProfileState in a memory context of its own, a child of the aggregate
 * context, which the executor keeps as it is (no copy per row) because the
 * transition function hands back the same read-write pointer.  Its flat form
 * is the canonical encoding of the profile, built on demand and cached until
 * the next change, so a partial state and the profile of the same rows are
 * the same bytes.
 *
 * The functions of releases up to 0.3, whose state was internal, stay in
 * profile_sql.c for installations not yet updated.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/expandeddatum.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "profile_internal.h"

PG_FUNCTION_INFO_V1(profile_float8_trans);
PG_FUNCTION_INFO_V1(profile_numeric_trans);
PG_FUNCTION_INFO_V1(profile_text_trans);
PG_FUNCTION_INFO_V1(profile_merge_trans);
PG_FUNCTION_INFO_V1(profile_combine_states);
PG_FUNCTION_INFO_V1(profile_state_final_numeric);
PG_FUNCTION_INFO_V1(profile_state_final_text);
PG_FUNCTION_INFO_V1(profile_state_final_merge);

/* An fs.profile being aggregated. */
typedef struct ProfileExpanded
{
	ExpandedObjectHeader hdr;
	ProfileState *state;		/* in hdr.eoh_context */
	bytea	   *flat;			/* its encoding, or NULL since the last change */
} ProfileExpanded;

static Size ProfileExpandedFlatSize(ExpandedObjectHeader *eohptr);
static void ProfileExpandedFlatten(ExpandedObjectHeader *eohptr, void *result,
								   Size allocated_size);

static const ExpandedObjectMethods ProfileExpandedMethods = {
	ProfileExpandedFlatSize,
	ProfileExpandedFlatten
};

/* Size of the flat form: the encoding, built once per change. */
static Size
ProfileExpandedFlatSize(ExpandedObjectHeader *eohptr)
{
	ProfileExpanded *e = (ProfileExpanded *) eohptr;

	if (e->flat == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(e->hdr.eoh_context);

		e->flat = ProfileEncode(e->state);
		MemoryContextSwitchTo(old);
	}
	return VARSIZE(e->flat);
}

/* Writes the flat form (ProfileExpandedFlatSize built it). */
static void
ProfileExpandedFlatten(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	ProfileExpanded *e = (ProfileExpanded *) eohptr;

	Assert(e->flat != NULL && VARSIZE(e->flat) == allocated_size);
	memcpy(result, e->flat, allocated_size);
}

/*
 * A new expanded profile in a context of its own under parent: the profile
 * flat points to (validated), or an empty one of kind when flat is 0.
 */
static ProfileExpanded *
ProfileExpandedCreate(MemoryContext parent, uint8 kind, Datum flat)
{
	/* a first block that holds the state itself (the exact sums are 2 kB) */
	MemoryContext cxt = AllocSetContextCreate(parent, "fs.profile state",
											  0, 4 * 1024, ALLOCSET_DEFAULT_MAXSIZE);
	ProfileExpanded *e = MemoryContextAllocZero(cxt, sizeof(ProfileExpanded));

	EOH_init_header(&e->hdr, &ProfileExpandedMethods, cxt);
	if (flat == (Datum) 0)
		e->state = ProfileStateCreate(cxt, kind);
	else
		e->state = ProfileFromDatum(flat, cxt);
	return e;
}

/* The expanded profile d points to if it is one of ours, else NULL. */
static ProfileExpanded *
ProfileExpandedOf(Datum d)
{
	ExpandedObjectHeader *eoh;

	if (!VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(d)))
		return NULL;
	eoh = DatumGetEOHP(d);
	if (eoh->eoh_methods != &ProfileExpandedMethods)
		return NULL;
	return (ProfileExpanded *) eoh;
}

/* Returns the aggregate context, or fails when not called as an aggregate. */
static MemoryContext
ProfileAggContext(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggctx;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s called in non-aggregate context", fname)));
	return aggctx;
}

/*
 * The state argument as an expanded profile this call may change: the same
 * object between rows, a new one for a NULL state, an expanded copy of a
 * state the executor flattened or handed over read-only.  kind 0 accepts
 * either kind.
 */
static ProfileExpanded *
ProfileStateArg(FunctionCallInfo fcinfo, MemoryContext aggctx, uint8 kind)
{
	ProfileExpanded *e;

	if (PG_ARGISNULL(0))
		return ProfileExpandedCreate(aggctx, kind, (Datum) 0);
	e = ProfileExpandedOf(PG_GETARG_DATUM(0));
	if (e == NULL)
		e = ProfileExpandedCreate(aggctx, kind, PG_GETARG_DATUM(0));
	else if (!VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(PG_GETARG_DATUM(0))) ||
			 MemoryContextGetParent(e->hdr.eoh_context) != aggctx)
	{
		ProfileExpanded *copy = ProfileExpandedCreate(aggctx, e->state->kind, (Datum) 0);

		ProfileMergeInto(copy->state, e->state);
		e = copy;
	}
	if (kind != 0 && e->state->kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot add %s values to a %s fs.profile",
						kind == PROFILE_KIND_TEXT ? "text" : "numeric",
						kind == PROFILE_KIND_TEXT ? "numeric" : "text")));
	return e;
}

/* Forgets the cached flat form after a change. */
static inline void
ProfileChanged(ProfileExpanded *e)
{
	if (unlikely(e->flat != NULL))
	{
		pfree(e->flat);
		e->flat = NULL;
	}
}

#define PG_RETURN_PROFILE_STATE(e) PG_RETURN_DATUM(EOHPGetRWDatum(&(e)->hdr))

/* Transition of fs.profile(float8). */
Datum
profile_float8_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_float8_trans");
	ProfileExpanded *e = ProfileStateArg(fcinfo, aggctx, PROFILE_KIND_NUMERIC);

	ProfileChanged(e);
	if (PG_ARGISNULL(1))
		e->state->nulls++;
	else
		ProfileAddDouble(e->state, PG_GETARG_FLOAT8(1));
	PG_RETURN_PROFILE_STATE(e);
}

/* Transition of fs.profile(numeric): values are profiled as float8. */
Datum
profile_numeric_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_numeric_trans");
	ProfileExpanded *e = ProfileStateArg(fcinfo, aggctx, PROFILE_KIND_NUMERIC);

	ProfileChanged(e);
	if (PG_ARGISNULL(1))
		e->state->nulls++;
	else
		ProfileAddDouble(e->state,
						 DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
															PG_GETARG_DATUM(1))));
	PG_RETURN_PROFILE_STATE(e);
}

/* Transition of fs.profile(text). */
Datum
profile_text_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_text_trans");
	ProfileExpanded *e = ProfileStateArg(fcinfo, aggctx, PROFILE_KIND_TEXT);

	ProfileChanged(e);
	if (PG_ARGISNULL(1))
		e->state->nulls++;
	else
	{
		text	   *t = PG_GETARG_TEXT_PP(1);
		const char *data = VARDATA_ANY(t);
		int32		len = VARSIZE_ANY_EXHDR(t);
		char		shortened[PROFILE_TEXT_MAX_VALUE + 1];

		e->state->count++;
		/* a long value is stored shortened (TextShorten), as in every plan */
		if (len > PROFILE_TEXT_MAX_VALUE)
		{
			len = TextShorten(data, len, shortened);
			data = shortened;
			e->state->flags |= PROFILE_FLAG_SHORTENED;
		}
		TextAdd(e->state, data, len, 1);
	}
	PG_RETURN_PROFILE_STATE(e);
}

/*
 * Merges the profile in argument argno into e (created when NULL, of the
 * input's kind); returns e.
 */
static ProfileExpanded *
ProfileMergeArg(FunctionCallInfo fcinfo, MemoryContext aggctx, ProfileExpanded *e, int argno)
{
	Datum		d = PG_GETARG_DATUM(argno);
	ProfileExpanded *in = ProfileExpandedOf(d);
	MemoryContext tmp = NULL;
	ProfileState *s;

	if (in != NULL)
		s = in->state;			/* read only */
	else
	{
		tmp = AllocSetContextCreate(CurrentMemoryContext, "fs.profile merge",
									ALLOCSET_DEFAULT_SIZES);
		s = ProfileFromDatum(d, tmp);
	}
	if (e == NULL)
		e = ProfileExpandedCreate(aggctx, s->kind, (Datum) 0);
	ProfileChanged(e);
	ProfileMergeInto(e->state, s);
	if (tmp)
		MemoryContextDelete(tmp);
	return e;
}

/* Transition of fs.profile_merge(fs.profile): NULL profiles are skipped. */
Datum
profile_merge_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_merge_trans");
	ProfileExpanded *e;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	e = PG_ARGISNULL(0) ? NULL : ProfileStateArg(fcinfo, aggctx, 0);
	e = ProfileMergeArg(fcinfo, aggctx, e, 1);
	PG_RETURN_PROFILE_STATE(e);
}

/*
 * Combines two partial states (flat or expanded): the first, or a new state
 * when it is NULL, takes in the second, which is only read.
 */
Datum
profile_combine_states(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_combine_states");
	ProfileExpanded *e;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	e = PG_ARGISNULL(0) ? NULL : ProfileStateArg(fcinfo, aggctx, 0);
	e = ProfileMergeArg(fcinfo, aggctx, e, 1);
	PG_RETURN_PROFILE_STATE(e);
}

/* The final profile of a state argument, a new flat value; NULL state: empty of kind. */
static Datum
ProfileStateFinal(FunctionCallInfo fcinfo, uint8 kind)
{
	ProfileExpanded *e;
	bytea	   *result;

	if (PG_ARGISNULL(0))
		PG_RETURN_BYTEA_P(ProfileEncode(ProfileStateCreate(CurrentMemoryContext, kind)));
	e = ProfileExpandedOf(PG_GETARG_DATUM(0));
	if (e == NULL)
	{
		/* a flat state: validated, and the same bytes again */
		ProfileState *s = ProfileFromDatum(PG_GETARG_DATUM(0), CurrentMemoryContext);

		PG_RETURN_BYTEA_P(ProfileEncode(s));
	}
	/* the cached encoding is part of the state: copy it, leave the state as it is */
	(void) ProfileExpandedFlatSize(&e->hdr);
	result = palloc(VARSIZE(e->flat));
	memcpy(result, e->flat, VARSIZE(e->flat));
	PG_RETURN_BYTEA_P(result);
}

/* Final function of fs.profile(float8/numeric): an empty input gives an empty profile. */
Datum
profile_state_final_numeric(PG_FUNCTION_ARGS)
{
	return ProfileStateFinal(fcinfo, PROFILE_KIND_NUMERIC);
}

/* Final function of fs.profile(text): an empty input gives an empty profile. */
Datum
profile_state_final_text(PG_FUNCTION_ARGS)
{
	return ProfileStateFinal(fcinfo, PROFILE_KIND_TEXT);
}

/* Final function of fs.profile_merge: NULL when no profile was merged. */
Datum
profile_state_final_merge(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	return ProfileStateFinal(fcinfo, 0);
}
