/*
 * CTLS: the few OpenSSL calls Tandem needs, as plain C functions Swift can call (OpenSSL's
 * option and mode setters are macros Swift cannot import).
 *
 * A context is built from one struct of settings (Redis's tls-* directives); a connection wraps
 * a non-blocking socket. Handshake, read and write return Tandem's convention: bytes (>= 0 for
 * read, 0 meaning the peer closed), or TANDEM_TLS_WANT_READ / _WANT_WRITE (try again when the
 * socket is readable / writable), or TANDEM_TLS_ERROR with the reason in the error buffer.
 */
#ifndef TANDEM_CTLS_H
#define TANDEM_CTLS_H

#include <stddef.h>

#define TANDEM_TLS_WANT_READ (-1)
#define TANDEM_TLS_ERROR (-2)
#define TANDEM_TLS_WANT_WRITE (-3)

typedef struct tandem_tls_config {
    const char *cert_file;
    const char *key_file;
    const char *key_file_pass;
    const char *client_cert_file;
    const char *client_key_file;
    const char *client_key_file_pass;
    const char *dh_params_file;
    const char *ca_cert_file;
    const char *ca_cert_dir;
    const char *protocols;
    const char *ciphers;
    const char *ciphersuites;
    int prefer_server_ciphers;
    int session_caching;
    int session_cache_size;
    int session_cache_timeout;
} tandem_tls_config;

/* Builds the server context (and, in *client_ctx, the one for outgoing connections). Returns
 * NULL and a message in err on failure. */
void *tandem_tls_context_new(const tandem_tls_config *cfg, void **client_ctx, char *err, size_t errlen);
void tandem_tls_context_free(void *ctx);

/* tls-auth-clients: 0 no, 1 yes, 2 optional. */
void *tandem_tls_accept_new(void *ctx, int fd, int auth_clients);
void *tandem_tls_connect_new(void *client_ctx, int fd);
int tandem_tls_handshake(void *conn, char *err, size_t errlen);
long tandem_tls_read(void *conn, void *buf, size_t len, char *err, size_t errlen);
long tandem_tls_write(void *conn, const void *buf, size_t len, char *err, size_t errlen);
int tandem_tls_pending(void *conn);
void tandem_tls_free(void *conn);

#endif
