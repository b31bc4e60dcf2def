/* CTLS: see include/ctls.h. */
#include "ctls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void last_error(char *err, size_t errlen, const char *what) {
    unsigned long e = ERR_peek_last_error();
    char buf[256] = "";
    if (e) ERR_error_string_n(e, buf, sizeof(buf));
    snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
    ERR_clear_error();
}

static int password_callback(char *buf, int size, int rwflag, void *u) {
    (void)rwflag;
    const char *pass = u;
    if (!pass) return -1;
    size_t n = strlen(pass);
    if ((int)n > size) return -1;
    memcpy(buf, pass, n);
    return (int)n;
}

/* "TLSv1.2 TLSv1.3" as Redis parses tls-protocols: the versions not named are disabled. */
static int protocol_options(const char *protocols, long *options, char *err, size_t errlen) {
    if (!protocols || !protocols[0]) {
        *options = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
        return 0;
    }
    int v10 = 0, v11 = 0, v12 = 0, v13 = 0;
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", protocols);
    for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) {
        if (!strcasecmp(tok, "tlsv1")) v10 = 1;
        else if (!strcasecmp(tok, "tlsv1.1")) v11 = 1;
        else if (!strcasecmp(tok, "tlsv1.2")) v12 = 1;
        else if (!strcasecmp(tok, "tlsv1.3")) v13 = 1;
        else {
            snprintf(err, errlen, "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.");
            return -1;
        }
    }
    long o = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3;
    if (!v10) o |= SSL_OP_NO_TLSv1;
    if (!v11) o |= SSL_OP_NO_TLSv1_1;
    if (!v12) o |= SSL_OP_NO_TLSv1_2;
    if (!v13) o |= SSL_OP_NO_TLSv1_3;
    *options = o;
    return 0;
}

/* One context: common options, protocols, ciphers, CA, and a certificate with its key. */
static SSL_CTX *make_context(const tandem_tls_config *cfg, int client, const char *cert, const char *key,
                             const char *pass, char *err, size_t errlen) {
    SSL_CTX *ctx = SSL_CTX_new(client ? TLS_client_method() : TLS_server_method());
    if (!ctx) { last_error(err, errlen, "Failed to create TLS context"); return NULL; }
    long protocols;
    if (protocol_options(cfg->protocols, &protocols, err, errlen) != 0) goto fail;
    /* A peer that closes without close_notify (redis-cli does) is an end of stream, not an error. */
    SSL_CTX_set_options(ctx, protocols | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION
                             | SSL_OP_SINGLE_DH_USE | SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (cfg->prefer_server_ciphers) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (!client) {
        if (cfg->session_caching) {
            SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
            SSL_CTX_sess_set_cache_size(ctx, cfg->session_cache_size);
            SSL_CTX_set_timeout(ctx, cfg->session_cache_timeout);
            SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"tandem", 6);
        } else {
            SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        }
    }
    SSL_CTX_set_default_passwd_cb(ctx, password_callback);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)(pass && pass[0] ? pass : NULL));
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) <= 0) {
        char what[600];
        snprintf(what, sizeof(what), "Failed to load certificate: %s", cert);
        last_error(err, errlen, what);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) <= 0) {
        char what[600];
        snprintf(what, sizeof(what), "Failed to load private key: %s", key);
        last_error(err, errlen, what);
        goto fail;
    }
    const char *cafile = cfg->ca_cert_file && cfg->ca_cert_file[0] ? cfg->ca_cert_file : NULL;
    const char *cadir = cfg->ca_cert_dir && cfg->ca_cert_dir[0] ? cfg->ca_cert_dir : NULL;
    if ((cafile || cadir) && SSL_CTX_load_verify_locations(ctx, cafile, cadir) <= 0) {
        last_error(err, errlen, "Failed to configure CA certificate(s) file/directory");
        goto fail;
    }
    if (cfg->ciphers && cfg->ciphers[0] && !SSL_CTX_set_cipher_list(ctx, cfg->ciphers)) {
        last_error(err, errlen, "Failed to configure ciphers");
        goto fail;
    }
    if (cfg->ciphersuites && cfg->ciphersuites[0] && !SSL_CTX_set_ciphersuites(ctx, cfg->ciphersuites)) {
        last_error(err, errlen, "Failed to configure ciphersuites");
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

void *tandem_tls_context_new(const tandem_tls_config *cfg, void **client_ctx, char *err, size_t errlen) {
    err[0] = 0;
    *client_ctx = NULL;
    if (!cfg->cert_file || !cfg->cert_file[0]) { snprintf(err, errlen, "No tls-cert-file configured!"); return NULL; }
    if (!cfg->key_file || !cfg->key_file[0]) { snprintf(err, errlen, "No tls-key-file configured!"); return NULL; }
    if ((!cfg->ca_cert_file || !cfg->ca_cert_file[0]) && (!cfg->ca_cert_dir || !cfg->ca_cert_dir[0])) {
        snprintf(err, errlen, "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-port is enabled!");
        return NULL;
    }
    SSL_CTX *ctx = make_context(cfg, 0, cfg->cert_file, cfg->key_file, cfg->key_file_pass, err, errlen);
    if (!ctx) return NULL;
    if (cfg->dh_params_file && cfg->dh_params_file[0]) {
        BIO *f = BIO_new_file(cfg->dh_params_file, "r");
        if (!f) {
            snprintf(err, errlen, "Failed to load %s: %s", cfg->dh_params_file, strerror(errno));
            SSL_CTX_free(ctx);
            return NULL;
        }
        EVP_PKEY *dh = PEM_read_bio_Parameters(f, NULL);
        BIO_free(f);
        if (!dh || SSL_CTX_set0_tmp_dh_pkey(ctx, dh) <= 0) {
            if (dh) EVP_PKEY_free(dh);
            last_error(err, errlen, "Failed to load DH params file");
            SSL_CTX_free(ctx);
            return NULL;
        }
    } else {
        SSL_CTX_set_dh_auto(ctx, 1);
    }
    /* Outgoing connections present tls-client-cert-file, or the server's certificate. */
    int own = cfg->client_cert_file && cfg->client_cert_file[0];
    SSL_CTX *cctx = make_context(cfg, 1, own ? cfg->client_cert_file : cfg->cert_file,
                                 own ? cfg->client_key_file : cfg->key_file,
                                 own ? cfg->client_key_file_pass : cfg->key_file_pass, err, errlen);
    if (!cctx) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    *client_ctx = cctx;
    return ctx;
}

void tandem_tls_context_free(void *ctx) {
    if (ctx) SSL_CTX_free(ctx);
}

void *tandem_tls_accept_new(void *ctx, int fd, int auth_clients) {
    SSL *ssl = SSL_new(ctx);
    if (!ssl) return NULL;
    if (auth_clients == 0) SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
    else if (auth_clients == 1) SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    else SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
    SSL_set_fd(ssl, fd);
    SSL_set_accept_state(ssl);
    return ssl;
}

void *tandem_tls_connect_new(void *client_ctx, int fd) {
    SSL *ssl = SSL_new(client_ctx);
    if (!ssl) return NULL;
    SSL_set_fd(ssl, fd);
    SSL_set_connect_state(ssl);
    return ssl;
}

static long outcome(SSL *ssl, int ret, char *err, size_t errlen) {
    int e = SSL_get_error(ssl, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ: return TANDEM_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return TANDEM_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN: return 0;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) {
            if (errno == 0 || ret == 0) return 0; /* the peer closed */
            snprintf(err, errlen, "%s", strerror(errno));
            return TANDEM_TLS_ERROR;
        }
        last_error(err, errlen, "TLS error");
        return TANDEM_TLS_ERROR;
    default:
        last_error(err, errlen, "TLS error");
        return TANDEM_TLS_ERROR;
    }
}

int tandem_tls_handshake(void *conn, char *err, size_t errlen) {
    ERR_clear_error();
    errno = 0;
    int ret = SSL_do_handshake(conn);
    if (ret == 1) return 1;
    long o = outcome(conn, ret, err, errlen);
    if (o == 0) {
        snprintf(err, errlen, "the peer closed the connection during the handshake");
        return TANDEM_TLS_ERROR;
    }
    return (int)o;
}

long tandem_tls_read(void *conn, void *buf, size_t len, char *err, size_t errlen) {
    ERR_clear_error();
    errno = 0;
    int ret = SSL_read(conn, buf, (int)(len > 0x7fffffff ? 0x7fffffff : len));
    if (ret > 0) return ret;
    return outcome(conn, ret, err, errlen);
}

long tandem_tls_write(void *conn, const void *buf, size_t len, char *err, size_t errlen) {
    ERR_clear_error();
    errno = 0;
    int ret = SSL_write(conn, buf, (int)(len > 0x7fffffff ? 0x7fffffff : len));
    if (ret > 0) return ret;
    long o = outcome(conn, ret, err, errlen);
    return o == 0 ? TANDEM_TLS_ERROR : o;
}

int tandem_tls_pending(void *conn) {
    return SSL_pending(conn);
}

void tandem_tls_free(void *conn) {
    if (!conn) return;
    /* One close_notify, never waiting for the peer's. */
    if (SSL_is_init_finished(conn)) SSL_shutdown(conn);
    SSL_free(conn);
}
