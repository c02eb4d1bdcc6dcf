/*
 * feature_ref.c
 *		The fs.feature_ref type: a reference to one feature (view:feature),
 *		a pinned version of it (view@N:feature) or all features of a view
 *		(view:*, view@N:*).
 *
 * Each part follows SQL identifier rules: unquoted parts fold to lower case,
 * double-quoted parts keep case and may hold any character ("" for a quote).
 * Text and binary input both end in FeatureRefBuild, the single place where a
 * reference is validated; output is canonical (quote_identifier).
 */
#include "postgres.h"

#include "access/hash.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "parser/scansup.h"
#include "utils/builtins.h"

#include "feature_ref.h"

PG_FUNCTION_INFO_V1(feature_ref_in);
PG_FUNCTION_INFO_V1(feature_ref_out);
PG_FUNCTION_INFO_V1(feature_ref_recv);
PG_FUNCTION_INFO_V1(feature_ref_send);
PG_FUNCTION_INFO_V1(feature_ref_make);
PG_FUNCTION_INFO_V1(feature_ref_view);
PG_FUNCTION_INFO_V1(feature_ref_version);
PG_FUNCTION_INFO_V1(feature_ref_feature);
PG_FUNCTION_INFO_V1(feature_ref_eq);
PG_FUNCTION_INFO_V1(feature_ref_ne);
PG_FUNCTION_INFO_V1(feature_ref_lt);
PG_FUNCTION_INFO_V1(feature_ref_le);
PG_FUNCTION_INFO_V1(feature_ref_gt);
PG_FUNCTION_INFO_V1(feature_ref_ge);
PG_FUNCTION_INFO_V1(feature_ref_cmp);
PG_FUNCTION_INFO_V1(feature_ref_hash);

/* Reports a malformed reference, naming the input and the bad part. */
static void
ReportBadRef(const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid feature reference \"%s\"", input),
			 errdetail("%s", detail),
			 errhint("A feature reference looks like view:feature, view@2:feature, view:* or view@2:*.")));
}

/* Checks one name part (view or feature) for emptiness, length and encoding. */
static void
CheckRefName(const char *input, const char *what, const char *name, int len)
{
	if (len == 0)
		ReportBadRef(input, psprintf("The %s name is empty.", what));
	if (len >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("invalid feature reference \"%s\"", input),
				 errdetail("The %s name is %d bytes long; the limit is %d.",
						   what, len, NAMEDATALEN - 1)));
	if (memchr(name, '\0', len) != NULL)
		ReportBadRef(input, psprintf("The %s name contains a zero byte.", what));
	pg_verifymbstr(name, len, false);
}

/*
 * Builds a validated reference; the only constructor, shared by text input,
 * binary input and fs.feature_ref(view, feature, version).  A NULL feature
 * means "all features"; version 0 means "latest".
 */
FeatureRef *
FeatureRefBuild(const char *input, const char *view, int64 version,
				const char *feature)
{
	int			vlen = strlen(view);
	int			flen = feature ? strlen(feature) : 0;
	Size		size;
	FeatureRef *ref;

	CheckRefName(input, "view", view, vlen);
	if (feature)
		CheckRefName(input, "feature", feature, flen);
	if (version < 0 || version > PG_INT32_MAX)
		ReportBadRef(input, "The version must be a positive integer.");

	size = offsetof(FeatureRef, data) + vlen + 1 + flen + 1;
	ref = palloc0(size);
	SET_VARSIZE(ref, size);
	ref->format = FEATURE_REF_FORMAT;
	ref->flags = feature ? 0 : FEATURE_REF_ALL;
	ref->version = (int32) version;
	memcpy(ref->data, view, vlen);
	if (feature)
		memcpy(ref->data + vlen + 1, feature, flen);
	return ref;
}

/* The feature name of a reference, or NULL for view:*. */
const char *
FeatureRefFeature(const FeatureRef *ref)
{
	if (ref->flags & FEATURE_REF_ALL)
		return NULL;
	return ref->data + strlen(ref->data) + 1;
}

/*
 * Reads one identifier starting at *pos: a double-quoted name, or an unquoted
 * one that ends at '@', ':' or the end, folded to lower case.
 */
static char *
ParseRefIdent(const char *input, const char **pos, const char *what)
{
	const char *p = *pos;
	StringInfoData buf;

	initStringInfo(&buf);
	if (*p == '"')
	{
		p++;
		for (;;)
		{
			if (*p == '\0')
				ReportBadRef(input, psprintf("The %s name has an unterminated quote.", what));
			if (*p == '"')
			{
				if (p[1] != '"')
					break;
				p++;
			}
			appendStringInfoChar(&buf, *p);
			p++;
		}
		p++;
		CheckRefName(input, what, buf.data, buf.len);
	}
	else
	{
		const char *start = p;
		char	   *folded;

		while (*p != '\0' && *p != '@' && *p != ':' && !scanner_isspace(*p))
		{
			unsigned char c = (unsigned char) *p;

			if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '_' &&
				!IS_HIGHBIT_SET(c) && !((c >= '0' && c <= '9') || c == '$'))
				ReportBadRef(input, psprintf("The %s name has the character \"%c\"; double-quote names that need it.",
											 what, *p));
			if (p == start && ((c >= '0' && c <= '9') || c == '$'))
				ReportBadRef(input, psprintf("The %s name starts with \"%c\"; double-quote names that need it.",
											 what, *p));
			p++;
		}
		CheckRefName(input, what, start, p - start);
		folded = downcase_identifier(start, p - start, false, false);
		appendStringInfoString(&buf, folded);
	}
	*pos = p;
	return buf.data;
}

/* Parses the text form of a reference. */
static FeatureRef *
FeatureRefParse(const char *input)
{
	const char *p = input;
	char	   *view;
	char	   *feature = NULL;
	int64		version = 0;

	while (scanner_isspace(*p))
		p++;
	view = ParseRefIdent(input, &p, "view");
	if (*p == '@')
	{
		const char *digits = ++p;

		while (*p >= '0' && *p <= '9')
		{
			version = version * 10 + (*p - '0');
			if (version > PG_INT32_MAX)
				ReportBadRef(input, "The version is out of range.");
			p++;
		}
		if (p == digits)
			ReportBadRef(input, "\"@\" must be followed by a version number.");
		if (version == 0)
			ReportBadRef(input, "The version must be a positive integer.");
	}
	if (*p != ':')
		ReportBadRef(input, "A \":\" must separate the view from the feature.");
	p++;
	if (*p == '*')
		p++;
	else
		feature = ParseRefIdent(input, &p, "feature");
	while (scanner_isspace(*p))
		p++;
	if (*p != '\0')
		ReportBadRef(input, psprintf("Unexpected text \"%s\" after the feature.", p));
	return FeatureRefBuild(input, view, version, feature);
}

/* Text input: view[@N]:feature or view[@N]:*. */
Datum
feature_ref_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(FeatureRefParse(PG_GETARG_CSTRING(0)));
}

/* Canonical text form of a reference. */
char *
FeatureRefToString(const FeatureRef *ref)
{
	StringInfoData buf;
	const char *feature = FeatureRefFeature(ref);

	initStringInfo(&buf);
	appendStringInfoString(&buf, quote_identifier(ref->data));
	if (ref->version > 0)
		appendStringInfo(&buf, "@%d", ref->version);
	appendStringInfoChar(&buf, ':');
	appendStringInfoString(&buf, feature ? quote_identifier(feature) : "*");
	return buf.data;
}

/* Text output, canonical. */
Datum
feature_ref_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(FeatureRefToString(PG_GETARG_FEATURE_REF(0)));
}

/*
 * Binary input: format byte, flags byte, int32 version, view, feature.  Every
 * field goes through FeatureRefBuild, as text input does.
 */
Datum
feature_ref_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			format = pq_getmsgbyte(buf);
	int			flags = pq_getmsgbyte(buf);
	int32		version = pq_getmsgint(buf, 4);
	char	   *view;
	char	   *feature;
	int			nbytes;

	if (format != FEATURE_REF_FORMAT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary format %d for fs.feature_ref", format)));
	if ((flags & ~FEATURE_REF_ALL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid flags %d in binary fs.feature_ref", flags)));
	view = pq_getmsgtext(buf, pq_getmsgint(buf, 4), &nbytes);
	if (strlen(view) != nbytes)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("view name in binary fs.feature_ref contains a zero byte")));
	feature = pq_getmsgtext(buf, pq_getmsgint(buf, 4), &nbytes);
	if (strlen(feature) != nbytes)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("feature name in binary fs.feature_ref contains a zero byte")));
	if ((flags & FEATURE_REF_ALL) && feature[0] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("binary fs.feature_ref for all features of \"%s\" also names feature \"%s\"",
						view, feature)));
	PG_RETURN_POINTER(FeatureRefBuild("(binary)", view, version,
									  (flags & FEATURE_REF_ALL) ? NULL : feature));
}

/* Binary output, the mirror of feature_ref_recv. */
Datum
feature_ref_send(PG_FUNCTION_ARGS)
{
	FeatureRef *ref = PG_GETARG_FEATURE_REF(0);
	const char *feature = FeatureRefFeature(ref);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, ref->format);
	pq_sendbyte(&buf, ref->flags);
	pq_sendint32(&buf, ref->version);
	pq_sendint32(&buf, strlen(ref->data));
	pq_sendtext(&buf, ref->data, strlen(ref->data));
	pq_sendint32(&buf, feature ? strlen(feature) : 0);
	if (feature)
		pq_sendtext(&buf, feature, strlen(feature));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* fs.feature_ref(view, feature, version): builds a reference from its parts. */
Datum
feature_ref_make(PG_FUNCTION_ARGS)
{
	char	   *view;
	char	   *feature = NULL;
	int32		version = 0;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the view of a feature reference must not be null")));
	view = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!PG_ARGISNULL(1))
	{
		feature = text_to_cstring(PG_GETARG_TEXT_PP(1));
		if (strcmp(feature, "*") == 0)
			feature = NULL;
	}
	if (!PG_ARGISNULL(2))
	{
		version = PG_GETARG_INT32(2);
		if (version <= 0)
			ReportBadRef(view, "The version must be a positive integer.");
	}
	PG_RETURN_POINTER(FeatureRefBuild(view, view, version, feature));
}

/* The view named by a reference. */
Datum
feature_ref_view(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(PG_GETARG_FEATURE_REF(0)->data));
}

/* The pinned version of a reference, or NULL when it means the latest. */
Datum
feature_ref_version(PG_FUNCTION_ARGS)
{
	FeatureRef *ref = PG_GETARG_FEATURE_REF(0);

	if (ref->version == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(ref->version);
}

/* The feature named by a reference, or NULL for all features. */
Datum
feature_ref_feature(PG_FUNCTION_ARGS)
{
	const char *feature = FeatureRefFeature(PG_GETARG_FEATURE_REF(0));

	if (feature == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(feature));
}

/*
 * Orders references by view name, then version (latest first), then feature
 * (all features after every named one); names compare bytewise.
 */
static int
FeatureRefCompare(const FeatureRef *a, const FeatureRef *b)
{
	int			c = strcmp(a->data, b->data);
	const char *fa,
			   *fb;

	if (c != 0)
		return c < 0 ? -1 : 1;
	if (a->version != b->version)
		return a->version < b->version ? -1 : 1;
	fa = FeatureRefFeature(a);
	fb = FeatureRefFeature(b);
	if (fa == NULL || fb == NULL)
		return (fa == NULL) - (fb == NULL);
	c = strcmp(fa, fb);
	return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

#define FEATURE_REF_CMP_FN(name, test) \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int			c = FeatureRefCompare(PG_GETARG_FEATURE_REF(0), \
									  PG_GETARG_FEATURE_REF(1)); \
	PG_RETURN_BOOL(test); \
}

FEATURE_REF_CMP_FN(feature_ref_eq, c == 0)
FEATURE_REF_CMP_FN(feature_ref_ne, c != 0)
FEATURE_REF_CMP_FN(feature_ref_lt, c < 0)
FEATURE_REF_CMP_FN(feature_ref_le, c <= 0)
FEATURE_REF_CMP_FN(feature_ref_gt, c > 0)
FEATURE_REF_CMP_FN(feature_ref_ge, c >= 0)

/* btree support: three-way comparison. */
Datum
feature_ref_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(FeatureRefCompare(PG_GETARG_FEATURE_REF(0),
									  PG_GETARG_FEATURE_REF(1)));
}

/* hash support: equal references have equal canonical bytes. */
Datum
feature_ref_hash(PG_FUNCTION_ARGS)
{
	FeatureRef *ref = PG_GETARG_FEATURE_REF(0);
	Size		len = VARSIZE(ref) - offsetof(FeatureRef, version);

	return hash_any((const unsigned char *) &ref->version, len);
}
