/*
 * profile_sql.c
 *		SQL functions of the fs.profile type: text and binary input and
 *		output, and the support functions of the aggregates as releases up to
 *		0.3 declare them (state internal, a ProfileState), which an
 *		installation not yet updated still calls.  The current aggregates
 *		keep their state as an fs.profile: profile_agg.c.
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "profile_internal.h"

PG_FUNCTION_INFO_V1(profile_in);
PG_FUNCTION_INFO_V1(profile_out);
PG_FUNCTION_INFO_V1(profile_recv);
PG_FUNCTION_INFO_V1(profile_send);
PG_FUNCTION_INFO_V1(profile_float8_sfunc);
PG_FUNCTION_INFO_V1(profile_numeric_sfunc);
PG_FUNCTION_INFO_V1(profile_text_sfunc);
PG_FUNCTION_INFO_V1(profile_merge_sfunc);
PG_FUNCTION_INFO_V1(profile_combine);
PG_FUNCTION_INFO_V1(profile_serialize);
PG_FUNCTION_INFO_V1(profile_deserialize);
PG_FUNCTION_INFO_V1(profile_final_numeric);
PG_FUNCTION_INFO_V1(profile_final_text);
PG_FUNCTION_INFO_V1(profile_final_merge);

/* ---------- I/O ---------- */

/* Returns the argument as a varlena profile after validating it. */
static bytea *
ProfileFromBytes(const char *data, Size len)
{
	bytea	   *result;
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "fs.profile check",
											  ALLOCSET_DEFAULT_SIZES);

	ProfileDecode(data, len, tmp);
	MemoryContextDelete(tmp);
	result = palloc(len + VARHDRSZ);
	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), data, len);
	return result;
}

/* Text input: the hex form of the profile's bytes. */
Datum
profile_in(PG_FUNCTION_ARGS)
{
	const char *str = PG_GETARG_CSTRING(0);
	Size		slen = strlen(str);
	char	   *bytes;

	if (slen % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type fs.profile: odd number of hex digits")));
	bytes = palloc(slen / 2 + 1);
	for (Size i = 0; i < slen; i += 2)
	{
		int			v[2];

		for (int j = 0; j < 2; j++)
		{
			char		c = str[i + j];

			if (c >= '0' && c <= '9')
				v[j] = c - '0';
			else if (c >= 'a' && c <= 'f')
				v[j] = c - 'a' + 10;
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid input syntax for type fs.profile: bad hex digit at position %d",
								(int) (i + j + 1)),
						 errhint("The text form of fs.profile is lowercase hexadecimal.")));
		}
		bytes[i / 2] = (char) (v[0] * 16 + v[1]);
	}
	PG_RETURN_BYTEA_P(ProfileFromBytes(bytes, slen / 2));
}

/* Text output: the profile's bytes in lowercase hex. */
Datum
profile_out(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	Size		len = VARSIZE_ANY_EXHDR(b);
	char	   *out = palloc(len * 2 + 1);

	hex_encode(VARDATA_ANY(b), len, out);
	out[len * 2] = '\0';
	PG_RETURN_CSTRING(out);
}

/* Binary input: the profile's bytes, validated. */
Datum
profile_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	Size		len = buf->len - buf->cursor;
	const char *data = pq_getmsgbytes(buf, len);

	PG_RETURN_BYTEA_P(ProfileFromBytes(data, len));
}

/* Binary output: the profile's bytes. */
Datum
profile_send(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_P_COPY(0);

	PG_RETURN_BYTEA_P(b);
}


/* ---------- aggregates of releases up to 0.3 (internal state) ---------- */

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

/* Transition of fs.profile(float8). */
Datum
profile_float8_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_float8_sfunc");
	ProfileState *s = PG_ARGISNULL(0) ? ProfileStateCreate(aggctx, PROFILE_KIND_NUMERIC)
		: (ProfileState *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1))
		s->nulls++;
	else
		ProfileAddDouble(s, PG_GETARG_FLOAT8(1));
	PG_RETURN_POINTER(s);
}

/* Transition of fs.profile(numeric): values are profiled as float8. */
Datum
profile_numeric_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_numeric_sfunc");
	ProfileState *s = PG_ARGISNULL(0) ? ProfileStateCreate(aggctx, PROFILE_KIND_NUMERIC)
		: (ProfileState *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1))
		s->nulls++;
	else
		ProfileAddDouble(s, DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
															   PG_GETARG_DATUM(1))));
	PG_RETURN_POINTER(s);
}

/* Transition of fs.profile(text). */
Datum
profile_text_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_text_sfunc");
	ProfileState *s = PG_ARGISNULL(0) ? ProfileStateCreate(aggctx, PROFILE_KIND_TEXT)
		: (ProfileState *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1))
		s->nulls++;
	else
	{
		text	   *t = PG_GETARG_TEXT_PP(1);
		const char *data = VARDATA_ANY(t);
		int32		len = VARSIZE_ANY_EXHDR(t);
		char		shortened[PROFILE_TEXT_MAX_VALUE + 1];

		s->count++;
		if (len > PROFILE_TEXT_MAX_VALUE)
		{
			len = TextShorten(data, len, shortened);
			data = shortened;
			s->flags |= PROFILE_FLAG_SHORTENED;
		}
		TextAdd(s, data, len, 1);
	}
	PG_RETURN_POINTER(s);
}

/* Transition of fs.profile_merge(fs.profile): NULL profiles are skipped. */
Datum
profile_merge_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_merge_sfunc");
	ProfileState *s = PG_ARGISNULL(0) ? NULL : (ProfileState *) PG_GETARG_POINTER(0);
	MemoryContext tmp;
	ProfileState *in;

	if (PG_ARGISNULL(1))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(s);
	}
	tmp = AllocSetContextCreate(CurrentMemoryContext, "fs.profile merge",
								ALLOCSET_DEFAULT_SIZES);
	in = ProfileFromDatum(PG_GETARG_DATUM(1), tmp);
	if (s == NULL)
		s = ProfileStateCreate(aggctx, in->kind);
	ProfileMergeInto(s, in);
	MemoryContextDelete(tmp);
	PG_RETURN_POINTER(s);
}

/* Combines two partial states; a NULL first state takes a copy of the second. */
Datum
profile_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_combine");
	ProfileState *a = PG_ARGISNULL(0) ? NULL : (ProfileState *) PG_GETARG_POINTER(0);
	ProfileState *b = PG_ARGISNULL(1) ? NULL : (ProfileState *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = ProfileStateCreate(aggctx, b->kind);
	ProfileMergeInto(a, b);
	PG_RETURN_POINTER(a);
}

/* Serializes a state to the bytes of the equivalent fs.profile. */
Datum
profile_serialize(PG_FUNCTION_ARGS)
{
	ProfileState *s = (ProfileState *) PG_GETARG_POINTER(0);

	(void) ProfileAggContext(fcinfo, "profile_serialize");
	PG_RETURN_BYTEA_P(ProfileEncode(s));
}

/* Deserializes a state, validating it like any other profile bytes. */
Datum
profile_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_deserialize");

	PG_RETURN_POINTER(ProfileFromDatum(PG_GETARG_DATUM(0), aggctx));
}

/* Final function of fs.profile(float8/numeric): an empty input gives an empty profile. */
Datum
profile_final_numeric(PG_FUNCTION_ARGS)
{
	ProfileState *s = PG_ARGISNULL(0) ? NULL : (ProfileState *) PG_GETARG_POINTER(0);

	if (s == NULL)
		s = ProfileStateCreate(CurrentMemoryContext, PROFILE_KIND_NUMERIC);
	PG_RETURN_BYTEA_P(ProfileEncode(s));
}

/* Final function of fs.profile(text): an empty input gives an empty profile. */
Datum
profile_final_text(PG_FUNCTION_ARGS)
{
	ProfileState *s = PG_ARGISNULL(0) ? NULL : (ProfileState *) PG_GETARG_POINTER(0);

	if (s == NULL)
		s = ProfileStateCreate(CurrentMemoryContext, PROFILE_KIND_TEXT);
	PG_RETURN_BYTEA_P(ProfileEncode(s));
}

/* Final function of fs.profile_merge: NULL when no profile was merged. */
Datum
profile_final_merge(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(ProfileEncode((ProfileState *) PG_GETARG_POINTER(0)));
}
