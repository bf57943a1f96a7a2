/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The parts of agent/lib/rtnl that need no namespaces: error translation
 * and argument checks. The namespace work is tested by
 * tests/integration/test_netlink.py. */

#include <netlink/errno.h>

#include "macro.h"
#include "nl-link.h"
#include "tests.h"

TEST(test_nl_errno) {
        ASSERT_EQ(nl_errno(0), 0);
        ASSERT_EQ(nl_errno(-NLE_EXIST), -EEXIST);
        ASSERT_EQ(nl_errno(NLE_EXIST), -EEXIST);
        ASSERT_EQ(nl_errno(-NLE_NODEV), -ENODEV);
        ASSERT_EQ(nl_errno(-NLE_OBJ_NOTFOUND), -ENOENT);
        ASSERT_EQ(nl_errno(-NLE_NOMEM), -ENOMEM);
        ASSERT_EQ(nl_errno(-NLE_PERM), -EPERM);
        ASSERT_EQ(nl_errno(-NLE_BUSY), -EBUSY);
        ASSERT_EQ(nl_errno(-NLE_DUMP_INTR), -EAGAIN);
        ASSERT_EQ(nl_errno(-NLE_FAILURE), -EIO);
        ASSERT_EQ(nl_errno(-NLE_MAX - 1), -EIO);
        ASSERT_EQ(nl_errno(INT32_MIN), -EIO);

        /* every code maps to a negative errno */
        for (int i = 1; i <= NLE_MAX; i++)
                ASSERT_TRUE(nl_errno(-i) < 0);
}

TEST(test_ifname_valid) {
        ASSERT_TRUE(nl_ifname_valid("eth0"));
        ASSERT_TRUE(nl_ifname_valid("internal_100"));
        ASSERT_TRUE(nl_ifname_valid("abcdefghijklmno"));      /* 15 bytes */
        ASSERT_TRUE(!nl_ifname_valid("abcdefghijklmnop"));    /* 16 bytes */
        ASSERT_TRUE(!nl_ifname_valid(""));
        ASSERT_TRUE(!nl_ifname_valid(NULL));
        ASSERT_TRUE(!nl_ifname_valid("."));
        ASSERT_TRUE(!nl_ifname_valid(".."));
        ASSERT_TRUE(!nl_ifname_valid("a/b"));
        ASSERT_TRUE(!nl_ifname_valid("a:b"));
        ASSERT_TRUE(!nl_ifname_valid("a b"));
        ASSERT_TRUE(!nl_ifname_valid("a\tb"));
}

TEST(test_invalid_arguments) {
        NlLinkConfig c = { .name = "bad/name" };
        NlLinkConfig wide = { .has_ipv4 = true, .ipv4_prefixlen = 33 };
        NlLinkInfo info;

        /* rejected before any socket or namespace is touched */
        ASSERT_EQ(nl_link_move_to_netns("eth0", 0), -EINVAL);
        ASSERT_EQ(nl_link_move_to_netns("eth0", -1), -EINVAL);
        ASSERT_EQ(nl_link_move_to_netns("", 1), -EINVAL);
        ASSERT_EQ(nl_link_find_netns("eth0", 0), -EINVAL);
        ASSERT_EQ(nl_link_configure_in_netns(1, "eth0", &c), -EINVAL);
        ASSERT_EQ(nl_link_configure_in_netns(1, "eth0", &wide), -EINVAL);
        ASSERT_EQ(nl_link_configure_in_netns(1, "eth0", NULL), -EINVAL);
        ASSERT_EQ(nl_link_configure_in_netns(-1, "eth0", &(NlLinkConfig) {}), -EINVAL);
        ASSERT_EQ(nl_link_get_in_netns(0, "eth0", NULL), -EINVAL);
        ASSERT_EQ(nl_link_get_in_netns(0, "", &info), -EINVAL);
        ASSERT_EQ(nl_link_exists_in_netns(-5, "eth0"), -EINVAL);
        ASSERT_EQ(nl_link_delete_in_netns(0, "x/y"), -EINVAL);
        ASSERT_EQ(nl_link_get_tx_checksum_in_netns(-1, "eth0"), -EINVAL);
        ASSERT_EQ(nl_link_set_tx_checksum_in_netns(0, "", false), -EINVAL);
}

int main(void) {
        RUN(test_nl_errno);
        RUN(test_ifname_valid);
        RUN(test_invalid_arguments);
        return 0;
}
