"""Composed-PyTorch baselines of the recursive Gumbel-Max trick's recursions, which
`bench/performance.py` times against structgrad's traces (Kruskal and Chu-Liu-Edmonds sample +
trace log-prob, batch 256, n = 30).

The baselines run the recursion in Python one instance at a time, every level's argmin and
log-normalizer as torch ops, the gradient by autograd; seed 002's own spanning-tree code is batched
over instances and about 3x faster than this stand-in (performance.py times it too, given a
checkout). Each is checked against structgrad's trace log-probability on the same perturbation
before it is timed.
"""
import torch



def kruskal_composed(theta, perturbed):
    """Kruskal on one instance: the trace's log-probability, differentiable in theta (n, n)."""
    n = theta.shape[-1]
    i, j = torch.triu_indices(n, n, 1)
    w, s = theta[i, j], perturbed[i, j].detach()
    label = torch.arange(n)
    log_p = theta.new_zeros(())
    for _ in range(n - 1):
        active = label[i] != label[j]
        t = s.masked_fill(~active, float("-inf")).argmax()
        log_p = log_p + w[t] - torch.logsumexp(w[active], 0)
        label = torch.where(label == label[j[t]], label[i[t]], label)
    return log_p


def cle_composed(theta, perturbed, root=0):
    """Chu-Liu-Edmonds on E = exp(-perturbed), one instance, with every contraction: the trace's
    log-probability, differentiable in theta (n, n)."""
    n = theta.shape[-1]
    keys = ~torch.eye(n, dtype=torch.bool)
    keys[:, root] = False
    residual = torch.exp(-(perturbed.detach() - perturbed.detach()[keys].max())).masked_fill(~keys, float("inf"))
    head_node = torch.arange(n).expand(n, n)  # head of edge u -> v is v
    tail_node = torch.arange(n).unsqueeze(1).expand(n, n)
    node = torch.arange(n)  # super-node of every original node
    zero = torch.zeros(n, n, dtype=torch.bool)
    log_p = theta.new_zeros(())
    next_id = n
    while True:
        in_k = keys & (node[tail_node] != node[head_node])
        heads = [h for h in node.unique().tolist() if h != node[root].item()]
        chosen = {}
        for h in heads:
            group = in_k & (node[head_node] == h)
            forced = group & zero
            if forced.any():
                chosen[h] = forced.nonzero()[0]
                continue
            flat = residual.masked_fill(~group, float("inf"))
            t = divmod(int(flat.argmin()), n)
            log_p = log_p + theta[t] - torch.logsumexp(theta[group], 0)
            residual = torch.where(group, residual - residual[t], residual)
            zero[t] = True
            chosen[h] = torch.tensor(t)
        parent = {h: node[chosen[h][0]].item() for h in heads}
        cycle = None
        for start in heads:
            seen, v = [], start
            while v in parent and v not in seen:
                seen.append(v)
                v = parent[v]
            if v in seen:
                cycle = seen[seen.index(v):]
                break
        if cycle is None:
            return log_p
        node = torch.where(torch.isin(node, torch.tensor(cycle)), torch.tensor(next_id), node)
        next_id += 1
