#!/usr/bin/env python3
# A discrete-event model of the persistent decode step (issue 15), for choosing
# what to change next while no GPU is at hand: blocks take items in list order
# (a block free at t takes the next ticket); an item starts once its input op
# is complete plus a latency L (the signal reaching a waiting block) and costs
# its work plus a fixed overhead o (ticket, barriers, the counter, the x
# prologue's share). Work per item: the profile's "working" per item on the
# H100 (docs/notes/performance.md, issue 15, versions 2-3). Calibrated there:
# L ~2 us and o ~3 us reproduce the 1B's measured 630 t/s. Usage:
#   python3 scripts/persistent-model.py
import heapq, sys
def layer_ops(cfg, fuse_rope=False, fuse_merge=False):
    d, q, kv, ffn, kvh, splits, rows = cfg['d'], cfg['q'], cfg['kv'], cfg['ffn'], cfg['kvh'], 8, cfg['rows']
    c = cfg['cost']
    ops = [('qkv', (q + 2*kv)//rows, c['qkv'] + (c['rope'] * 0.25 if fuse_rope else 0))]
    if not fuse_rope: ops.append(('rope', kvh, c['rope']))
    ops.append(('split', kvh*splits, c['split'] + (c['merge'] * 0.3 if fuse_merge else 0)))
    if not fuse_merge: ops.append(('merge', kvh, c['merge']))
    ops += [('wo', d//rows, c['wo']), ('gate_up', ffn//rows, c['gate_up']), ('down', d//rows, c['down'])]
    return ops
def simulate(cfg, blocks=132, L=1.0, o=1.0, scale=1.0, **kw):
    items = []
    op_index = 0
    for layer in range(cfg['layers']):
        for name, n, cost in layer_ops(cfg, **kw):
            for _ in range(n): items.append((op_index, cost * scale, name))
            op_index += 1
    n_ops = op_index
    remaining = [0]*n_ops
    for it in items: remaining[it[0]] += 1
    done_at = [None]*n_ops
    # process items in ticket order; blocks as a heap of free times. An item of op k needs op k-1 done.
    free = [0.0]*blocks; heapq.heapify(free)
    pending_end = [0.0]*n_ops
    for op, cost, name in items:
        t = heapq.heappop(free)
        ready = 0.0 if op == 0 else done_at[op-1]
        if ready is None: raise SystemExit('order')
        start = max(t, ready + L)
        end = start + cost + o
        pending_end[op] = max(pending_end[op], end)
        remaining[op] -= 1
        if remaining[op] == 0: done_at[op] = pending_end[op]
        heapq.heappush(free, end)
    return done_at[-1]
one_b = dict(layers=16, d=2048, q=2048, kv=512, ffn=8192, kvh=8, rows=16,
             cost=dict(qkv=4.0, rope=4.0, split=3.3, merge=3.2, wo=3.5, gate_up=4.2, down=9.9))
smol = dict(layers=30, d=576, q=576, kv=192, ffn=1536, kvh=3, rows=16,
             cost=dict(qkv=2.0, rope=4.0, split=3.3, merge=3.2, wo=2.0, gate_up=2.0, down=3.0))
import copy


def with_rows(cfg, rows):
    c = copy.deepcopy(cfg)
    f = rows / cfg['rows']
    c['rows'] = rows
    for k in ('qkv', 'wo', 'gate_up', 'down'):
        c['cost'][k] *= f
    return c


calibrated = dict(L=2.0, o=3.0)
for name, cfg in (('1B', one_b), ('SmolLM2', smol)):
    print(name)
    for label, c, kw in [
            ('as measured (calibrated: L 2, o 3)', cfg, calibrated),
            ('32 rows an item', with_rows(cfg, 32), calibrated),
            ('item overhead o 1', cfg, dict(L=2.0, o=1.0)),
            ('signal latency L 1', cfg, dict(L=1.0, o=3.0)),
            ('item work x0.5', cfg, dict(calibrated, scale=0.5)),
            ('rope into qkv, merge into split', cfg, dict(calibrated, fuse_rope=True, fuse_merge=True)),
            ('o 1, L 1, both fusions', cfg, dict(L=1.0, o=1.0, fuse_rope=True, fuse_merge=True)),
            ('... and work x0.5', cfg, dict(L=1.0, o=1.0, fuse_rope=True, fuse_merge=True, scale=0.5)),
            ('... and work x0.25', cfg, dict(L=1.0, o=1.0, fuse_rope=True, fuse_merge=True, scale=0.25))]:
        span = simulate(c, **kw)
        print(f"  {label:36s} {span:7.0f} us  {1e6 / (span + 60):6.0f} t/s (60 us outside the kernel)")
