"""The rule sweep takes the cluster's rules and chains and nothing else (a listing as
`iptables -t nat -S` printed it with the cluster up, plus rules of someone else's)."""

from __future__ import annotations

from helios.local.kube.netfilter import has_rules, ours, plan

LISTING = r'''-P PREROUTING ACCEPT
-P POSTROUTING ACCEPT
-N KUBE-POSTROUTING
-N KUBE-SERVICES
-N CNI-050acbc5
-N DOCKER
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A POSTROUTING -s 198.18.0.2/32 -m comment --comment "name: \"helios\"" -j CNI-050acbc5
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -m comment --comment "my own rule" -j MASQUERADE
-A KUBE-POSTROUTING -j MASQUERADE --random-fully
-A CNI-050acbc5 -d 198.18.0.0/24 -m comment --comment "name: \"helios\"" -j ACCEPT
'''


def test_the_clusters_jumps_and_chains_are_taken() -> None:
    todo = plan(LISTING)

    assert todo.chains == ["KUBE-POSTROUTING", "KUBE-SERVICES", "CNI-050acbc5"]
    assert todo.rules == [
        ["PREROUTING", "-m", "comment", "--comment", "kubernetes service portals", "-j",
         "KUBE-SERVICES"],
        ["POSTROUTING", "-m", "comment", "--comment", "kubernetes postrouting rules", "-j",
         "KUBE-POSTROUTING"],
        ["POSTROUTING", "-s", "198.18.0.2/32", "-m", "comment", "--comment",
         'name: "helios"', "-j", "CNI-050acbc5"],
    ]


def test_rules_of_others_are_left_alone() -> None:
    assert not ours(["-s", "172.17.0.0/16", "!", "-o", "docker0", "-j", "MASQUERADE"])
    assert not ours(["-m", "comment", "--comment", "my own rule", "-j", "MASQUERADE"])
    assert not ours(["-j", "DOCKER"])


def test_a_rule_of_the_cluster_without_a_jump_is_known_by_its_comment() -> None:
    assert ours(["-m", "comment", "--comment", "kube-router netpol - 4IA2", "-j", "ACCEPT"])


def test_an_nft_table_with_a_rule_is_not_empty() -> None:
    assert has_rules('{"nftables": [{"table": {}}, {"chain": {}}, {"rule": {"expr": []}}]}')
    assert not has_rules('{"nftables": [{"metainfo": {}}, {"table": {}}, {"chain": {}}]}')
    # What cannot be read is taken as holding rules: it is kept.
    assert has_rules("not json")
