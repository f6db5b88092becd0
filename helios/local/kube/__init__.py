"""A single-node Kubernetes on this machine, as local processes under the supervisor: the
``kube`` group of `helios local up|down` (`make kube-up` / `make kube-down`).

    cluster.py     its facts: paths, addresses, ports, versions; kubectl/crictl/ctr aimed at it
    pki.py         certificates and kubeconfigs (made once, kept)
    config.py      every daemon's configuration and the manifests, from templates/
    daemons.py     etcd, the control plane, containerd, kubelet, kube-proxy, kube-router,
                   metrics-server
    bootstrap.py   the one-off steps between them: host check, images, manifests, waits
    hoststate.py   the sysctls and nft tables recorded before, put back after
    netfilter.py   the rule, chain, ipset and nft table sweep
    teardown.py    pods through the CRI, then the host put back
    group.py       the steps in order, for the supervisor
    versions.env   versions and image names, shared with scripts/kube-install.sh

Binaries and images are built by scripts/kube-install.sh into ~/.cache/helios/kube; the state
is in .helios/kube (the admin's kubeconfig at .helios/kube/kubeconfig). docs/kubernetes.md has
the whole story.
"""
