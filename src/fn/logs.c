/*
 * The logs a function pool keeps: each invocation's output (its instance's
 * stdout and stderr while it ran, framed by START / END / REPORT) is one
 * record; the newest OWS_FN_LOG_KEEP records of a function stay in memory,
 * numbered in the order they were completed, so that `ows logs --follow`
 * can poll for the records after the last number it saw. Output between
 * invocations (a warm instance's init, a dying instance's last words) makes
 * records without a request id.
 */
#include "fn/pool_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char truncated_note[] = "\n[log truncated]\n";

struct log_record *ows__fn_log_open(const char *request_id)
{
	struct log_record *rec = calloc(1, sizeof(*rec));

	if (rec == NULL)
		return NULL;
	rec->time_ms = ows__fn_unix_ms();
	if (request_id != NULL) {
		rec->request_id = strdup(request_id);
		if (rec->request_id == NULL) {
			free(rec);
			return NULL;
		}
	}
	return rec;
}

void ows__fn_log_free(struct log_record *rec)
{
	if (rec == NULL)
		return;
	free(rec->request_id);
	ows_buf_free(&rec->text);
	free(rec);
}

/*
 * A chatty function must not hold the node's memory: past OWS_FN_LOG_MAX
 * the output is dropped (the END and REPORT lines still come, they go
 * through ows__fn_log_printf, which is not capped).
 */
void ows__fn_log_append(struct log_record *rec, const void *data, size_t len)
{
	if (rec == NULL || rec->truncated)
		return;
	if (rec->text.len + len > OWS_FN_LOG_MAX) {
		len = OWS_FN_LOG_MAX - rec->text.len;
		rec->truncated = true;
	}
	ows_buf_append(&rec->text, data, len);
	if (rec->truncated)
		ows_buf_append(&rec->text, truncated_note,
			       sizeof(truncated_note) - 1);
}

void ows__fn_log_printf(struct log_record *rec, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (rec == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		ows_buf_append(&rec->text, line,
			       (size_t)n < sizeof(line) ? (size_t)n
							: sizeof(line) - 1);
}

uint64_t ows__fn_log_commit(struct fn_logs *logs, struct log_record *rec)
{
	size_t slot;

	rec->seq = ++logs->last_seq;
	if (logs->n == OWS_FN_LOG_KEEP) {
		ows__fn_log_free(logs->ring[logs->head]);
		logs->ring[logs->head] = rec;
		logs->head = (logs->head + 1) % OWS_FN_LOG_KEEP;
		return rec->seq;
	}
	slot = (logs->head + logs->n) % OWS_FN_LOG_KEEP;
	logs->ring[slot] = rec;
	logs->n++;
	return rec->seq;
}

void ows__fn_logs_free(struct fn_logs *logs)
{
	for (size_t i = 0; i < logs->n; i++)
		ows__fn_log_free(logs->ring[(logs->head + i) % OWS_FN_LOG_KEEP]);
	logs->n = 0;
}

uint64_t ows_fn_pool_logs(const struct ows_fn_pool *pool, uint64_t since,
			  ows_fn_log_cb cb, void *ud)
{
	const struct fn_logs *logs = &pool->logs;
	uint64_t last = since;

	for (size_t i = 0; i < logs->n; i++) {
		const struct log_record *r =
		    logs->ring[(logs->head + i) % OWS_FN_LOG_KEEP];
		struct ows_fn_log_record out;

		if (r->seq <= since)
			continue;
		out.seq = r->seq;
		out.time_ms = r->time_ms;
		out.request_id = r->request_id;
		out.text = r->text.data != NULL ? r->text.data : "";
		out.len = r->text.len;
		cb(ud, &out);
		last = r->seq;
	}
	return last;
}
