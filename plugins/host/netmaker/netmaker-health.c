/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Does the Netmaker server the token names answer? One HTTPS GET of its
 * health endpoint with libcurl: certificate and host name verified, short
 * timeouts, few redirects and only to https. Nothing secret is sent.
 *
 * libcurl is loaded when the first check runs, not when op-dbus starts:
 * linking it costs every op-dbus process about 6 ms (its TLS and
 * Kerberos libraries initialise themselves at load time), and most runs
 * never check a server. */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>

#include "netmaker.h"

#define LIBCURL_SONAME "libcurl.so.4"

static struct {
        CURLcode (*global_init)(long flags);
        CURL *(*easy_init)(void);
        CURLcode (*easy_setopt)(CURL *c, CURLoption option, ...);
        CURLcode (*easy_perform)(CURL *c);
        CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
        void (*easy_cleanup)(CURL *c);
        const char *(*easy_strerror)(CURLcode code);
        char *(*version)(void);
} lib;

static inline void curl_easy_cleanupp(CURL **c) {
        if (*c)
                lib.easy_cleanup(*c);
}

/* Loads libcurl once; records why it cannot be loaded. */
static int load_libcurl(const char *path, Diag *d) {
        static void *handle = NULL;
        static const struct {
                const char *name;
                void **fn;
        } syms[] = {
                { "curl_global_init", (void **) &lib.global_init },
                { "curl_easy_init", (void **) &lib.easy_init },
                { "curl_easy_setopt", (void **) &lib.easy_setopt },
                { "curl_easy_perform", (void **) &lib.easy_perform },
                { "curl_easy_getinfo", (void **) &lib.easy_getinfo },
                { "curl_easy_cleanup", (void **) &lib.easy_cleanup },
                { "curl_easy_strerror", (void **) &lib.easy_strerror },
                { "curl_version", (void **) &lib.version },
        };

        if (handle)
                return 0;
        handle = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
                diag_error(d, path, "cannot load %s for the Netmaker server check (install the Debian package libcurl4): %s",
                           LIBCURL_SONAME, dlerror());
                return -ENOENT;
        }
        for (size_t i = 0; i < ELEMENTSOF(syms); i++) {
                *syms[i].fn = dlsym(handle, syms[i].name);
                if (!*syms[i].fn) {
                        diag_error(d, path, "%s has no %s", LIBCURL_SONAME, syms[i].name);
                        (void) dlclose(handle);
                        handle = NULL;
                        return -ENOENT;
                }
        }
        return 0;
}

char *netmaker_health_url(const char *api_endpoint, const char *server) {
        char *s;

        if (api_endpoint) {
                size_t n = strlen(api_endpoint);

                while (n > 0 && api_endpoint[n - 1] == '/')
                        n--;
                if (asprintf(&s, "%.*s%s", (int) n, api_endpoint, NETMAKER_HEALTH_PATH) < 0)
                        return NULL;
                return s;
        }
        if (asprintf(&s, "https://%s%s", server, NETMAKER_HEALTH_PATH) < 0)
                return NULL;
        return s;
}

/* The answer's body is not needed: only the status counts. */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata) {
        return size * nmemb;
}

static int global_init(void) {
        static bool done = false;
        static CURLcode result = CURLE_OK;

        if (!done) {
                result = lib.global_init(CURL_GLOBAL_DEFAULT);
                done = true;
        }
        return result == CURLE_OK ? 0 : -EIO;
}

/* Every option of the check; false when libcurl refuses one. */
static bool setup(CURL *c, const char *url, char *errbuf) {
        const char *ca = getenv(NETMAKER_CA_FILE_ENV);

        return lib.easy_setopt(c, CURLOPT_URL, url) == CURLE_OK &&
               lib.easy_setopt(c, CURLOPT_HTTPGET, 1L) == CURLE_OK &&
               lib.easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
               lib.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
               lib.easy_setopt(c, CURLOPT_WRITEFUNCTION, discard) == CURLE_OK &&
               lib.easy_setopt(c, CURLOPT_USERAGENT, "op-dbus/" PACKAGE_VERSION) == CURLE_OK &&
               lib.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, NETMAKER_CONNECT_TIMEOUT_MS) == CURLE_OK &&
               lib.easy_setopt(c, CURLOPT_TIMEOUT_MS, NETMAKER_TOTAL_TIMEOUT_MS) == CURLE_OK &&
               lib.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK &&
               lib.easy_setopt(c, CURLOPT_MAXREDIRS, NETMAKER_MAX_REDIRECTS) == CURLE_OK &&
#if LIBCURL_VERSION_NUM >= 0x075500
               lib.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
               lib.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") == CURLE_OK &&
#else
               lib.easy_setopt(c, CURLOPT_PROTOCOLS, (long) CURLPROTO_HTTPS) == CURLE_OK &&
               lib.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long) CURLPROTO_HTTPS) == CURLE_OK &&
#endif
               lib.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
               lib.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
               (!ca || !ca[0] || lib.easy_setopt(c, CURLOPT_CAINFO, ca) == CURLE_OK);
}

static int failure(const char **ret_what, const char *what, int error) {
        *ret_what = what;
        return error;
}

/* What went wrong, for a failed transfer: a phrase and an error code. */
static int classify(CURLcode rc, long os_errno, const char **ret_what) {
        switch (rc) {
        case CURLE_COULDNT_CONNECT:
                if (os_errno == ECONNREFUSED)
                        return failure(ret_what, "connection refused", -ECONNREFUSED);
                if (os_errno == ETIMEDOUT)
                        return failure(ret_what, "connecting timed out", -ETIMEDOUT);
                return failure(ret_what, "cannot connect", -EHOSTUNREACH);
        case CURLE_OPERATION_TIMEDOUT:
                return failure(ret_what, "no answer in time", -ETIMEDOUT);
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return failure(ret_what, "cannot resolve the host name", -EHOSTUNREACH);
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
                return failure(ret_what, "bad certificate: the server's TLS certificate cannot be verified", -EKEYREJECTED);
        case CURLE_SSL_CACERT_BADFILE:
                return failure(ret_what, "cannot read the CA bundle (" NETMAKER_CA_FILE_ENV ")", -EKEYREJECTED);
        case CURLE_SSL_CONNECT_ERROR:
                return failure(ret_what, "TLS handshake failed", -ECONNABORTED);
        case CURLE_TOO_MANY_REDIRECTS:
                return failure(ret_what, "too many redirects", -ELOOP);
        case CURLE_UNSUPPORTED_PROTOCOL:
                return failure(ret_what, "redirected to a URL that is not https", -EPROTO);
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
                return failure(ret_what, "the connection was closed without an answer", -ECONNRESET);
        default:
                return failure(ret_what, "the request failed", -EIO);
        }
}

int netmaker_health_check(const char *url, const char *path, Diag *d) {
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        const char *what;
        long status = 0, os_errno = 0;
        CURLcode rc;
        int r;

        r = load_libcurl(path, d);
        if (r < 0)
                return r;
        r = global_init();
        if (r < 0) {
                diag_error(d, path, "cannot initialise libcurl for the Netmaker server check");
                return r;
        }
        c = lib.easy_init();
        if (!c)
                return -ENOMEM;
        if (!setup(c, url, errbuf)) {
                diag_error(d, path, "cannot set up the Netmaker server check of %s (%s)", url, lib.version());
                return -EIO;
        }

        rc = lib.easy_perform(c);
        if (rc == CURLE_OK) {
                (void) lib.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
                if (status >= 200 && status < 300)
                        return 0;
                diag_error(d, path, "the Netmaker server does not answer GET %s: HTTP status %ld, expected 2xx",
                           url, status);
                return -EREMOTEIO;
        }

        (void) lib.easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
        r = classify(rc, os_errno, &what);
        diag_error(d, path, "the Netmaker server does not answer GET %s: %s (%s; limits: connect %ld s, total %ld s, %ld redirects)",
                   url, what, errbuf[0] ? errbuf : lib.easy_strerror(rc),
                   NETMAKER_CONNECT_TIMEOUT_MS / 1000, NETMAKER_TOTAL_TIMEOUT_MS / 1000, NETMAKER_MAX_REDIRECTS);
        return r;
}
