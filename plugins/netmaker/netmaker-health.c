/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Does the Netmaker server the token names answer? One HTTPS GET of its
 * health endpoint with libcurl: certificate and host name verified, short
 * timeouts, few redirects and only to https. Nothing secret is sent. */
#include <curl/curl.h>
#include <stdio.h>

#include "netmaker.h"

static inline void curl_easy_cleanupp(CURL **c) {
        if (*c)
                curl_easy_cleanup(*c);
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
                result = curl_global_init(CURL_GLOBAL_DEFAULT);
                done = true;
        }
        return result == CURLE_OK ? 0 : -EIO;
}

/* Every option of the check; false when libcurl refuses one. */
static bool setup(CURL *c, const char *url, char *errbuf) {
        const char *ca = getenv(NETMAKER_CA_FILE_ENV);

        return curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_USERAGENT, "op-dbus/" PACKAGE_VERSION) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, NETMAKER_CONNECT_TIMEOUT_MS) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, NETMAKER_TOTAL_TIMEOUT_MS) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_MAXREDIRS, NETMAKER_MAX_REDIRECTS) == CURLE_OK &&
#if LIBCURL_VERSION_NUM >= 0x075500
               curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") == CURLE_OK &&
#else
               curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long) CURLPROTO_HTTPS) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long) CURLPROTO_HTTPS) == CURLE_OK &&
#endif
               curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
               (!ca || !ca[0] || curl_easy_setopt(c, CURLOPT_CAINFO, ca) == CURLE_OK);
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

        r = global_init();
        if (r < 0) {
                diag_error(d, path, "cannot initialise libcurl for the Netmaker server check");
                return r;
        }
        c = curl_easy_init();
        if (!c)
                return -ENOMEM;
        if (!setup(c, url, errbuf)) {
                diag_error(d, path, "cannot set up the Netmaker server check of %s (%s)", url, curl_version());
                return -EIO;
        }

        rc = curl_easy_perform(c);
        if (rc == CURLE_OK) {
                (void) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
                if (status >= 200 && status < 300)
                        return 0;
                diag_error(d, path, "the Netmaker server does not answer GET %s: HTTP status %ld, expected 2xx",
                           url, status);
                return -EREMOTEIO;
        }

        (void) curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
        r = classify(rc, os_errno, &what);
        diag_error(d, path, "the Netmaker server does not answer GET %s: %s (%s; limits: connect %ld s, total %ld s, %ld redirects)",
                   url, what, errbuf[0] ? errbuf : curl_easy_strerror(rc),
                   NETMAKER_CONNECT_TIMEOUT_MS / 1000, NETMAKER_TOTAL_TIMEOUT_MS / 1000, NETMAKER_MAX_REDIRECTS);
        return r;
}
