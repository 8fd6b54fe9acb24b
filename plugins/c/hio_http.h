/* HTTP for C doers: the host's server and requests (the generated
 * hio_doer_http_* calls) with errors that read as the Rust SDK's. */
#ifndef HIO_HTTP_H
#define HIO_HTTP_H

#include "hio_doer.h"

typedef hio_doer_http_own_server_t hio_server_t;
typedef hio_doer_http_own_request_t hio_request_t;

/* A server on granted address `addr` (HTTPS with the doer's granted
 * certificate when `tls`); false with the reason, naming the address. */
bool hio_listen(const char *addr, bool tls, hio_server_t *server, hio_err_t *err);
/* The address the server is bound to, as a new C string. */
char *hio_server_address(hio_server_t server);
/* The oldest request that arrived; false when there is none. Give it back
 * with hio_request_drop when answered. */
bool hio_next(hio_server_t server, hio_request_t *request);
void hio_request_drop(hio_request_t request);
/* The request's method and target, as new C strings. */
char *hio_request_method(hio_request_t request);
char *hio_request_target(hio_request_t request);
/* Answers with a whole body and ends the response; false with the reason
 * when the connection is gone. `content_type` may be NULL. */
bool hio_reply(hio_request_t request, uint16_t status, const char *content_type, const void *body,
               size_t len, hio_err_t *err);

#endif
