/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What ovs-vswitchd sends on a bridge's management socket, as the
 * OpenFlow client reads it. The first line names the reader:
 *
 *   flow-stats  the rest is the body of one flow-stats multipart reply
 *   stream      the rest is every byte the switch sends: its HELLO, then
 *               messages for a flow dump (request xid 2) and for the
 *               event loop's processing (echo requests, anything else) */
#include "fuzz.h"
#include "ofp-client.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(OfpClient *, ofp_client_free);

static void check_flows(const OfpFlowList *l) {
        FUZZ_CHECK(l->n <= l->allocated);
        for (size_t i = 0; i < l->n; i++)
                FUZZ_CHECK(l->flows[i].body || l->flows[i].body_len == 0);
}

static void run_flow_stats(const uint8_t *data, size_t size) {
        _cleanup_(ofp_flow_list_done) OfpFlowList l = {};

        (void) ofp_parse_flow_stats(data, size, &l);
        check_flows(&l);
}

static void run_stream(const uint8_t *data, size_t size) {
        _cleanup_(fuzz_peer_endp) FuzzPeer *peer = fuzz_peer_begin(data, size);
        _cleanup_(ofp_client_freep) OfpClient *c = NULL;
        _cleanup_(ofp_flow_list_done) OfpFlowList l = {};

        if (ofp_client_connect(fuzz_peer_address(peer), 5000, &c) < 0)
                return;
        if (ofp_client_dump_flows(c, 0, 0, &l) >= 0)
                check_flows(&l);
        (void) ofp_client_process(c);
}

static const FuzzCase cases[] = {
        { "flow-stats", run_flow_stats },
        { "stream", run_stream },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        fuzz_run_case(cases, ELEMENTSOF(cases), data, size);
        return 0;
}
