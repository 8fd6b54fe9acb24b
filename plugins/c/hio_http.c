/* HTTP for C doers (hio_http.h). */
#include "hio_http.h"

#include <stdlib.h>
#include <string.h>

static const char *net_error_kind(uint8_t tag) {
  switch (tag) {
    case HIO_DOER_TCP_NET_ERROR_NOT_GRANTED: return "not granted";
    case HIO_DOER_TCP_NET_ERROR_BAD_ADDRESS: return "bad address";
    case HIO_DOER_TCP_NET_ERROR_LIMIT: return "limit reached";
    default: return "i/o error";
  }
}

bool hio_listen(const char *addr, bool tls, hio_server_t *server, hio_err_t *err) {
  http_doer_string_t a = {(uint8_t *)addr, strlen(addr)};
  hio_doer_http_net_error_t e;
  bool ok = tls ? hio_doer_http_static_server_listen_tls(&a, server, &e)
                : hio_doer_http_static_server_listen(&a, server, &e);
  if (ok) return true;
  /* Every case holds its text in the same place. */
  hio_fail(err, "cannot serve on %s: %s: %.*s", addr, net_error_kind(e.tag), (int)e.val.io.len,
           (const char *)e.val.io.ptr);
  hio_doer_http_net_error_free(&e);
  return false;
}

char *hio_server_address(hio_server_t server) {
  http_doer_string_t s;
  hio_doer_http_method_server_address(hio_doer_http_borrow_server(server), &s);
  return hio_take_string(&s);
}

bool hio_next(hio_server_t server, hio_request_t *request) {
  return hio_doer_http_method_server_next(hio_doer_http_borrow_server(server), request);
}

void hio_request_drop(hio_request_t request) { hio_doer_http_request_drop_own(request); }

char *hio_request_method(hio_request_t request) {
  http_doer_string_t s;
  hio_doer_http_method_request_method(hio_doer_http_borrow_request(request), &s);
  return hio_take_string(&s);
}

char *hio_request_target(hio_request_t request) {
  http_doer_string_t s;
  hio_doer_http_method_request_target(hio_doer_http_borrow_request(request), &s);
  return hio_take_string(&s);
}

bool hio_reply(hio_request_t request, uint16_t status, const char *content_type, const void *body,
               size_t len, hio_err_t *err) {
  hio_doer_http_borrow_request_t r = hio_doer_http_borrow_request(request);
  http_doer_tuple2_string_list_u8_t type = {
      {(uint8_t *)"content-type", strlen("content-type")},
      {(uint8_t *)content_type, content_type == NULL ? 0 : strlen(content_type)},
  };
  hio_doer_http_fields_t headers = {&type, content_type == NULL ? 0 : 1};
  hio_doer_http_fields_t none = {NULL, 0};
  uint64_t length = len;
  if (!hio_doer_http_method_request_respond(r, status, &headers, &length, err)) return false;
  http_doer_list_u8_t bytes = {(uint8_t *)body, len};
  if (hio_doer_http_method_request_write(r, &bytes) != len) {
    return hio_fail(err, "the connection took no body");
  }
  return hio_doer_http_method_request_finish(r, &none, err);
}
