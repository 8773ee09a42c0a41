/*
 * One call to an AWS-compatible service: who made it, what it carries,
 * and how it is answered (see aws/service.h for the seam).
 *
 * A call lives in its HTTP request's arena (c->arena): memory a handler
 * needs for the call comes from there and is freed when the reply is
 * sent. Every call is answered exactly once with one of the
 * ows_aws_reply* functions below; the call must not be touched after.
 * Errors take the shape of the service's protocol (service->protocol):
 *
 *   query-XML  <ErrorResponse><Error><Type/><Code/><Message/></Error>
 *              <RequestId/></ErrorResponse>                        (STS)
 *   REST-JSON  X-Amzn-ErrorType: Code, {"Type", "message"}         (Lambda)
 *   JSON 1.0   {"__type": "com.amazonaws.<svc>#Code", "message"}   (DynamoDB)
 *   REST-XML   <Error><Code/><Message/><RequestId/></Error>        (S3)
 */
#ifndef OWS_AWS_CALL_H
#define OWS_AWS_CALL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/service.h"
#include "common/arena.h"
#include "common/err.h"
#include "http/http.h"

struct ows_aws_call {
	const struct ows_aws_service *svc;
	const struct ows_aws_host *host;
	struct ows_http_req *req;    /* borrowed until the reply */
	struct ows_arena *arena;     /* the request's: per-call memory */
	struct ows_aws_caller caller;
	const char *body;            /* BODY_WHOLE: the whole body (arena),
					NUL-terminated */
	size_t len;
	char region[64];             /* the SigV4 scope's */
	char request_id[37];         /* a UUID, sent as x-amzn-RequestId */
	void *data;                  /* free for the service */
	void *priv;                  /* the host's and aws/'s own */
};

/* Answer with status, headers (borrowed) and body (copied). */
void ows_aws_reply(struct ows_aws_call *c, int status,
		   const struct ows_http_header *headers, size_t n_headers,
		   const void *body, size_t len);
/* Answer with a JSON body (v taken), content type of the protocol. */
void ows_aws_reply_json(struct ows_aws_call *c, int status, json_t *v);
/* Answer with JSON text (len bytes, copied), content type of the protocol. */
void ows_aws_reply_json_text(struct ows_aws_call *c, int status,
			     const char *text, size_t len);
/* Answer with an XML body (copied), text/xml or application/xml. */
void ows_aws_reply_xml(struct ows_aws_call *c, int status, const char *xml);
/*
 * Start a streamed answer (a large body: S3's GetObject): status and
 * headers (borrowed) now, the body with ows_http_respond_write on c->req
 * and always ows_http_respond_end after (http/http.h). The call counts
 * as answered from here. -ECANCELED when the call was ended already (a
 * body error): then c->req must not be touched; other errors are
 * ows_http_respond_start's (respond_end still follows).
 */
int ows_aws_reply_start(struct ows_aws_call *c, int status,
			const struct ows_http_header *headers,
			size_t n_headers, int64_t content_length);
/*
 * Answer an error in the service's protocol: code is the AWS error code
 * ("ResourceNotFoundException", "NoSuchKey"), the message printf-style.
 */
void ows_aws_error(struct ows_aws_call *c, int status, const char *code,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * The same with extra members (S3's <Key>, <BucketName>; JSON's fields):
 * extra is an object of strings, borrowed; may be NULL.
 */
void ows_aws_error_with(struct ows_aws_call *c, int status, const char *code,
			const json_t *extra, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * BODY_STREAM services: read the body as a stream, verified as it goes
 * (the hash of x-amz-content-sha256, or aws-chunked with chunk
 * signatures and trailers). cb gets the decoded payload in order; on the
 * last call (last true) the whole body has been verified; status < 0
 * (OWS_EAUTH: a signature or hash did not match; -EMSGSIZE; -ECANCELED)
 * ends it, and the service then answers with an error unless the status
 * is -ECANCELED (the peer is gone; answer anyway, it is harmless).
 */
typedef void (*ows_aws_chunk_cb)(struct ows_aws_call *c, int status,
				 const void *data, size_t len, bool last);
int ows_aws_call_stream(struct ows_aws_call *c, uint64_t limit,
			ows_aws_chunk_cb cb);

/*
 * A call that came in anonymous (no credentials in its headers or query)
 * but carries them in its body, as S3's browser form uploads do (POST
 * Object, fields x-amz-algorithm, x-amz-credential, x-amz-date, policy,
 * x-amz-signature, x-amz-security-token; borrowed): check that signature
 * (HMAC of the base64 policy with the SigV4 signing key of the
 * credential's scope, which must be the node's region and c's service)
 * and make the call the key's caller. The policy's expiration is the
 * service's to check. 0, or an OWS_ESIG_* code with the reason in err
 * (answer it with ows_aws_reply_auth_error); token may be NULL.
 */
int ows_aws_call_auth_post(struct ows_aws_call *c, const char *algorithm,
			   const char *credential, const char *amz_date,
			   const char *policy_b64, const char *signature,
			   const char *token, struct ows_err *err);

/*
 * Signature Version 2, which clients still make for S3 in us-east-1
 * (boto3's generate_presigned_url and generate_presigned_post, aws cli
 * v1's presign): Base64(HMAC-SHA1(secret of akid, string_to_sign))
 * must be signature. The service builds string_to_sign (a form's: the
 * base64 policy; a presigned URL's: S3's StringToSign with its
 * CanonicalizedResource, which only it knows) and checks Expires. 0
 * (the call is then the key's caller), or an OWS_ESIG_* code with err.
 */
int ows_aws_call_auth_v2(struct ows_aws_call *c, const char *akid,
			 const char *string_to_sign, const char *signature,
			 const char *token, struct ows_err *err);

/* Whether c came in anonymous with SigV2 query credentials to check. */
bool ows_aws_call_sigv2(const struct ows_aws_call *c);

/* Answer a failed authentication (rc an OWS_ESIG_* code, reason msg or
   NULL) in c's protocol, as a failed header check is answered. */
void ows_aws_reply_auth_error(struct ows_aws_call *c, int rc, const char *msg);

/*
 * BODY_STREAM services, once the stream's last call came with status 0:
 * the value of trailer name (lowercase, "x-amz-checksum-crc32") of an
 * aws-chunked body into out (cap bytes, truncated): true, or false when
 * the body carried no such trailer.
 */
bool ows_aws_call_trailer(const struct ows_aws_call *c, const char *name,
			  char *out, size_t cap);

/*
 * Hold units of the node's memory budget until c is answered (the JSON
 * values a service keeps parsed while c waits for the log, say): true, or
 * false, holding nothing, when the calls answered later hold so much that
 * units more would pass budget. A call alone may pass it, so that every
 * request the service accepts can be served. Loop thread only.
 */
bool ows_aws_call_reserve(struct ows_aws_call *c, size_t units,
			  size_t budget);

/* The units a call could reserve of budget now: SIZE_MAX when no call
   holds any. */
size_t ows_aws_call_room(size_t budget);

/*
 * The calls that wait for room, in their order of arrival, at most
 * OWS_AWS_CALLS_WAITING: a call that does not fit the budget waits for
 * the calls before it to be answered rather than being refused, so that
 * a steady flow of small calls cannot keep a large one out for ever (the
 * budget is not shared: one call fits only once none holds any).
 */
#define OWS_AWS_CALLS_WAITING 64

/*
 * Queue c until units of budget are free (or no call holds any) and no
 * call that waited before it is still waiting, then cb(c) from a later
 * turn of the loop; cb may reserve, answer, or wait again (it keeps its
 * place in front). A service's calls that arrive while others wait
 * should wait too (ows_aws_calls_waiting). 0, or -EAGAIN when
 * OWS_AWS_CALLS_WAITING wait already (answer c yourself). Loop thread
 * only.
 */
int ows_aws_call_wait(struct ows_aws_call *c, size_t units, size_t budget,
		      void (*cb)(struct ows_aws_call *c));

/* How many calls wait for room now (ows_aws_call_wait). */
size_t ows_aws_calls_waiting(void);

/* A header of the call's request, or NULL. */
const char *ows_aws_header(const struct ows_aws_call *c, const char *name);

#endif
