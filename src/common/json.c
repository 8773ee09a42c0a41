/* JSON helpers; see json.h. */
#include "common/json.h"

#include <errno.h>
#include <string.h>

json_t *ows_json_parse(const char *text, size_t len, struct ows_err *err)
{
	json_error_t je;
	json_t *v;

	v = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (v == NULL)
		ows_err_printf(err, "invalid JSON at line %d column %d: %s",
			       je.line, je.column, je.text);
	return v;
}

static int has_real(const json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_REAL:
		return 1;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, item)
			if (has_real(item))
				return 1;
		return 0;
	case JSON_ARRAY:
		json_array_foreach(v, i, item)
			if (has_real(item))
				return 1;
		return 0;
	default:
		return 0;
	}
}

/* json_dump_callback()'s callback: 0, or -1 (jansson's contract) to stop. */
static int dump_cb(const char *buffer, size_t size, void *data)
{
	return ows_buf_append(data, buffer, size) == 0 ? 0 : -1;
}

int ows_json_canonical(const json_t *v, struct ows_buf *out)
{
	if (has_real(v))
		return -EINVAL;
	/*
	 * jansson sorts keys with strcmp (byte order) under JSON_SORT_KEYS and
	 * emits "," and ":" without spaces under JSON_COMPACT.
	 */
	if (json_dump_callback(v, dump_cb, out,
			       JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) != 0)
		return -ENOMEM;
	return 0;
}

char *ows_json_dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

const char *ows_json_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}
