/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The netlink socket of the nftables library and nothing else: opening
 * it, sending a request or a batch, reading the kernel's answers and
 * notifications. This file is the library's only netlink I/O and the only
 * place that knows the nlmsghdr framing beyond what libnftnl builds, so
 * that the transport can be swapped without touching the model, the diff
 * or the encoding. It uses the kernel's UAPI headers only (no libmnl). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

/* A growing buffer of netlink messages. An all-zero NftBuf is empty. */
typedef struct NftBuf {
        uint8_t *data;
        size_t len;                     /* bytes of complete messages */
        size_t allocated;
} NftBuf;

/* The most one message built with libnftnl may take: the room reserved
 * before building one (libnftnl writes without bounds checks). */
#define NFT_MSG_ROOM (128u * 1024u)

void nft_buf_done(NftBuf *b);
/* Room for one message of up to NFT_MSG_ROOM bytes at the end; returns
 * where it starts (not zeroed: libnftnl writes every byte of a message,
 * padding included). */
int nft_buf_room(NftBuf *b, char **ret);
/* Counts the message just built at the end as part of the buffer. */
void nft_buf_commit(NftBuf *b, const struct nlmsghdr *nlh);

/* Batch framing: NFNL_MSG_BATCH_BEGIN for nftables (with the generation
 * the batch was computed against, if has_genid: the kernel then refuses it
 * with -ERESTART when the ruleset changed meanwhile) and
 * NFNL_MSG_BATCH_END. */
int nft_buf_batch_begin(NftBuf *b, uint32_t seq, bool has_genid, uint32_t genid);
int nft_buf_batch_end(NftBuf *b, uint32_t seq);

typedef struct NftNl NftNl;

/* A NETLINK_NETFILTER socket in the calling thread's namespace; group != 0
 * subscribes it to that multicast group (NFNLGRP_NFTABLES). */
int nft_nl_open(unsigned group, NftNl **ret);
NftNl *nft_nl_close(NftNl *nl);
int nft_nl_fd(const NftNl *nl);
uint32_t nft_nl_portid(const NftNl *nl);
/* Reserves n sequence numbers; returns the first. */
uint32_t nft_nl_seq(NftNl *nl, uint32_t n);

/* Called for each data message of an answer; a negative return stops the
 * reading and is returned. */
typedef int (*NftNlHandler)(const struct nlmsghdr *nlh, void *userdata);

/* Sends one request (a get with NLM_F_ACK, or a dump) and reads its answer
 * to the end. Returns the kernel's errno, -EAGAIN when a dump was
 * interrupted by a change (NLM_F_DUMP_INTR: read it again), or the
 * handler's error. */
int nft_nl_request(NftNl *nl, const struct nlmsghdr *req, NftNlHandler handler, void *userdata);

/* Sends a batch (begin, n messages with sequence numbers first..first+n-1
 * each asking for an ack, end) in one write and reads the answers.
 * errors[i] gets the kernel's answer for message i: 0 (acknowledged) or a
 * negative errno. Returns 0 when every message was acknowledged; the
 * kernel's errno for the batch as a whole (errors[] then all 0), or -EIO
 * when some message failed (see errors[]). */
int nft_nl_batch(NftNl *nl, const NftBuf *batch, uint32_t begin_seq, uint32_t first, size_t n, int *errors);

/* Reads what is queued without blocking, each message to the handler.
 * Returns 1 if the kernel dropped messages because the socket's buffer
 * was full (reading went on), else 0. */
int nft_nl_drain(NftNl *nl, NftNlHandler handler, void *userdata);

/* An nftables notification: its NFT_MSG_* type, family, the sender's
 * netlink port and the table it concerns (every nftables object message
 * names its table in attribute 1; NULL for a generation message).
 * -EBADMSG for another subsystem's or a malformed message. */
typedef struct NftNlEvent {
        uint16_t type;
        int family;
        uint32_t portid;
        const char *table;
} NftNlEvent;

int nft_nl_event(const struct nlmsghdr *nlh, NftNlEvent *ret);
