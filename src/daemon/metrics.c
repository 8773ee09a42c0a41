/* /metrics on the edge port, in the Prometheus text exposition format. */
#include <inttypes.h>
#include <stdio.h>

#include "common/buf.h"
#include "daemon/metrics.h"

/* Batching (raft/raft.h, struct ows_raft_batch_stats). */
static void metrics_batches(struct ows_core *n, struct ows_buf *b)
{
	struct ows_raft_batch_stats st;

	ows_raft_batch_stats(n->raft, &st);
	ows_buf_printf(b,
		       "# HELP ows_raft_log_appends_total Append requests "
		       "handed to the Raft log's storage.\n"
		       "# TYPE ows_raft_log_appends_total counter\n"
		       "ows_raft_log_appends_total %" PRIu64 "\n"
		       "# HELP ows_raft_log_append_entries_total Entries in "
		       "them.\n"
		       "# TYPE ows_raft_log_append_entries_total counter\n"
		       "ows_raft_log_append_entries_total %" PRIu64 "\n"
		       "# HELP ows_raft_log_writes_total Raft log writes "
		       "(each one write and fsync of the appends queued).\n"
		       "# TYPE ows_raft_log_writes_total counter\n"
		       "ows_raft_log_writes_total %" PRIu64 "\n"
		       "# HELP ows_raft_log_write_entries_total Entries in "
		       "them.\n"
		       "# TYPE ows_raft_log_write_entries_total counter\n"
		       "ows_raft_log_write_entries_total %" PRIu64 "\n"
		       "# HELP ows_raft_log_write_entries_max The most entries "
		       "in one log write.\n"
		       "# TYPE ows_raft_log_write_entries_max gauge\n"
		       "ows_raft_log_write_entries_max %" PRIu64 "\n"
		       "# HELP ows_state_commits_total State machine "
		       "transactions, each holding the entries applied in one "
		       "turn of the loop.\n"
		       "# TYPE ows_state_commits_total counter\n"
		       "ows_state_commits_total %" PRIu64 "\n"
		       "# HELP ows_state_commit_entries_total Entries in "
		       "them.\n"
		       "# TYPE ows_state_commit_entries_total counter\n"
		       "ows_state_commit_entries_total %" PRIu64 "\n"
		       "# HELP ows_state_commit_entries_max The most entries "
		       "in one state machine transaction.\n"
		       "# TYPE ows_state_commit_entries_max gauge\n"
		       "ows_state_commit_entries_max %" PRIu64 "\n",
		       st.appends, st.append_entries, st.writes,
		       st.write_entries, st.write_max, st.commits,
		       st.commit_entries, st.commit_max);
}

void ows_metrics_handle(struct ows_core *n, const struct ows_http_server *edge,
			const struct ows_http_server *gateway,
			struct ows_http_req *req)
{
	struct ows_http_header h = {"Content-Type",
				    "text/plain; version=0.0.4"};
	struct ows_buf b = OWS_BUF_INIT;
	enum ows_raft_role role = ows_raft_role(n->raft);

	ows_buf_printf(&b,
		       "# HELP ows_raft_term Current Raft term.\n"
		       "# TYPE ows_raft_term gauge\n"
		       "ows_raft_term %" PRIu64 "\n"
		       "# HELP ows_raft_role 1 for the role this node has.\n"
		       "# TYPE ows_raft_role gauge\n",
		       ows_raft_term(n->raft));
	for (int r = OWS_RAFT_FOLLOWER; r <= OWS_RAFT_LEADER; r++)
		ows_buf_printf(&b, "ows_raft_role{role=\"%s\"} %d\n",
			       ows_raft_role_name((enum ows_raft_role)r), (int)role == r);
	{
		uint64_t held = 0;
		int stalled = ows_raft_stalled(n->raft, &held);

		ows_buf_printf(&b,
			       "# HELP ows_raft_apply_stalled 1 while this node "
			       "cannot apply the log (storage failure).\n"
			       "# TYPE ows_raft_apply_stalled gauge\n"
			       "ows_raft_apply_stalled %d\n"
			       "# HELP ows_raft_entries_held Committed entries "
			       "waiting to be applied here.\n"
			       "# TYPE ows_raft_entries_held gauge\n"
			       "ows_raft_entries_held %" PRIu64 "\n",
			       stalled != 0, held);
	}
	ows_buf_printf(&b,
		       "# HELP ows_raft_commit_index Highest committed index.\n"
		       "# TYPE ows_raft_commit_index gauge\n"
		       "ows_raft_commit_index %" PRIu64 "\n"
		       "# HELP ows_raft_applied_index Highest applied index.\n"
		       "# TYPE ows_raft_applied_index gauge\n"
		       "ows_raft_applied_index %" PRIu64 "\n"
		       "# HELP ows_ledger_height Accepted ledger entries.\n"
		       "# TYPE ows_ledger_height gauge\n"
		       "ows_ledger_height %" PRIu64 "\n"
		       "# HELP ows_ledger_rejected_total Rejected entries.\n"
		       "# TYPE ows_ledger_rejected_total counter\n"
		       "ows_ledger_rejected_total %" PRIu64 "\n"
		       "# HELP ows_http_requests_total Edge requests answered.\n"
		       "# TYPE ows_http_requests_total counter\n",
		       ows_raft_commit_index(n->raft), n->state.applied,
		       n->state.height, n->state.rejected);
	/* This response is counted when it is sent: include it now. */
	for (int c = 1; c <= 5; c++)
		ows_buf_printf(&b, "ows_http_requests_total{code=\"%dxx\"} %"
			       PRIu64 "\n", c, edge->responses[c] + (c == 2));
	ows_buf_printf(&b,
		       "# HELP ows_http_connections_refused_total Connections "
		       "closed at accept: too many in all, or from one "
		       "address.\n"
		       "# TYPE ows_http_connections_refused_total counter\n"
		       "ows_http_connections_refused_total{port=\"edge\","
		       "reason=\"total\"} %" PRIu64 "\n"
		       "ows_http_connections_refused_total{port=\"edge\","
		       "reason=\"per_address\"} %" PRIu64 "\n"
		       "ows_http_connections_refused_total{port=\"gateway\","
		       "reason=\"total\"} %" PRIu64 "\n"
		       "ows_http_connections_refused_total{port=\"gateway\","
		       "reason=\"per_address\"} %" PRIu64 "\n"
		       "# HELP ows_http_connections_closed_unsent_total "
		       "Connections closed for not taking their answers while "
		       "answers past max_unsent waited.\n"
		       "# TYPE ows_http_connections_closed_unsent_total "
		       "counter\n"
		       "ows_http_connections_closed_unsent_total{port=\"edge\"} "
		       "%" PRIu64 "\n"
		       "ows_http_connections_closed_unsent_total{port="
		       "\"gateway\"} %" PRIu64 "\n"
		       "# HELP ows_http_unsent_bytes Answer bytes written, not "
		       "yet taken by their clients.\n"
		       "# TYPE ows_http_unsent_bytes gauge\n"
		       "ows_http_unsent_bytes{port=\"edge\"} %zu\n"
		       "ows_http_unsent_bytes{port=\"gateway\"} %zu\n"
		       "# HELP ows_http_connections Open connections.\n"
		       "# TYPE ows_http_connections gauge\n"
		       "ows_http_connections{port=\"edge\"} %u\n"
		       "ows_http_connections{port=\"gateway\"} %u\n",
		       edge->refused_total, edge->refused_per_address,
		       gateway->refused_total, gateway->refused_per_address,
		       edge->unsent_closed, gateway->unsent_closed,
		       edge->unsent, gateway->unsent,
		       edge->n_conns, gateway->n_conns);
	metrics_batches(n, &b);
	ows_http_respond(req, 200, &h, 1, b.data, b.len);
	ows_buf_free(&b);
}
